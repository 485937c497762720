// The swarm's messages (core/PROTOCOL.md): one per UDP datagram, at most max_datagram bytes with its
// framing. Every one travels inside a session (protocol/session/), whose framing names the message type,
// the receiver's connection ID and ends in an authentication tag; this codec is of the bodies alone.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "p2plive/chunk.hpp"
#include "p2plive/endpoint.hpp"

namespace p2plive::wire {

inline constexpr std::size_t max_datagram = 1200;
inline constexpr std::uint8_t version = 8;
// What a session's framing adds to a message: kind and connection ID (3 bytes) and the 8-byte tag.
// Fragments carry no packet number (session_wire.hpp).
inline constexpr std::size_t session_framing = 11;
inline constexpr std::size_t fragment_header_size = 7;  // epoch tag u16, seq u32, index u4 and count - 1 u4
// A chunk travels as its body: the payload, then a trailer of epoch u64, epoch start u64, timestamp u64,
// flags u8 and the 64-byte signature. The body is cut into fragments of this size; the last one carries
// the rest.
inline constexpr std::size_t fragment_body_size = max_datagram - session_framing - fragment_header_size;
inline constexpr std::size_t chunk_trailer_size = 8 + 8 + 8 + 1 + 64;
// Sequence numbers count chunks within one epoch (a broadcast session) and travel as 32 bits: 3 years of
// 25 ms chunks. A broadcaster starts a new epoch before it would reach this.
inline constexpr std::uint64_t max_seq = 0xfffffffeull;
inline constexpr std::size_t max_fragments = 16;
inline constexpr std::size_t max_peers_per_message = 32;
inline constexpr std::size_t endpoint_size = 18;  // on the wire: 16-byte address, 2-byte port
inline constexpr std::size_t max_have_bits = 512;

// The first bytes of the stream's key, in every handshake: stray traffic of other swarms is dropped at once.
using StreamTag = std::array<std::uint8_t, 4>;
StreamTag stream_tag(const PublicKey& key);
// What a datagram says of the epoch it speaks of: the low 16 bits of the epoch's random 64-bit id, never
// 0 (no epoch) and never the tag of the epoch it follows (the broadcaster draws again), so that a restart
// is told apart from the session before it. The chunk trailer carries the whole id, under the signature.
// Two bytes rather than four in every fragment: 0.1 % of the payload at 2 Mbit/s.
inline std::uint32_t epoch_tag(std::uint64_t epoch) { return static_cast<std::uint16_t>(epoch); }
inline constexpr std::uint32_t from_join_point = 0xffffffffu;  // Hello.from_seq: "from your latest join point"

enum class Role : std::uint8_t { viewer = 0, relay = 1, broadcaster = 2 };
inline constexpr std::uint8_t unknown_depth = 0xff;
inline constexpr std::uint16_t unknown_latency = 0xffff;
inline constexpr std::uint16_t no_feedback = 0xffff;

// Substreams (core/PROTOCOL.md): chunk `seq` belongs to substream seq % substreams, and each substream has
// its own push tree. A viewer forwards in at most one of them, its home.
inline constexpr std::size_t max_substreams = 16;
inline constexpr std::uint8_t no_substream = 0xff;
inline constexpr std::uint8_t every_substream = 0xfe;  // the broadcaster's "home": it roots every tree

// A node's place in the trees, as Welcome and Have both carry it.
struct TreeState {
  std::uint8_t home = no_substream;        // where it forwards
  std::uint8_t depth = unknown_depth;      // hops from the broadcaster in its home tree; 0 is the broadcaster
  std::uint16_t latency_ms = unknown_latency;  // its estimate of how long chunks take to reach it there
  std::uint16_t room = 0;                  // bit s: it would take any child in substream s
  std::uint16_t forwarder_room = 0;        // bit s: it would take a child that forwards in substream s
  std::uint8_t children = 0;               // its children in its home tree
  std::uint16_t displace_rank = 0xffff;    // when full: the worst rank among its forwarding children there;
                                           // a forwarder of clearly better rank would displace that one
};

// A viewer asks a peer for its state. With a `substream`, it asks to be pushed that substream (`subscribe`)
// or to stop (`!subscribe`); without one it only probes.
struct Hello {
  Role role = Role::viewer;          // a claim: only the session's proof makes a peer the broadcaster
  bool subscribe = false;
  std::uint8_t substream = no_substream;
  std::uint8_t home = no_substream;  // where the sender forwards: parents make room for such peers
  std::uint32_t time_us = 0;         // the sender's clock, echoed in the Welcome: a round-trip sample
  std::uint32_t epoch = 0;           // the epoch tag of the chunks the sender holds (0: none yet)
  std::uint32_t from_seq = from_join_point;  // subscribing: push me this substream's chunks from here on,
                                             // those you hold included (in the sender's epoch)
  // The sender is behind a NAT that gives it a new port for every destination: only a peer that anyone
  // can reach (the broadcaster, an open viewer) can ever be its parent, so those keep a slot for it.
  bool needs_reachable = false;
  // A stranger's handshake has reached the sender, one it never sent to: anyone can reach it, so nobody
  // need be introduced to it (a passive AutoNAT).
  bool reachable = false;
};

// The answer to Hello: whether the subscription was accepted, where the live edge is, and some peers.
struct Welcome {
  bool accepted = false;
  std::uint8_t substream = no_substream;  // the one the Hello asked about
  TreeState tree;
  std::uint8_t suggested_home = no_substream;  // the broadcaster: the tree that most needs forwarders
  std::uint32_t time_echo_us = 0;         // the Hello's time_us
  std::uint16_t your_queue_delay_ms = no_feedback;  // what the Hello showed of the receiver's uplink (see Ack)
  std::uint32_t epoch = 0;                // the epoch tag of the answerer's chunks, and that epoch's start
  std::uint64_t epoch_start_us = 0;       // (a claim: only a verified chunk moves a node to another epoch)
  std::uint64_t latest_seq = 0;
  std::uint64_t latest_join_seq = 0;
  std::uint64_t push_from = 0;            // accepted: the first chunk of this substream it pushes us
  bool has_chunks = false;
  bool few_peers = false;                 // the broadcaster knows only a few viewers: ask it for repairs at once
  Endpoint your_address;  // where the Hello came from, as the answerer sees it (BEP 10's yourip)
  std::vector<Endpoint> peers;
};

struct Peers {
  std::vector<Endpoint> peers;
};

// One fragment of a signed chunk's body (payload and trailer).
struct Fragment {
  std::uint32_t epoch = 0;  // tag
  std::uint64_t seq = 0;
  std::uint8_t index = 0;
  std::uint8_t count = 0;
  std::span<const std::uint8_t> body;  // points into the datagram being decoded
};

// A buffer map and a node's state: bit i says the sender holds chunk base_seq + i. It also carries the
// sender's clock, for the receiver's Ack.
struct Have {
  TreeState tree;
  std::uint32_t time_us = 0;
  std::uint32_t epoch = 0;             // tag of the epoch the map is of
  std::uint64_t join_seq = 0;          // the sender's latest join point there
  std::uint64_t base_seq = 0;
  std::vector<bool> bits;
  // The census (core/PROTOCOL.md, "How many listen"): listeners in the subtree the sender roots in its
  // home tree, itself included, summed up the trees; and the broadcaster's count of the whole swarm, and
  // its peak, passed down them.
  std::uint32_t subtree_listeners = 0;
  std::uint32_t listeners = 0;
  std::uint32_t listeners_peak = 0;
};

// The answer to a Have: how much longer than the sender's fastest its stamped datagrams lately took to
// get here (queueing on its uplink), at once, for its congestion control. It echoes the Have's clock, so
// that the sender takes only answers to maps it really sent.
struct Ack {
  std::uint32_t echo_us = 0;
  std::uint16_t your_queue_delay_ms = no_feedback;
};

// Please send these fragments of chunk `seq` (bit i = fragment i).
struct Request {
  std::uint32_t epoch = 0;  // tag
  std::uint64_t seq = 0;
  std::uint16_t fragment_mask = 0;
};

struct Bye {};

// To the broadcaster: its child `accused` lists chunks of this substream but does not pass them on.
struct Report {
  std::uint8_t substream = 0;
  Endpoint accused;
};

// Rendezvous (BEP 55's, over our sessions): a peer that holds sessions with two others tells each of them
// of the other at the same moment. Both say hello at once, so that each one's NAT has let out a datagram to
// the other before the other's arrives: two peers behind filtering NATs meet without either being reachable.
// With `request`, the sender asks to be introduced to `peer` (it heard of it from us, and its hello alone
// would die at peer's NAT): we introduce both, if we hold sessions with both.
struct Introduce {
  Endpoint peer;
  bool request = false;
};

using Message = std::variant<Hello, Welcome, Peers, Fragment, Have, Request, Bye, Report, Ack, Introduce>;

// A message's type, as the session framing carries it (1 to 10, in the order of Message).
inline constexpr std::uint8_t fragment_type = 4;
std::uint8_t type_of(const Message& message);

// Whether a datagram is one of ours: a handshake starts with 'P' and the version, a session datagram with
// a byte of 0x80 to 0xbf. A UDP tracker's replies never are: they start with a 32-bit action number below 4.
inline constexpr std::uint8_t magic0 = 'P';
inline bool has_magic(std::span<const std::uint8_t> datagram) {
  if (datagram.empty()) return false;
  return (datagram[0] & 0xc0) == 0x80 || (datagram.size() >= 2 && datagram[0] == magic0 && datagram[1] == version);
}

// nullopt for anything malformed: unknown type, truncated, oversized, bad counts, trailing bytes.
std::optional<Message> decode(std::uint8_t type, std::span<const std::uint8_t> body);
std::vector<std::uint8_t> encode(const Message& message);
void encode(const Message& message, std::vector<std::uint8_t>& out);  // replaces out's contents

// Size of a chunk's body on the wire, and the number of fragments it travels in.
inline std::size_t chunk_body_size(std::size_t payload_size) { return payload_size + chunk_trailer_size; }
std::size_t fragment_count(std::size_t payload_size);
// Fragment `index` of a chunk, encoded as a message body, into `out` (replacing its contents).
void encode_fragment(const Chunk& chunk, std::size_t index, std::vector<std::uint8_t>& out);
// The epoch tag, seq and index of a fragment's body without decoding it (for drivers); nullopt if it is
// too short.
struct FragmentKey {
  std::uint32_t epoch = 0;
  std::uint64_t seq = 0;
  std::uint8_t index = 0;
  bool operator==(const FragmentKey&) const = default;
};
std::optional<FragmentKey> peek_fragment(std::span<const std::uint8_t> body);
// A reassembled body back into a chunk; false if it is too short or too long to be one, or if its epoch
// is not the one its fragments were tagged with.
bool chunk_from_body(std::uint32_t epoch_tag, std::uint64_t seq, std::vector<std::uint8_t>&& body, Chunk& out);

}  // namespace p2plive::wire
