// The attack harness: one program that speaks the wire format and plays every attack of the threat model
// (core/PROTOCOL.md) against real processes on loopback. Modes that forge source addresses or watch
// others' traffic need root (a raw socket, a packet socket on lo). Each mode runs for --seconds and
// prints one JSON line of what it did.
//
//   attack_peer forger LINK                     4 members posing as forwarders, one per tree, pushing forgeries
//   attack_peer sybils LINK --count N           N members that take slots and forward nothing
//   attack_peer spoof-copies --of A --to B      B's datagrams from A, sent again as A: half late, half altered
//   attack_peer replay --of A --to B            A's datagrams to B, sent again as A and from another host
//   attack_peer spoof-control --of A --to B     Bye, Ack{65534}, unsubscribes "from A" in A's session
//   attack_peer garbage --to B                  random datagrams from random forged sources
//   attack_peer half-open --to B --count N      N joiners that ask for tokens and never finish
//   attack_peer corrupt-proxy --listen L --to B a path that corrupts --share of what it carries
//   attack_peer old-session LINK --to V --when F records a session's chunks as a child; once file F
//                                                exists (the broadcaster restarted) replays them to V
// Common options: --seconds S (10), --rate R datagrams a second (2000).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "member.hpp"
#include "p2plive/link.hpp"
#include "raw_udp.hpp"

using namespace p2plive;
using namespace p2plive::attack;

namespace {

struct Options {
  std::string mode;
  std::optional<Link> link;
  Endpoint of, to, listen;
  double seconds = 10;
  double rate = 2000;
  int count = 8;
  double share = 0.03;
  std::string when;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "attack_peer: %s (see the comment at the top of attack_peer.cpp)\n", why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  if (argc < 2) usage("no mode");
  Options o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("no value for " + a).c_str());
      return argv[++i];
    };
    const auto endpoint = [&]() {
      auto e = Endpoint::parse(value());
      if (!e) usage(("bad address for " + a).c_str());
      return *e;
    };
    if (a == "--of") o.of = endpoint();
    else if (a == "--to") o.to = endpoint();
    else if (a == "--listen") o.listen = endpoint();
    else if (a == "--seconds") o.seconds = std::stod(value());
    else if (a == "--rate") o.rate = std::stod(value());
    else if (a == "--count") o.count = std::stoi(value());
    else if (a == "--share") o.share = std::stod(value());
    else if (a == "--when") o.when = value();
    else if (auto link = Link::parse(a)) o.link = *link;
    else usage(("unknown argument " + a).c_str());
  }
  return o;
}

// Runs `step` until the time is up, pacing it at `rate` calls a second (or every millisecond if 0).
template <class F>
void paced(const Options& o, double rate, F&& step) {
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  std::uint64_t done = 0;
  while (std::chrono::steady_clock::now() < end) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto due = rate > 0 ? static_cast<std::uint64_t>(elapsed * rate) : done + 1;
    while (done < due) {
      step();
      ++done;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rate > 0 && rate < 20000 ? 200 : 50));
  }
}

// A welcome that makes us look like the best parent there is in our home tree: one hop from the
// broadcaster, no delay, room, and children already. (Claiming room in every tree would give us away:
// a viewer forwards in its home tree only.)
wire::Welcome tempting_welcome(const wire::Hello& h, std::uint8_t home, std::uint32_t epoch, std::uint64_t latest) {
  wire::Welcome w;
  w.accepted = h.subscribe;
  w.substream = h.substream;
  const auto room = static_cast<std::uint16_t>(1u << home);
  w.tree = {home, 1, 0, room, room, 8, 0xffff};
  w.time_echo_us = h.time_us;  // so that the asker times a short round trip to us
  w.has_chunks = latest > 0;
  w.epoch = epoch;
  w.latest_seq = latest;
  w.latest_join_seq = latest;
  w.push_from = latest + 1;
  return w;
}

// What the broadcaster's messages say of the stream: its epoch tag and newest chunk.
struct StreamView {
  std::uint32_t epoch = 0;
  std::uint64_t latest = 0;
  void note(const wire::Message& m) {
    if (const auto* w = std::get_if<wire::Welcome>(&m); w && w->has_chunks) {
      epoch = w->epoch;
      latest = std::max(latest, w->latest_seq);
    } else if (const auto* h = std::get_if<wire::Have>(&m); h && !h->bits.empty()) {
      epoch = h->epoch;
      latest = std::max(latest, h->base_seq + h->bits.size() - 1);
    }
  }
};

