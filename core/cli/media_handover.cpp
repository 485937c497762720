#include "media_handover.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "console.hpp"

namespace p2plive::cli {

bool is_media_command(const char* name) {
  const std::string_view n = name ? name : "";
  return n == "broadcast" || n == "demo";
}

int hand_over_to_media(char** argv) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto twin = (self.parent_path() / "p2plive-media").string();
    if (access(twin.c_str(), X_OK) == 0) {
      argv[0] = const_cast<char*>(twin.c_str());
      execv(twin.c_str(), argv);
    }
  }
  argv[0] = const_cast<char*>("p2plive-media");
  execvp("p2plive-media", argv);
  return fail(argv[1], std::string("p2plive-media, which runs it, is not beside p2plive nor on PATH (") +
                           std::strerror(errno) + "); install both (ci/setup, or cmake --install)");
}

}  // namespace p2plive::cli
