#include "player_launcher.hpp"

#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
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
      {"mpv",
       {"--profile=low-latency", "--no-terminal", "--force-media-title=p2p-live", "--title=${media-title}"}},
      {"ffplay",
       {"-hide_banner", "-loglevel", "error", "-nostats", "-fflags", "nobuffer", "-flags", "low_delay",
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

// Private to this user: the runtime folder when there is one.
std::string control_socket_path() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  const std::string dir = runtime && *runtime ? runtime : "/tmp";
  return dir + "/p2plive-mpv-" + std::to_string(getpid()) + ".sock";
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

}  // namespace

void PlayerProcess::show_title(const std::string& title) {
  if (control_.empty() || pid_ <= 0) return;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", control_.c_str());
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string shown = title.empty() ? "p2p-live" : title + " · p2p-live";
    const std::string commands =
        "{\"command\":[\"set_property\",\"force-media-title\"," + json_string(shown) + "]}\n" +
        (title.empty() ? "" : "{\"command\":[\"show-text\"," + json_string("♪ " + title) + ",4000]}\n");
    // A few hundred bytes into a fresh socket's buffer: one write, and a player too busy to read it misses
    // one title, never blocks the node.
    [[maybe_unused]] const auto n = write(fd, commands.data(), commands.size());
  }
  close(fd);
}

std::optional<PlayerProcess> PlayerProcess::start(const std::string& url) {
  for (const auto& candidate : candidates()) {
    if (!on_path(candidate.name)) continue;
    std::vector<std::string> argv_text{candidate.name};
    argv_text.insert(argv_text.end(), candidate.args.begin(), candidate.args.end());
    std::string control;
    if (std::string(candidate.name) == "mpv") {
      control = control_socket_path();
      argv_text.push_back("--input-ipc-server=" + control);
    }
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
    if (rc == 0) return PlayerProcess(pid, candidate.name, control);
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
  if (!control_.empty()) unlink(control_.c_str());
}

}  // namespace p2plive::cli
