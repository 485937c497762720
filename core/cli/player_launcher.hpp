// --play: starts the first media player found on PATH (mpv, ffplay, VLC) on the node's HTTP stream.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <sys/types.h>

namespace p2plive::cli {

class PlayerProcess {
 public:
  // nullopt if none of the players is installed.
  static std::optional<PlayerProcess> start(const std::string& url);
  PlayerProcess(PlayerProcess&& other) noexcept
      : pid_(other.pid_), name_(std::move(other.name_)), control_(std::move(other.control_)) {
    other.pid_ = -1;
  }
  PlayerProcess& operator=(PlayerProcess&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(name_, other.name_);
    std::swap(control_, other.control_);
    return *this;
  }
  ~PlayerProcess();  // asks a player that is still open to quit, and reaps it

  const std::string& name() const { return name_; }
  // True once the viewer closed the player.
  bool exited();
  // The track now playing, where the player can show it: mpv's window title and a line on its screen,
  // through its JSON IPC socket. A player that cannot is left alone.
  void show_title(const std::string& title);
  // mpv's IPC socket ("" for other players): tests ask it what it shows.
  const std::string& control_socket() const { return control_; }

 private:
  PlayerProcess(pid_t pid, std::string name, std::string control)
      : pid_(pid), name_(std::move(name)), control_(std::move(control)) {}
  pid_t pid_;
  std::string name_;
  std::string control_;
};

// The names --play looks for, in order, for messages.
inline constexpr const char* player_names = "mpv, ffplay or vlc";

}  // namespace p2plive::cli
