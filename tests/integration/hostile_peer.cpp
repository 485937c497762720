// A hostile swarm member for tests. It subscribes to a real broadcaster, and for every chunk it receives it
// sends its victims three forgeries of a chunk they don't have yet: an altered payload under the real
// signature, a garbage signature, and a signature by another key. With --replay-when FILE it records the
// genuine fragments instead, and once FILE exists (the broadcaster has restarted: a new session) it replays
// them to its victims, signatures and all. Usage:
//   hostile_peer LINK VICTIM_HOST:PORT... --seconds N [--replay-when FILE]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "p2plive/link.hpp"
#include "protocol/wire.hpp"

using namespace p2plive;

namespace {

sockaddr_in to_sockaddr(const Endpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  std::memcpy(&a.sin_addr, e.address.data() + 12, 4);
  return a;
}

void send_to(int fd, const Endpoint& to, const std::vector<std::uint8_t>& bytes) {
  const auto a = to_sockaddr(to);
  ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a);
}

void send_chunk(int fd, const wire::StreamTag& tag, const Endpoint& to, const Chunk& c) {
  for (std::size_t i = 0; i < wire::fragment_count(c.payload.size()); ++i) send_to(fd, to, wire::encode_fragment(tag, c, i));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: hostile_peer LINK VICTIM... [--seconds N]\n");
    return 2;
  }
  auto link = Link::parse(argv[1]);
  if (!link || link->peers.empty()) {
    std::fprintf(stderr, "hostile_peer: bad link\n");
    return 2;
  }
  std::vector<Endpoint> victims;
  double seconds = 10;
  std::string replay_when;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (std::string(argv[i]) == "--replay-when" && i + 1 < argc) {
      replay_when = argv[++i];
    } else {
      auto v = Endpoint::parse(argv[i]);
      if (!v) return 2;
      victims.push_back(*v);
    }
  }
  const auto tag = wire::stream_tag(link->key);
  const auto broadcaster = link->peers.front();
  const auto other_key = SecretKey::generate();

  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);

  struct Partial {
    std::uint8_t count = 0;
    std::vector<std::uint8_t> body;
    std::size_t last_size = 0;
    std::uint32_t received = 0;
  };
  std::map<std::uint64_t, Partial> partial;
  std::uint64_t forgeries = 0, replayed = 0;
  std::vector<std::vector<std::uint8_t>> recorded;  // genuine fragments, for a replay
  const auto start = std::chrono::steady_clock::now();
  auto last_hello = start - std::chrono::seconds(10);
  std::uint32_t broadcaster_token = 0;
  std::vector<std::uint8_t> buffer(2048);

  while (std::chrono::steady_clock::now() - start < std::chrono::duration<double>(seconds)) {
    if (!replay_when.empty() && ::access(replay_when.c_str(), F_OK) == 0) {
      // The old session's fragments, to every victim, a thousand a second.
      for (const auto& bytes : recorded) {
        for (const auto& v : victims) send_to(fd, v, bytes);
        ++replayed;
        if (replayed % 10 == 0) ::usleep(10'000);
        if (std::chrono::steady_clock::now() - start >= std::chrono::duration<double>(seconds)) break;
      }
      continue;
    }
    if (std::chrono::steady_clock::now() - last_hello > std::chrono::milliseconds(500)) {
      // Subscribe in every substream tree, claiming to forward there so that a full broadcaster makes
      // room, and echo the broadcaster's address token so that it sends us whole chunks.
      // Recording for a replay, one substream is enough, in the tree where the broadcaster has two slots:
      // the attack is the replay, not a stolen slot.
      for (std::uint8_t s = 0; s < (replay_when.empty() ? 4 : 1); ++s) {
        wire::Hello hello;
        hello.subscribe = true;
        hello.nonce = 0x0bad0bad;
        hello.substream = s;
        hello.home = replay_when.empty() ? s : wire::no_substream;
        hello.capacity = replay_when.empty() ? 16 : 0;
        hello.echo = broadcaster_token;
        hello.padding = 200;
        send_to(fd, broadcaster, wire::encode(tag, hello));
      }
      last_hello = std::chrono::steady_clock::now();
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) continue;
    auto m = wire::decode(std::span(buffer.data(), static_cast<std::size_t>(n)), tag);
    if (m && std::holds_alternative<wire::Welcome>(*m)) broadcaster_token = std::get<wire::Welcome>(*m).token;
    if (!m || !std::holds_alternative<wire::Fragment>(*m)) continue;
    if (!replay_when.empty()) {
      if (recorded.size() < 20000) recorded.emplace_back(buffer.begin(), buffer.begin() + n);
      continue;
    }
    const auto& f = std::get<wire::Fragment>(*m);
    auto& part = partial[f.seq];
    if (part.body.empty()) {
      part.count = f.count;
      part.body.resize(f.count * wire::fragment_body_size);
    }
    std::memcpy(part.body.data() + f.index * wire::fragment_body_size, f.body.data(), f.body.size());
    if (f.index + 1 == f.count) part.last_size = f.body.size();
    part.received |= 1u << f.index;
    if (part.received != (1u << part.count) - 1) continue;

    auto body = std::move(part.body);
    body.resize((part.count - 1u) * wire::fragment_body_size + part.last_size);
    partial.erase(f.seq);
    Chunk real;
    if (!wire::chunk_from_body(f.epoch, f.seq, std::move(body), real)) continue;

    // Forge chunks a few sequence numbers ahead, so victims have not verified them yet.
    for (int kind = 0; kind < 3; ++kind) {
      Chunk fake = real;
      fake.seq = ChunkSeq{real.seq.value + 3 + static_cast<std::uint64_t>(kind)};
      if (kind == 0 && !fake.payload.empty()) fake.payload[fake.payload.size() / 2] ^= 0x5a;
      if (kind == 1) fake.signature.fill(0x42);
      if (kind == 2) sign_chunk(other_key, fake);
      for (const auto& v : victims) send_chunk(fd, tag, v, fake);
      ++forgeries;
    }
  }
  ::close(fd);
  if (!replay_when.empty()) {
    std::printf("replayed %llu of %zu recorded fragments\n", static_cast<unsigned long long>(replayed), recorded.size());
    return replayed > 0 ? 0 : 1;
  }
  std::printf("forgeries %llu\n", static_cast<unsigned long long>(forgeries));
  return forgeries > 0 ? 0 : 1;
}
