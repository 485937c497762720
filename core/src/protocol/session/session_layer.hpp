// The session layer: nothing above it hears a stranger until the stranger has proved its address and
// holds keys of a handshake with us (core/PROTOCOL.md, "Sessions").
//
//   A → B  Initial without a token: "give me one" (padded, so that the answer is smaller than the ask)
//   B → A  Retry: a token (a MAC of A's address under a key B rotates) and B's current X25519 key.
//          B keeps no state for A: a forged source address costs B one MAC and a 55-byte answer.
//   A → B  Initial with the token, A's ephemeral key, A's connection ID and A's first message, tagged
//          under the keys of the exchange. Only now does B hold state for A.
//   B → A  Accept, in the session: B's connection ID and, from the broadcaster, a signature by the stream
//          key over both keys and IDs, so that A knows it has reached the genuine broadcaster.
// After that every datagram names its receiver's connection ID and ends in a 64-bit tag; one whose tag
// fails is dropped and counted, and blames nobody. A datagram for an ID we do not know (we restarted, and
// lost the session) is answered by a Retry, so that its sender handshakes again at once; a Retry never
// closes a session that works, it only starts a handshake beside it.
//
// Sans-IO like the rest of the protocol: fed datagrams and "now", polled for datagrams and events.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <variant>
#include <vector>

#include "p2plive/endpoint.hpp"
#include "protocol/session/prefix_budget.hpp"
#include "protocol/session/session_crypto.hpp"
#include "protocol/session/session_wire.hpp"
#include "protocol/time.hpp"
#include "protocol/transmit.hpp"

namespace p2plive::session {

struct SessionConfig {
  wire::StreamTag stream_tag{};
  std::size_t max_sessions = 128;
  std::size_t max_handshakes = 64;       // of our own, in progress at once
  Time key_period = 30s;                 // token keys and our X25519 key rotate; a token lives two periods
  Time handshake_retry = 250ms;          // an unanswered handshake is sent again, the wait doubling...
  std::uint32_t handshake_attempts = 3;  // ...this many times in all (the last at 750 ms, given up at 1.75 s)
  Time rehandshake_interval = 1s;        // a Retry for a working session starts a new handshake at most this often
  Time replace_after_silence = 250ms;    // a new handshake from a peer replaces its session only if that is this quiet
  Time idle_timeout = 15s;
  // What strangers may cost (per second): Retries by the byte, and handshakes (an X25519 exchange each,
  // and the broadcaster's a signature), per source prefix and in all. 64 KiB/s of Retries is a quarter
  // of a 2 Mbit/s stream, 1,200 joiners a second: a flood of forged sources costs no more than that.
  double retry_bytes_per_prefix = 4 * 1024;
  double retry_bytes_total = 64 * 1024;
  double handshakes_per_prefix = 32;
  double handshakes_total = 500;
  std::size_t prefix_buckets = 1024;    // per budget; prefixes beyond share (the simulator's nodes take few)
};

struct SessionStats {
  std::uint64_t handshakes_started = 0;    // by us
  std::uint64_t handshakes_completed = 0;  // by us, Accept received
  std::uint64_t handshakes_failed = 0;     // by us, never answered
  std::uint64_t handshakes_accepted = 0;   // by others, sessions we opened for them
  std::uint64_t retries_sent = 0;
  std::uint64_t retries_limited = 0;       // not sent: that prefix (or everybody) used its budget
  std::uint64_t handshakes_limited = 0;
  std::uint64_t bad_tokens = 0;            // forged, expired, or for another address
  std::uint64_t bad_tags = 0;              // datagrams whose tag failed
  std::uint64_t bad_proofs = 0;            // an Accept claiming the stream with a signature that fails
  std::uint64_t replays = 0;               // packet numbers seen before, or too old
  std::uint64_t unknown_connections = 0;   // session datagrams for IDs we do not have
  std::uint64_t malformed = 0;
  std::uint64_t replaced = 0;              // sessions a new handshake replaced (the peer restarted)
  std::uint64_t replace_refused = 0;       // ...refused, since the old one was still speaking
  std::uint64_t rehandshakes = 0;          // handshakes started because a peer no longer knew our session
  std::uint64_t self_connections = 0;
  std::uint64_t evicted = 0;
};

struct Opened {
  Endpoint peer;
  bool proven = false;          // it signed the handshake with the stream key: it is the broadcaster
  std::optional<Time> rtt;      // the handshake's round trip, as we measured it
  bool inbound = false;         // the peer's handshake, not ours: it reached us
};
struct Closed {
  Endpoint peer;
  bool self = false;            // the address is our own
};
using SessionEvent = std::variant<Opened, Closed>;

// A message that arrived over a session whose tag checked out.
struct Inbound {
  std::uint8_t type = 0;
  std::span<const std::uint8_t> body;  // into the datagram
  ConnectionId session = 0;            // ours: which session it came over
};

class SessionLayer {
 public:
  SessionLayer(SessionConfig config, std::shared_ptr<Crypto> crypto);