// One member per tree, each a child of the broadcaster and a forwarder one hop down in its own home tree
// (a viewer forwards in one tree only, so one member could not bait them all), pushing forged chunks to
// whoever subscribes.
int forger(const Options& o) {
  if (!o.link || o.link->peers.empty()) usage("forger needs a link with a peer");
  const auto root = o.link->peers.front();
  struct Forger {
    std::unique_ptr<Member> member;
    std::set<Endpoint> children;
  };
  std::vector<Forger> forgers;
  for (int i = 0; i < 4; ++i) forgers.push_back({std::make_unique<Member>(o.link->key), {}});
  StreamView view;
  const auto other_key = SecretKey::generate();
  std::uint64_t forged = 0, pushes = 0, kind = 0, ticks = 0;
  paced(o, 40, [&] {  // a forged chunk every 25 ms, the stream's own pace
    const auto now = steady_now();
    // Each holds a slot of the broadcaster's in its home tree, renewed every 500 ms: in the broadcaster's
    // peer lists, and fewer slots left there for honest viewers.
    const bool hello_due = ticks++ % 20 == 0;
    for (std::size_t i = 0; i < forgers.size(); ++i) {
      auto& f = forgers[i];
      const auto home = static_cast<std::uint8_t>(i);
      if (hello_due) f.member->send(root, wire::Hello{wire::Role::viewer, true, home, home}, now);
      f.member->pump(now, [&](const Endpoint& from, const wire::Message& m) {
        view.note(m);
        if (const auto* h = std::get_if<wire::Hello>(&m)) {
          f.member->send(from, tempting_welcome(*h, home, view.epoch, view.latest), now);
          if (h->subscribe && h->substream == home) f.children.insert(from);
        }
      });
    }
    if (view.epoch == 0) return;
    Chunk c;
    c.epoch = view.epoch;  // the tag matches; the signature cannot
    c.seq = ChunkSeq{++view.latest};
    c.payload.assign(6000, static_cast<std::uint8_t>(forged));
    if (kind % 3 == 1) c.signature[0] = 1;
    if (kind++ % 3 == 2) sign_chunk(other_key, c);
    for (auto& f : forgers)
      for (const auto& child : f.children) {
        for (std::size_t i = 0; i < wire::fragment_count(c.payload.size()); ++i) f.member->send_fragment(child, c, i);
        ++pushes;
      }
    ++forged;
  });
  std::size_t children = 0;
  for (const auto& f : forgers) children += f.children.size();
  std::printf("{\"mode\":\"forger\",\"forged_chunks\":%llu,\"pushes\":%llu,\"children\":%zu}\n",
              static_cast<unsigned long long>(forged), static_cast<unsigned long long>(pushes), children);
  return children == 0 ? 1 : 0;
}

int sybils(const Options& o) {
  if (!o.link || o.link->peers.empty()) usage("sybils need a link with a peer");
  const auto root = o.link->peers.front();
  std::vector<std::unique_ptr<Member>> members;
  for (int i = 0; i < o.count; ++i) members.push_back(std::make_unique<Member>(o.link->key));
  StreamView view;
  std::uint64_t ticks = 0, accepted = 0, children = 0;
  paced(o, 20, [&] {
    const auto now = steady_now();
    const bool renew = ticks++ % 10 == 0;  // subscriptions renewed every 500 ms, maps likewise
    for (std::size_t i = 0; i < members.size(); ++i) {
      auto& m = *members[i];
      const auto s = static_cast<std::uint8_t>(i % 4);
      if (renew) {
        wire::Hello h;
        h.subscribe = true;
        h.substream = s;
        h.home = s;  // "we forward here": the broadcaster makes room for forwarders
        m.send(root, h, now);
        wire::Have have;  // claims children and every chunk, so as never to look idle
        have.tree = {s, 1, 1, 0, 0, 8, 0xffff};
        have.epoch = view.epoch;
        have.base_seq = view.latest > 63 ? view.latest - 63 : 0;
        have.bits.assign(64, true);
        if (view.epoch) m.send(root, have, now);
      }
      m.pump(now, [&](const Endpoint& from, const wire::Message& msg) {
        view.note(msg);
        if (const auto* w = std::get_if<wire::Welcome>(&msg); w && w->accepted && from == root) ++accepted;
        if (const auto* h = std::get_if<wire::Hello>(&msg)) {  // take children, and give them nothing
          m.send(from, tempting_welcome(*h, s, view.epoch, view.latest), now);
          if (h->subscribe) ++children;
        }
      });
    }
  });
  std::printf("{\"mode\":\"sybils\",\"members\":%d,\"slot_grants\":%llu,\"children_taken\":%llu}\n", o.count,
              static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(children));
  return 0;
}

