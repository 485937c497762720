#include "protocol/session/session_wire.hpp"

#include <algorithm>

#include "protocol/big_endian.hpp"

namespace p2plive::session {
namespace {

void handshake_header(std::vector<std::uint8_t>& out, std::uint8_t kind, const wire::StreamTag& tag) {
  out.push_back(wire::magic0);
  out.push_back(wire::version);
  out.push_back(kind);
  out.insert(out.end(), tag.begin(), tag.end());
}

void put_token(std::vector<std::uint8_t>& out, const Token& t) {
  put_be(out, t.period, 4);
  put_be(out, t.issued, 4);
  put_be(out, t.mac, 8);
}

Token get_token(std::span<const std::uint8_t> in, std::size_t at) {
  return Token{static_cast<std::uint32_t>(get_be(in, at, 4)), static_cast<std::uint32_t>(get_be(in, at + 4, 4)), get_be(in, at + 8, 8)};
}

constexpr std::size_t handshake_header_size = 3 + 4;
constexpr std::size_t initial_fixed = handshake_header_size + 1 + token_size + 32 + connection_id_size + 1;  // up to the early body

}  // namespace

std::vector<std::uint8_t> encode_token_request(const wire::StreamTag& tag) {
  std::vector<std::uint8_t> out;
  handshake_header(out, initial_kind, tag);
  out.push_back(0);                     // flags: no token
  out.resize(min_initial_size, 0);      // padding: it pays for the Retry (anti-amplification)
  return out;
}

std::vector<std::uint8_t> encode_initial(const wire::StreamTag& tag, const Token& token, const KxPublic& client_key,
                                         ConnectionId client_id, std::uint8_t early_type,
                                         std::span<const std::uint8_t> early_body) {
  std::vector<std::uint8_t> out;
  out.reserve(initial_fixed + early_body.size() + tag_size);
  handshake_header(out, initial_kind, tag);
  out.push_back(1);  // flags: token
  put_token(out, token);
  out.insert(out.end(), client_key.begin(), client_key.end());
  put_be(out, client_id, connection_id_size);
  out.push_back(early_type);
  out.insert(out.end(), early_body.begin(), early_body.end());
  return out;
}

std::vector<std::uint8_t> encode_retry(const wire::StreamTag& tag, const Retry& retry) {
  std::vector<std::uint8_t> out;
  handshake_header(out, retry_kind, tag);
  put_token(out, retry.token);
  out.insert(out.end(), retry.server_key.begin(), retry.server_key.end());
  return out;
}

std::optional<std::variant<Initial, Retry>> decode_handshake(std::span<const std::uint8_t> d, const wire::StreamTag& tag) {
  if (d.size() < handshake_header_size + 1 || d.size() > wire::max_datagram) return std::nullopt;
  if (d[0] != wire::magic0 || d[1] != wire::version) return std::nullopt;
  if (!std::equal(tag.begin(), tag.end(), d.begin() + 3)) return std::nullopt;
  if (d[2] == retry_kind) {
    if (d.size() != handshake_header_size + token_size + 32) return std::nullopt;
    Retry r;
    r.token = get_token(d, handshake_header_size);
    std::copy_n(d.begin() + handshake_header_size + token_size, 32, r.server_key.begin());
    return r;
  }
  if (d[2] != initial_kind) return std::nullopt;
  Initial m;
  const auto flags = d[handshake_header_size];
  if (flags == 0) {
    if (d.size() < min_initial_size) return std::nullopt;  // too small to pay for the answer
    return m;
  }
  if (flags != 1 || d.size() < initial_fixed + tag_size) return std::nullopt;
  std::size_t at = handshake_header_size + 1;
  m.token = get_token(d, at);
  at += token_size;
  std::copy_n(d.begin() + static_cast<std::ptrdiff_t>(at), 32, m.client_key.begin());
  at += 32;
  m.client_id = static_cast<ConnectionId>(get_be(d, at, connection_id_size));
  at += connection_id_size;
  m.early_type = d[at++];
  const auto end = d.size() - tag_size;
  m.early_body = d.subspan(at, end - at);
  if (m.early_type == 0 && !m.early_body.empty()) return std::nullopt;
  m.authenticated = d.first(end);
  m.tag = get_be(d, end, 8);
  return m;
}

void begin_framed(std::vector<std::uint8_t>& out, ConnectionId to, std::uint8_t type,
                  std::optional<std::uint32_t> packet_number) {
  out.clear();
  out.push_back(static_cast<std::uint8_t>(session_kind | type));
  put_be(out, to, connection_id_size);
  if (packet_number) put_be(out, *packet_number, 4);
}

void append_tag(std::vector<std::uint8_t>& out, std::uint64_t tag) { put_be(out, tag, 8); }

std::optional<Framed> decode_framed(std::span<const std::uint8_t> d) {
  if (!is_session_datagram(d) || d.size() > wire::max_datagram) return std::nullopt;
  Framed f;
  f.type = d[0] & 0x3f;
  const std::size_t header = session_header_size + (carries_packet_number(f.type) ? packet_number_size : 0);
  if (d.size() < header + tag_size) return std::nullopt;
  f.to = static_cast<ConnectionId>(get_be(d, 1, connection_id_size));
  if (carries_packet_number(f.type)) f.packet_number = static_cast<std::uint32_t>(get_be(d, session_header_size, 4));
  const auto end = d.size() - tag_size;
  f.body = d.subspan(header, end - header);
  f.authenticated = d.first(end);
  f.tag = get_be(d, end, 8);
  return f;
}

std::vector<std::uint8_t> encode_accept(const Accept& a) {
  std::vector<std::uint8_t> out;
  put_be(out, a.server_id, connection_id_size);
  out.push_back(a.proof ? 1 : 0);
  if (a.proof) out.insert(out.end(), a.proof->begin(), a.proof->end());
  return out;
}

std::optional<Accept> decode_accept(std::span<const std::uint8_t> body) {
  constexpr std::size_t flags_at = connection_id_size;
  if (body.size() != flags_at + 1 && body.size() != flags_at + 1 + 64) return std::nullopt;
  Accept a;
  a.server_id = static_cast<ConnectionId>(get_be(body, 0, connection_id_size));
  if (body[flags_at] > 1 || (body[flags_at] == 1) != (body.size() == flags_at + 1 + 64)) return std::nullopt;
  if (body[flags_at] == 1) {
    Proof p{};
    std::copy_n(body.begin() + flags_at + 1, 64, p.begin());
    a.proof = p;
  }
  return a;
}

std::vector<std::uint8_t> proof_transcript(const wire::StreamTag& tag, const KxPublic& client_key,
                                           const KxPublic& server_key, ConnectionId client_id, ConnectionId server_id) {
  static constexpr char domain[] = "p2plive session proof v2";  // v2: 16-bit connection IDs
  std::vector<std::uint8_t> out(domain, domain + sizeof domain - 1);
  out.insert(out.end(), tag.begin(), tag.end());
  out.insert(out.end(), client_key.begin(), client_key.end());
  out.insert(out.end(), server_key.begin(), server_key.end());
  put_be(out, client_id, connection_id_size);
  put_be(out, server_id, connection_id_size);
  return out;
}

}  // namespace p2plive::session
