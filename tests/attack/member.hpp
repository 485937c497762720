// A swarm member that the attacker controls: a UDP socket and a real session layer (libsodium), so that
// it completes handshakes like anyone else and then says whatever the attack needs.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "protocol/session/session_layer.hpp"
#include "protocol/wire.hpp"

namespace p2plive::attack {

class Member {
 public:
  // Binds 127.0.0.1 (or `host`) on any port.
  Member(const PublicKey& stream_key, const std::string& host = "127.0.0.1");
  ~Member();
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;

  int fd() const { return fd_; }
  Endpoint endpoint() const { return local_; }
  bool established(const Endpoint& peer) const { return layer_.established(peer); }

  // A message in a session with `to`, opening one first if need be (the message rides in the handshake).
  void send(const Endpoint& to, const wire::Message& m, Time now);
  void send_fragment(const Endpoint& to, const Chunk& chunk, std::size_t index);
  // Reads what has arrived (without waiting), hands each message to `on_message`, and sends what the
  // session layer has to say.
  void pump(Time now, const std::function<void(const Endpoint&, const wire::Message&)>& on_message);

 private:
  void flush();
  void send_raw(const Endpoint& to, std::span<const std::uint8_t> bytes);

  int fd_ = -1;
  Endpoint local_;
  session::SessionLayer layer_;
  std::vector<std::uint8_t> scratch_;
};

// Microseconds on the steady clock, as the session layer's "now".
Time steady_now();

}  // namespace p2plive::attack