// Datagrams `of` sends `to`, as a packet socket on lo sees them.
struct Tap {
  Sniffer sniffer;
  std::deque<Captured> seen;
  void drain(const Endpoint& of, const Endpoint& to) {
    while (auto c = sniffer.next(0))
      if (c->from == of && c->to == to) {
        seen.push_back(std::move(*c));
        if (seen.size() > 4000) seen.pop_front();
      }
  }
};

int spoof_copies(const Options& o, bool alter_half) {
  Tap tap;
  RawSender raw;
  if (!tap.sniffer.ok() || !raw.ok()) usage("needs root (raw and packet sockets)");
  std::mt19937 rng(1);
  std::uint64_t sent = 0, altered = 0;
  paced(o, o.rate, [&] {
    tap.drain(o.of, o.to);
    if (tap.seen.size() < 50) return;
    // Half replayed unchanged from well back (seconds, at the stream's rate), half with 8 bytes overwritten.
    const auto& c = tap.seen[rng() % (tap.seen.size() / 2)];
    auto bytes = c.payload;
    if (alter_half && (sent & 1) && bytes.size() > 16) {
      const auto at = 5 + rng() % (bytes.size() - 13);
      for (int i = 0; i < 8; ++i) bytes[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(rng());
      ++altered;
    }
    raw.send(o.of, o.to, bytes);
    ++sent;
  });
  std::printf("{\"mode\":\"spoof-copies\",\"sent\":%llu,\"altered\":%llu,\"captured\":%zu}\n",
              static_cast<unsigned long long>(sent), static_cast<unsigned long long>(altered), tap.seen.size());
  return sent > 0 ? 0 : 1;
}

int replay(const Options& o) {
  Tap tap;
  RawSender raw;
  if (!tap.sniffer.ok() || !raw.ok()) usage("needs root (raw and packet sockets)");
  // "Another host": a socket of our own on another loopback address.
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.2", &local.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(o.to.port);
  std::memcpy(&dst.sin_addr, o.to.address.data() + 12, 4);
  std::mt19937 rng(2);
  std::uint64_t sent = 0;
  paced(o, o.rate, [&] {
    tap.drain(o.of, o.to);
    if (tap.seen.empty()) return;
    const auto& c = tap.seen[rng() % tap.seen.size()];
    if (sent++ & 1) raw.send(o.of, o.to, c.payload);
    else ::sendto(fd, c.payload.data(), c.payload.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
  });
  ::close(fd);
  std::printf("{\"mode\":\"replay\",\"sent\":%llu,\"captured\":%zu}\n", static_cast<unsigned long long>(sent), tap.seen.size());
  return sent > 0 ? 0 : 1;
}

// Messages that once cut links or steered congestion control, in the victim's own session (its
// connection ID, seen on the wire) but without its keys.
int spoof_control(const Options& o) {
  Tap tap;
  RawSender raw;
  if (!tap.sniffer.ok() || !raw.ok()) usage("needs root (raw and packet sockets)");
  std::mt19937 rng(3);
  std::uint64_t sent = 0;
  std::vector<std::uint8_t> connection;
  paced(o, o.rate, [&] {
    tap.drain(o.of, o.to);
    for (const auto& c : tap.seen)
      if (!c.payload.empty() && (c.payload[0] & 0xc0) == session::session_kind && c.payload.size() > 5)
        connection.assign(c.payload.begin() + 1, c.payload.begin() + 5);
    tap.seen.clear();
    if (connection.empty()) return;
    // Bye, Ack{65534} (once enough to halve a rate), and an unsubscribe.
    static const std::vector<std::uint8_t> bye = wire::encode(wire::Bye{});
    static const std::vector<std::uint8_t> ack = wire::encode(wire::Ack{0x01020305, 65534});
    static const std::vector<std::uint8_t> leave = wire::encode(wire::Hello{wire::Role::viewer, false, 0});
    const std::uint8_t types[] = {7, 9, 1};
    const std::vector<std::uint8_t>* bodies[] = {&bye, &ack, &leave};
    std::vector<std::uint8_t> d;
    session::begin_framed(d, 0, types[sent % 3], static_cast<std::uint32_t>(rng()));
    std::copy(connection.begin(), connection.end(), d.begin() + 1);
    const auto& body = *bodies[sent % 3];
    d.insert(d.end(), body.begin(), body.end());
    session::append_tag(d, (std::uint64_t{rng()} << 32) | rng());
    raw.send(o.of, o.to, d);
    ++sent;
  });
  std::printf("{\"mode\":\"spoof-control\",\"sent\":%llu}\n", static_cast<unsigned long long>(sent));
  return sent > 0 ? 0 : 1;
}

int garbage(const Options& o) {
  RawSender raw;
  if (!raw.ok()) usage("needs root (a raw socket)");
  std::mt19937 rng(4);
  std::vector<std::uint8_t> d;
  std::uint64_t sent = 0;
  paced(o, o.rate, [&] {
    d.resize(1 + rng() % 1200);
    for (auto& b : d) b = static_cast<std::uint8_t>(rng());
    // A third looks like a handshake, a third like a session datagram: they reach the deeper checks.
    if (sent % 3 == 0 && d.size() > 3) {
      d[0] = wire::magic0;
      d[1] = wire::version;
      d[2] = static_cast<std::uint8_t>(1 + rng() % 2);
    } else if (sent % 3 == 1) {
      d[0] = static_cast<std::uint8_t>(session::session_kind | (1 + rng() % 10));
    }
    const auto from = Endpoint::v4(0x7f000000u | (rng() & 0xffffff), static_cast<std::uint16_t>(1024 + rng() % 60000));
    raw.send(from, o.to, d);
    ++sent;
  });
  std::printf("{\"mode\":\"garbage\",\"sent\":%llu}\n", static_cast<unsigned long long>(sent));
  return 0;
}

int half_open(const Options& o, const PublicKey& key) {
  std::vector<int> fds;
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(o.to.port);
  std::memcpy(&dst.sin_addr, o.to.address.data() + 12, 4);
  for (int i = 0; i < o.count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
    fds.push_back(fd);
  }
  const auto tag = wire::stream_tag(key);
  const auto ask = session::encode_token_request(tag);
  std::uint64_t asks = 0, retries = 0, initials = 0;
  std::mt19937 rng(5);
  paced(o, 5, [&] {  // every joiner asks again five times a second
    for (const int fd : fds) {
      ::sendto(fd, ask.data(), ask.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
      ++asks;
      std::array<std::uint8_t, 1500> b{};
      while (::recv(fd, b.data(), b.size(), 0) > 0) {
        ++retries;
        // A join with the token it was given, but a key it does not hold and a tag that cannot check out.
        const auto retry = session::decode_handshake(std::span(b.data(), 55), tag);
        if (!retry || !std::holds_alternative<session::Retry>(*retry)) continue;
        session::KxPublic junk{};
        for (auto& x : junk) x = static_cast<std::uint8_t>(rng());
        auto initial = session::encode_initial(tag, std::get<session::Retry>(*retry).token, junk, static_cast<session::ConnectionId>(rng()), 1,
                                               wire::encode(wire::Hello{wire::Role::viewer, true, 0}));
        session::append_tag(initial, rng());
        ::sendto(fd, initial.data(), initial.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
        ++initials;
      }
    }
  });
  for (const int fd : fds) ::close(fd);
  std::printf("{\"mode\":\"half-open\",\"joiners\":%d,\"asks\":%llu,\"retries\":%llu,\"initials\":%llu}\n", o.count,
              static_cast<unsigned long long>(asks), static_cast<unsigned long long>(retries),
              static_cast<unsigned long long>(initials));
  return 0;
}

// A path between one client and `to` that corrupts a share of what it carries, both ways.
int corrupt_proxy(const Options& o) {
  const auto bind_to = [](const Endpoint& e) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(e.port);
    std::memcpy(&a.sin_addr, e.address.data() + 12, 4);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) usage("cannot bind --listen");
    return fd;
  };
  const int outside = bind_to(o.listen);
  const int inside = bind_to(Endpoint::loopback(0));
  const auto address = [](const Endpoint& e) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(e.port);
    std::memcpy(&a.sin_addr, e.address.data() + 12, 4);
    return a;
  };
  const auto upstream = address(o.to);
  std::optional<sockaddr_in> client;
  std::mt19937 rng(6);
  std::uniform_real_distribution<> u(0, 1);
  std::uint64_t carried = 0, corrupted = 0;
  std::array<std::uint8_t, 2048> b{};
  const auto relay = [&](int from_fd, int to_fd, const sockaddr_in& to, bool learn) {
    for (;;) {
      sockaddr_in src{};
      socklen_t len = sizeof src;
      const auto n = ::recvfrom(from_fd, b.data(), b.size(), 0, reinterpret_cast<sockaddr*>(&src), &len);
      if (n <= 0) return;
      if (learn) client = src;
      if (u(rng) < o.share) {
        b[rng() % static_cast<std::size_t>(n)] ^= static_cast<std::uint8_t>(1 + rng() % 255);
        ++corrupted;
      }
      ++carried;
      ::sendto(to_fd, b.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    }
  };
  paced(o, 0, [&] {
    pollfd p[2] = {{outside, POLLIN, 0}, {inside, POLLIN, 0}};
    if (::poll(p, 2, 5) <= 0) return;
    relay(outside, inside, upstream, true);
    if (client) relay(inside, outside, *client, false);
  });
  std::printf("{\"mode\":\"corrupt-proxy\",\"carried\":%llu,\"corrupted\":%llu}\n",
              static_cast<unsigned long long>(carried), static_cast<unsigned long long>(corrupted));
  return 0;
}

// Genuine chunks of one broadcast session, replayed into a viewer's session once the broadcaster has
// started another: they verify, and must still never be played.
int old_session(const Options& o) {
  if (!o.link || o.link->peers.empty()) usage("old-session needs a link with a peer");
  Member me(o.link->key);
  const auto root = o.link->peers.front();
  std::vector<std::vector<std::uint8_t>> recorded;  // fragment bodies
  std::size_t cursor = 0;
  std::uint64_t ticks = 0, replayed = 0;
  bool replaying = false;
  paced(o, 100, [&] {
    const auto now = steady_now();
    if (!replaying && ticks++ % 50 == 0) me.send(root, wire::Hello{wire::Role::viewer, true, 0}, now);
    me.pump(now, [&](const Endpoint&, const wire::Message& m) {
      if (const auto* f = std::get_if<wire::Fragment>(&m); f && !replaying && recorded.size() < 4000) {
        recorded.push_back(wire::encode(*f));
      }
    });
    if (!replaying && !o.when.empty() && ::access(o.when.c_str(), F_OK) == 0) {
      replaying = true;
      me.send(o.to, wire::Hello{}, now);  // a session with the victim, like any peer's
    }
    if (!replaying || !me.established(o.to)) return;
    for (int burst = 0; burst < 20 && !recorded.empty(); ++burst) {  // all of it, again and again
      if (auto m = wire::decode(wire::fragment_type, recorded[cursor++ % recorded.size()])) me.send(o.to, *m, now);
      ++replayed;
    }
  });
  std::printf("{\"mode\":\"old-session\",\"recorded\":%zu,\"replayed\":%llu}\n", recorded.size(),
              static_cast<unsigned long long>(replayed));
  return replayed > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (o.mode == "forger") return forger(o);
  if (o.mode == "sybils") return sybils(o);
  if (o.mode == "spoof-copies") return spoof_copies(o, true);
  if (o.mode == "replay") return replay(o);
  if (o.mode == "spoof-control") return spoof_control(o);
  if (o.mode == "garbage") return garbage(o);
  if (o.mode == "half-open") {
    if (!o.link) usage("half-open needs the link (for the stream's tag)");
    return half_open(o, o.link->key);
  }
  if (o.mode == "corrupt-proxy") return corrupt_proxy(o);
  if (o.mode == "old-session") return old_session(o);
  usage(("unknown mode " + o.mode).c_str());
}