  std::optional<Inbound> receive(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now);
  bool established(const Endpoint& peer) const { return sessions_.count(peer) != 0; }
  bool proven(const Endpoint& peer) const;
  // Starts a handshake with `peer` unless one is under way; the message (type and body) rides in its
  // Initial, so that the first answer comes one round trip after the token.
  void connect(const Endpoint& peer, std::uint8_t type, std::span<const std::uint8_t> body, Time now);
  // Frames a message for an established session into `out`; false if there is none.
  bool seal(const Endpoint& peer, std::uint8_t type, std::span<const std::uint8_t> body, std::vector<std::uint8_t>& out);
  // Forgets the session and any handshake with `peer` (it said Bye, or left).
  void close(const Endpoint& peer);
  void handle_timeout(Time now);
  Time next_timeout() const;
  std::optional<Transmit> poll_transmit();
  std::optional<SessionEvent> poll_event();
  // Sessions never evicted to make room (the swarm's parents and children).
  void set_pinned(std::function<bool(const Endpoint&)> pinned) { pinned_ = std::move(pinned); }

  const SessionStats& stats() const { return stats_; }
  std::size_t size() const { return sessions_.size(); }
  std::size_t handshakes() const { return handshakes_.size(); }

 private:
  struct Session {
    Endpoint peer;
    ConnectionId local = 0, remote = 0;
    DirectionKeys keys;
    std::uint64_t client_key_id = 0;  // which handshake made it: a repeated Initial is answered, not obeyed
    bool proven = false;
    std::uint32_t next_packet = 1;
    std::uint32_t largest_packet = 0;
    std::uint64_t seen = 0;           // bit i: largest_packet - i arrived
    Time last_heard{0};
    Time last_rehandshake{-3600s};
  };
  struct Handshake {
    Endpoint peer;
    KxPair ours;
    ConnectionId local = 0;
    std::optional<Token> token;
    KxPublic server_key{};
    DirectionKeys keys;
    std::uint8_t early_type = 0;
    std::vector<std::uint8_t> early_body;
    Time next_send{0};
    Time sent_at{0};
    Time last_retry{-3600s};
    std::uint32_t attempts = 0;
  };
  struct Period {
    std::uint32_t index = 0;
    MacKey token_key{};
    KxPair kx;
  };

  void rotate(Time now);
  const Period* period(std::uint32_t index) const;
  Token mint_token(const Endpoint& to, Time now);
  const Period* check_token(const Endpoint& from, const Token& token, Time now) const;
  void send_retry(const Endpoint& to, Time now);
  std::optional<Inbound> on_initial(const Endpoint& from, const Initial& m, Time now);
  void on_retry(const Endpoint& from, const Retry& m, Time now);
  std::optional<Inbound> on_framed(const Endpoint& from, std::span<const std::uint8_t> datagram, Time now);
  void finish_handshake(Handshake& h, const Framed& f, Time now);
  void send_initial(Handshake& h, Time now);
  bool fresh_packet(Session& s, std::uint32_t packet);
  Session* open_session(const Endpoint& peer, Time now);  // evicts if full; nullptr if it cannot
  void erase_session(const Endpoint& peer);
  ConnectionId fresh_id();
  std::uint64_t key_id(const KxPublic& key) const;

  SessionConfig config_;
  std::shared_ptr<Crypto> crypto_;
  Period current_, previous_;
  bool have_period_ = false;
  PrefixBudget retry_prefix_, handshake_prefix_;
  TokenBucket retry_total_, handshake_total_;
  std::unordered_map<Endpoint, Session, EndpointHash> sessions_;
  std::unordered_map<Endpoint, Handshake, EndpointHash> handshakes_;
  std::unordered_map<ConnectionId, Endpoint> ids_;  // our connection IDs: sessions' and handshakes'
  std::function<bool(const Endpoint&)> pinned_;
  std::deque<Transmit> out_;
  std::deque<SessionEvent> events_;
  Time last_scan_{0};
  SessionStats stats_;
};

}  // namespace p2plive::session
