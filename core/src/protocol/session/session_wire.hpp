// The session layer's datagrams (core/PROTOCOL.md, "Sessions").
//   Initial  'P', version, 1: stream tag, flags, then, with a token: token, client key, client ID, early
//            message, tag. Without one it is only a request for a token, padded to min_initial_size.
//   Retry    'P', version, 2: stream tag, token, the responder's current X25519 key. Stateless.
//   session  0x80|t: the receiver's connection ID, a packet number (not on fragments), a message of type
//            t, and a 64-bit tag over all of it. Three bytes of header: a datagram of another version
//            fails its tag, like any other stranger's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "protocol/session/session_crypto.hpp"
#include "protocol/wire.hpp"

namespace p2plive::session {

// Chosen by the receiver, unique among its own (at most max_sessions and max_handshakes at once): two bytes
// are plenty, and a session's every datagram carries one.
using ConnectionId = std::uint16_t;
inline constexpr std::size_t connection_id_size = 2;

inline constexpr std::uint8_t initial_kind = 1;
inline constexpr std::uint8_t retry_kind = 2;
inline constexpr std::uint8_t session_kind = 0x80;    // | the message type (first byte; 'P' is 0x50)
inline constexpr std::uint8_t accept_type = 16;       // the session layer's own message in a session
inline constexpr std::size_t tag_size = 8;
inline constexpr std::size_t token_size = 16;
inline constexpr std::size_t min_initial_size = 64;
inline constexpr std::size_t session_header_size = 1 + connection_id_size;  // kind, connection ID
inline constexpr std::size_t packet_number_size = 4;
// A fragment in a session: what the framing costs on top of its body.
inline constexpr std::size_t fragment_overhead = session_header_size + wire::fragment_header_size + tag_size;
// Fragments carry no packet number: a replayed one is a duplicate the chunk store drops, and its content
// is signed. Everything else has one, so that a replayed Bye or Hello is recognised and dropped.
inline bool carries_packet_number(std::uint8_t type) { return type != wire::fragment_type; }

// Proof that the holder of a token's address received our Retry there: a MAC of the address, the key
// period and when it was issued (which also times the round trip).
struct Token {
  std::uint32_t period = 0;
  std::uint32_t issued = 0;
  std::uint64_t mac = 0;
};

struct Initial {
  std::optional<Token> token;  // none: a request for one
  KxPublic client_key{};
  ConnectionId client_id = 0;
  std::uint8_t early_type = 0;  // 0: no early message
  std::span<const std::uint8_t> early_body;
  std::span<const std::uint8_t> authenticated;  // what the tag covers
  std::uint64_t tag = 0;
};

struct Retry {
  Token token;
  KxPublic server_key{};
};

struct Framed {
  ConnectionId to = 0;
  std::uint8_t type = 0;
  std::optional<std::uint32_t> packet_number;
  std::span<const std::uint8_t> body;
  std::span<const std::uint8_t> authenticated;
  std::uint64_t tag = 0;
};

// The responder's answer inside the new session: its connection ID and, from the broadcaster, a signature
// by the stream key over the handshake.
struct Accept {
  ConnectionId server_id = 0;
  std::optional<Proof> proof;
};

static_assert(session_header_size + tag_size == wire::session_framing);

inline bool is_session_datagram(std::span<const std::uint8_t> d) { return !d.empty() && (d[0] & 0xc0) == session_kind; }
// The message type of a session datagram, without checking anything else (for drivers that count).
inline std::uint8_t framed_type(std::span<const std::uint8_t> d) { return is_session_datagram(d) ? d[0] & 0x3f : 0; }

std::vector<std::uint8_t> encode_token_request(const wire::StreamTag& tag);
// Without the tag: the caller appends it (append_tag) once it has the keys.
std::vector<std::uint8_t> encode_initial(const wire::StreamTag& tag, const Token& token, const KxPublic& client_key,
                                         ConnectionId client_id, std::uint8_t early_type,
                                         std::span<const std::uint8_t> early_body);
std::vector<std::uint8_t> encode_retry(const wire::StreamTag& tag, const Retry& retry);
// nullopt for anything malformed or of another stream.
std::optional<std::variant<Initial, Retry>> decode_handshake(std::span<const std::uint8_t> datagram,
                                                             const wire::StreamTag& tag);

// Writes a session datagram's header into `out` (replacing its contents); the body follows, then the tag.
void begin_framed(std::vector<std::uint8_t>& out, ConnectionId to, std::uint8_t type,
                  std::optional<std::uint32_t> packet_number);
void append_tag(std::vector<std::uint8_t>& out, std::uint64_t tag);
std::optional<Framed> decode_framed(std::span<const std::uint8_t> datagram);

std::vector<std::uint8_t> encode_accept(const Accept& accept);
std::optional<Accept> decode_accept(std::span<const std::uint8_t> body);
// What the broadcaster signs: both keys and both IDs of this one handshake, and the stream it is of.
std::vector<std::uint8_t> proof_transcript(const wire::StreamTag& tag, const KxPublic& client_key,
                                           const KxPublic& server_key, ConnectionId client_id, ConnectionId server_id);

}  // namespace p2plive::session
