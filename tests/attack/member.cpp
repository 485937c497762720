#include "member.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <stdexcept>

namespace p2plive::attack {

Time steady_now() {
  return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now().time_since_epoch());
}

Member::Member(const PublicKey& stream_key, const std::string& host)
    : layer_(session::SessionConfig{.stream_tag = wire::stream_tag(stream_key)}, session::sodium_crypto(stream_key, nullptr)) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind " + host);
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  local_ = Endpoint::v4(ntohl(a.sin_addr.s_addr), ntohs(a.sin_port));
}

Member::~Member() {
  if (fd_ >= 0) ::close(fd_);
}

void Member::send_raw(const Endpoint& to, std::span<const std::uint8_t> bytes) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(to.port);
  std::memcpy(&a.sin_addr, to.address.data() + 12, 4);
  ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

void Member::send(const Endpoint& to, const wire::Message& m, Time now) {
  const auto body = wire::encode(m);
  if (layer_.seal(to, wire::type_of(m), body, scratch_)) send_raw(to, scratch_);
  else layer_.connect(to, wire::type_of(m), body, now);
  flush();
}

void Member::send_fragment(const Endpoint& to, const Chunk& chunk, std::size_t index) {
  std::vector<std::uint8_t> body;
  wire::encode_fragment(chunk, index, body);
  if (layer_.seal(to, wire::fragment_type, body, scratch_)) send_raw(to, scratch_);
}

void Member::pump(Time now, const std::function<void(const Endpoint&, const wire::Message&)>& on_message) {
  std::array<std::uint8_t, 2048> buffer{};
  for (;;) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    const auto n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&a), &len);
    if (n <= 0) break;
    const auto from = Endpoint::v4(ntohl(a.sin_addr.s_addr), ntohs(a.sin_port));
    if (auto in = layer_.receive(from, std::span(buffer.data(), static_cast<std::size_t>(n)), now))
      if (auto m = wire::decode(in->type, in->body)) on_message(from, *m);
  }
  if (now >= layer_.next_timeout()) layer_.handle_timeout(now);
  while (layer_.poll_event()) {
  }
  flush();
}

void Member::flush() {
  while (auto t = layer_.poll_transmit()) send_raw(t->to, t->bytes);
}

}  // namespace p2plive::attack
