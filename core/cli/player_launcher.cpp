#include "player_launcher.hpp"

#include <csignal>
#include <cstdlib>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace p2plive::cli {
namespace {

struct PlayerCommand {
  const char* name;
  std::vector<std::string> args;  // after the program name, before the URL
};

// Each player's own low-latency settings, and quiet terminals: the node's status line owns the terminal.
std::vector<PlayerCommand> candidates() {
  return {
      {"mpv", {"--profile=low-latency", "--no-terminal", "--title=p2p-live"}},
      {"ffplay", {"-hide_banner", "-loglevel", "error", "-nostats", "-fflags", "nobuffer", "-flags", "low_delay",
                  "-window_title", "p2p-live"}},
      {"vlc", {"--quiet", "--network-caching=500"}},
  };
}

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string dirs = path;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const auto dir = dirs.substr(start, end - start);
    const auto file = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (access(file.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

std::optional<PlayerProcess> PlayerProcess::start(const std::string& url) {
  for (const auto& candidate : candidates()) {
    if (!on_path(candidate.name)) continue;
    std::vector<std::string> argv_text{candidate.name};
    argv_text.insert(argv_text.end(), candidate.args.begin(), candidate.args.end());
    argv_text.push_back(url);
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);

    // The CLI blocks SIGINT/SIGTERM to wait for them; the player must get them as usual.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, candidate.name, nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    if (rc == 0) return PlayerProcess(pid, candidate.name);
  }
  return std::nullopt;
}

bool PlayerProcess::exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return true;
  }
  return false;
}

PlayerProcess::~PlayerProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
}

}  // namespace p2plive::cli
