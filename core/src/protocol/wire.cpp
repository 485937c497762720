#include "protocol/wire.hpp"

#include <algorithm>
#include <cstring>

#include "protocol/big_endian.hpp"

namespace p2plive::wire {
namespace {

enum class Type : std::uint8_t {
  hello = 1,
  welcome = 2,
  peers = 3,
  fragment = 4,
  have = 5,
  request = 6,
  bye = 7,
  report = 8,
  ack = 9,
  introduce = 10
};

// A map's two forms (Have): a bitmap, or run lengths of chunks held and missing, alternately.
constexpr std::uint8_t have_bitmap = 0;
constexpr std::uint8_t have_runs = 1;

// LEB128, of at most two bytes: values below 2^14 (a map's runs).
void varint(std::vector<std::uint8_t>& out, std::size_t v) {
  if (v >= 0x80) out.push_back(static_cast<std::uint8_t>(0x80 | (v & 0x7f)));
  out.push_back(static_cast<std::uint8_t>(v >> (v >= 0x80 ? 7 : 0)));
}

// LEB128 of up to 32 bits (five bytes at most): the census's counts, one byte below 128.
void uvarint32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<std::uint8_t>(0x80 | (v & 0x7f)));
  out.push_back(static_cast<std::uint8_t>(v));
}

class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { be(v, 2); }
  void u32(std::uint32_t v) { be(v, 4); }
  void tag(std::uint32_t epoch_tag) { be(epoch_tag, 2); }  // an epoch tag (wire::epoch_tag) is 16 bits
  void u64(std::uint64_t v) { be(v, 8); }
  void seq(std::uint64_t v) { be(std::min(v, max_seq), 4); }
  void count(std::uint32_t v) { uvarint32(out_, v); }
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void endpoint(const Endpoint& e) {
    bytes(e.address);
    u16(e.port);
  }

 private:
  void be(std::uint64_t v, int n) { put_be(out_, v, n); }
  std::vector<std::uint8_t>& out_;
};

// Reads big-endian fields; any read past the end sets failed() and returns zeros.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  bool failed() const { return failed_; }
  std::size_t remaining() const { return failed_ ? 0 : in_.size() - pos_; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(be(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(be(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(be(4)); }
  std::uint64_t u64() { return be(8); }
  std::uint64_t seq() { return be(4); }  // never more than 2^32: arithmetic on it cannot wrap
  std::uint32_t tag() { return static_cast<std::uint32_t>(be(2)); }  // an epoch tag, as Writer::tag writes it
  std::optional<std::size_t> varint() {
    const std::size_t low = u8();
    if (low < 0x80) return failed_ ? std::nullopt : std::optional<std::size_t>(low);
    const std::size_t high = u8();
    if (failed_ || high >= 0x80 || high == 0) return std::nullopt;  // two bytes at most, and no padding
    return (low & 0x7f) | high << 7;
  }
  // uvarint32's: five bytes at most, no padding (a last byte of 0 after others), nothing beyond 32 bits.
  std::optional<std::uint32_t> uvarint32() {
    std::uint64_t v = 0;
    for (int i = 0; i < 5; ++i) {
      const std::uint64_t b = u8();
      if (failed_ || (i > 0 && b == 0)) return std::nullopt;
      v |= (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        if (v > 0xffffffffull) return std::nullopt;
        return static_cast<std::uint32_t>(v);
      }
    }
    return std::nullopt;
  }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    if (!take(n)) return {};
    return in_.subspan(pos_ - n, n);
  }
  Endpoint endpoint() {
    Endpoint e;
    const auto a = bytes(e.address.size());
    if (!a.empty()) std::copy(a.begin(), a.end(), e.address.begin());
    e.port = u16();
    return e;
  }

 private:
  bool take(std::size_t n) {
    if (failed_ || in_.size() - pos_ < n) {
      failed_ = true;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::uint64_t be(std::size_t n) {
    if (!take(n)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = pos_ - n; i < pos_; ++i) v = (v << 8) | in_[i];
    return v;
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

void endpoints(Writer& w, const std::vector<Endpoint>& list) {
  const auto n = std::min(list.size(), max_peers_per_message);
  w.u8(static_cast<std::uint8_t>(n));
  for (std::size_t i = 0; i < n; ++i) w.endpoint(list[i]);
}

std::optional<std::vector<Endpoint>> read_endpoints(Reader& r) {
  const std::size_t n = r.u8();
  if (n > max_peers_per_message || r.remaining() < n * endpoint_size) return std::nullopt;
  std::vector<Endpoint> list(n);
  for (auto& e : list) e = r.endpoint();
  return list;
}

// The fields before a fragment's body, for Encoder and encode_fragment alike.
// Index and count share a byte: a chunk has at most max_fragments (16) fragments.
void fragment_header(Writer& w, std::uint32_t epoch, std::uint64_t seq, std::uint8_t index, std::uint8_t count) {
  w.tag(epoch);
  w.seq(seq);
  w.u8(static_cast<std::uint8_t>(index << 4 | (count - 1)));
}

void write_tree_state(Writer& w, const TreeState& t) {
  w.u8(t.home);
  w.u8(t.depth);
  w.u16(t.latency_ms);
  w.u16(t.room);
  w.u16(t.forwarder_room);
  w.u8(t.children);
  w.u16(t.displace_rank);
}
TreeState read_tree_state(Reader& r) {
  TreeState t;
  t.home = r.u8();
  t.depth = r.u8();
  t.latency_ms = r.u16();
  t.room = r.u16();
  t.forwarder_room = r.u16();
  t.children = r.u8();
  t.displace_rank = r.u16();
  return t;
}

struct Encoder {
  Writer& w;
  void operator()(const Hello& m) {
    w.u8(static_cast<std::uint8_t>(m.role));
    w.u8(static_cast<std::uint8_t>((m.subscribe ? 1 : 0) | (m.needs_reachable ? 2 : 0) |
                                   (m.reachable ? 4 : 0)));
    w.u8(m.substream);
    w.u8(m.home);
    w.u32(m.time_us);
    w.tag(m.epoch);
    w.u32(m.from_seq);
  }
  void operator()(const Welcome& m) {
    w.u8(static_cast<std::uint8_t>((m.accepted ? 1 : 0) | (m.has_chunks ? 2 : 0) | (m.few_peers ? 4 : 0)));
    w.u8(m.substream);
    write_tree_state(w, m.tree);
    w.u8(m.suggested_home);
    w.u32(m.time_echo_us);
    w.u16(m.your_queue_delay_ms);
    w.tag(m.epoch);
    w.u64(m.epoch_start_us);
    w.seq(m.latest_seq);
    w.seq(m.latest_join_seq);
    w.seq(m.push_from);
    w.endpoint(m.your_address);
    endpoints(w, m.peers);
  }
  void operator()(const Peers& m) {
    endpoints(w, m.peers);
  }
  void operator()(const Fragment& m) {
    fragment_header(w, m.epoch, m.seq, m.index, m.count);
    w.bytes(m.body);
  }
  void operator()(const Have& m) {
    write_tree_state(w, m.tree);
    w.u32(m.time_us);
    w.tag(m.epoch);
    w.seq(m.join_seq);
    w.seq(m.base_seq);
    w.count(m.subtree_listeners);
    w.count(m.listeners);
    w.count(m.listeners_peak);
    const auto n = std::min(m.bits.size(), max_have_bits);
    w.u16(static_cast<std::uint16_t>(n));
    // A map is mostly one long run of chunks held, a few holes and the newest still on their way: as run
    // lengths it takes a few bytes, where a bitmap takes n / 8. The shorter of the two goes.
    std::vector<std::uint8_t> runs;
    bool held = true;
    for (std::size_t i = 0; i < n && runs.size() < (n + 7) / 8;) {
      std::size_t run = 0;
      while (i < n && m.bits[i] == held) ++run, ++i;
      varint(runs, run);
      held = !held;
    }
    if (runs.size() < (n + 7) / 8) {
      w.u8(have_runs);
      w.bytes(runs);
      return;
    }
    w.u8(have_bitmap);
    for (std::size_t byte = 0; byte < (n + 7) / 8; ++byte) {
      std::uint8_t v = 0;
      for (std::size_t bit = 0; bit < 8 && byte * 8 + bit < n; ++bit)
        if (m.bits[byte * 8 + bit]) v = static_cast<std::uint8_t>(v | (1u << bit));
      w.u8(v);
    }
  }
  void operator()(const Request& m) {
    w.tag(m.epoch);
    w.seq(m.seq);
    w.u16(m.fragment_mask);
  }
  void operator()(const Bye&) {}
  void operator()(const Report& m) {
    w.u8(m.substream);
    w.endpoint(m.accused);
  }
  void operator()(const Ack& m) {
    w.u32(m.echo_us);
    w.u16(m.your_queue_delay_ms);
  }
  void operator()(const Introduce& m) {
    w.endpoint(m.peer);
    w.u8(m.request ? 1 : 0);
  }
};

std::optional<Message> decode_body(Type type, Reader& r) {
  switch (type) {
    case Type::hello: {
      Hello m;
      const auto role = r.u8();
      if (role > static_cast<std::uint8_t>(Role::broadcaster)) return std::nullopt;
      m.role = static_cast<Role>(role);
      const auto flags = r.u8();
      if (flags > 7) return std::nullopt;
      m.subscribe = (flags & 1) != 0;
      m.needs_reachable = (flags & 2) != 0;
      m.reachable = (flags & 4) != 0;
      m.substream = r.u8();
      m.home = r.u8();
      m.time_us = r.u32();
      m.epoch = r.tag();
      m.from_seq = r.u32();
      return m;
    }
    case Type::welcome: {
      Welcome m;
      const auto flags = r.u8();
      m.accepted = (flags & 1) != 0;
      m.has_chunks = (flags & 2) != 0;
      m.few_peers = (flags & 4) != 0;
      m.substream = r.u8();
      m.tree = read_tree_state(r);
      m.suggested_home = r.u8();
      m.time_echo_us = r.u32();
      m.your_queue_delay_ms = r.u16();
      m.epoch = r.tag();
      m.epoch_start_us = r.u64();
      m.latest_seq = r.seq();
      m.latest_join_seq = r.seq();
      m.push_from = r.seq();
      m.your_address = r.endpoint();
      auto list = read_endpoints(r);
      if (!list) return std::nullopt;
      m.peers = std::move(*list);
      return m;
    }
    case Type::peers: {
      auto list = read_endpoints(r);
      if (!list) return std::nullopt;
      return Peers{std::move(*list)};
    }
    case Type::fragment: {
      Fragment m;
      m.epoch = r.tag();
      m.seq = r.seq();
      const auto packed = r.u8();
      m.index = static_cast<std::uint8_t>(packed >> 4);
      m.count = static_cast<std::uint8_t>((packed & 0xf) + 1);
      if (r.failed() || m.count > fragment_count(max_chunk_payload) || m.index >= m.count)
        return std::nullopt;
      // Every fragment but the last is full; the last is whatever is left, and the whole body must hold at
      // least a trailer and at most a full payload.
      const bool last = m.index + 1 == m.count;
      const std::size_t size = r.remaining();
      if (!last && size != fragment_body_size) return std::nullopt;
      if (last) {
        const std::size_t total = (m.count - 1u) * fragment_body_size + size;
        if (size == 0 || size > fragment_body_size || total < chunk_trailer_size ||
            total > chunk_body_size(max_chunk_payload))
          return std::nullopt;
      }
      m.body = r.bytes(size);
      return m;
    }
    case Type::have: {
      Have m;
      m.tree = read_tree_state(r);
      m.time_us = r.u32();
      m.epoch = r.tag();
      m.join_seq = r.seq();
      m.base_seq = r.seq();
      const auto subtree = r.uvarint32(), listeners = r.uvarint32(), peak = r.uvarint32();
      if (!subtree || !listeners || !peak) return std::nullopt;
      m.subtree_listeners = *subtree;
      m.listeners = *listeners;
      m.listeners_peak = *peak;
      const std::size_t n = r.u16();
      const auto form = r.u8();
      if (n > max_have_bits || r.failed()) return std::nullopt;
      if (form == have_runs) {
        // Runs that must add up to exactly n bits; only the first (of chunks held) may be empty.
        m.bits.reserve(n);
        for (bool held = true; m.bits.size() < n; held = !held) {
          const auto run = r.varint();
          if (!run || *run > n - m.bits.size() || (*run == 0 && !m.bits.empty())) return std::nullopt;
          m.bits.insert(m.bits.end(), *run, held);
        }
        return m;
      }
      if (form != have_bitmap) return std::nullopt;
      const auto bytes = r.bytes((n + 7) / 8);
      if (r.failed()) return std::nullopt;
      m.bits.resize(n);
      for (std::size_t i = 0; i < n; ++i) m.bits[i] = (bytes[i / 8] >> (i % 8)) & 1;
      return m;
    }
    case Type::request: {
      Request m;
      m.epoch = r.tag();
      m.seq = r.seq();
      m.fragment_mask = r.u16();
      return m;
    }
    case Type::bye:
      return Bye{};
    case Type::report: {
      Report m;
      m.substream = r.u8();
      m.accused = r.endpoint();
      return m;
    }
    case Type::ack: {
      Ack m;
      m.echo_us = r.u32();
      m.your_queue_delay_ms = r.u16();
      return m;
    }
    case Type::introduce: {
      Introduce m{r.endpoint()};
      const auto flags = r.u8();
      if (flags > 1) return std::nullopt;
      m.request = flags == 1;
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace

StreamTag stream_tag(const PublicKey& key) { return {key.bytes[0], key.bytes[1], key.bytes[2], key.bytes[3]}; }

std::size_t fragment_count(std::size_t payload_size) {
  return (chunk_body_size(payload_size) + fragment_body_size - 1) / fragment_body_size;
}

std::uint8_t type_of(const Message& message) {
  return static_cast<std::uint8_t>(message.index() + 1);  // the variant lists the types in their order
}

std::optional<Message> decode(std::uint8_t type, std::span<const std::uint8_t> body) {
  if (type < 1 || type > static_cast<std::uint8_t>(Type::introduce) || body.size() > max_datagram)
    return std::nullopt;
  Reader r(body);
  auto message = decode_body(static_cast<Type>(type), r);
  // Trailing bytes mean a sender that does not speak this version's format: reject, don't guess.
  if (!message || r.failed() || r.remaining() != 0) return std::nullopt;
  return message;
}

void encode(const Message& message, std::vector<std::uint8_t>& out) {
  out.clear();
  Writer w(out);
  std::visit(Encoder{w}, message);
}

std::vector<std::uint8_t> encode(const Message& message) {
  std::vector<std::uint8_t> out;
  out.reserve(64);
  encode(message, out);
  return out;
}

void encode_fragment(const Chunk& chunk, std::size_t index, std::vector<std::uint8_t>& out) {
  const std::size_t payload = chunk.payload.size();
  const std::size_t total = chunk_body_size(payload);
  const std::size_t begin = index * fragment_body_size;
  const std::size_t end = std::min(total, begin + fragment_body_size);
  out.clear();
  out.reserve(fragment_header_size + (end - begin));
  Writer w(out);
  fragment_header(w, epoch_tag(chunk.epoch), chunk.seq.value, static_cast<std::uint8_t>(index),
                  static_cast<std::uint8_t>(fragment_count(payload)));
  // The body is the payload, then the trailer; a fragment may span the boundary.
  if (begin < payload)
    out.insert(out.end(), chunk.payload.begin() + static_cast<std::ptrdiff_t>(begin),
               chunk.payload.begin() + static_cast<std::ptrdiff_t>(std::min(end, payload)));
  if (end > payload) {
    std::array<std::uint8_t, chunk_trailer_size> trailer{};
    const auto put = [&](std::size_t at, std::uint64_t v) {
      for (int i = 0; i < 8; ++i) trailer[at + i] = static_cast<std::uint8_t>(v >> (8 * (7 - i)));
    };
    put(0, chunk.epoch);
    put(8, chunk.epoch_start_us);
    put(16, chunk.timestamp_us);
    trailer[24] = chunk.flags;
    std::copy(chunk.signature.begin(), chunk.signature.end(), trailer.begin() + 25);
    out.insert(out.end(), trailer.begin() + static_cast<std::ptrdiff_t>(std::max(begin, payload) - payload),
               trailer.begin() + static_cast<std::ptrdiff_t>(end - payload));
  }
}

std::optional<FragmentKey> peek_fragment(std::span<const std::uint8_t> body) {
  if (body.size() < fragment_header_size) return std::nullopt;
  Reader r(body);
  FragmentKey key;
  key.epoch = r.tag();
  key.seq = r.seq();
  key.index = static_cast<std::uint8_t>(r.u8() >> 4);
  return key;
}

bool chunk_from_body(std::uint32_t epoch, std::uint64_t seq, std::vector<std::uint8_t>&& body, Chunk& out) {
  if (body.size() < chunk_trailer_size || body.size() > chunk_body_size(max_chunk_payload)) return false;
  const std::size_t payload = body.size() - chunk_trailer_size;
  const std::uint8_t* trailer = body.data() + payload;
  const auto get = [&](std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | trailer[at + i];
    return v;
  };
  out.seq = ChunkSeq{seq};
  out.epoch = get(0);
  out.epoch_start_us = get(8);
  out.timestamp_us = get(16);
  out.flags = trailer[24];
  std::copy(trailer + 25, trailer + chunk_trailer_size, out.signature.begin());
  if (epoch_tag(out.epoch) != epoch) return false;
  body.resize(payload);
  out.payload = std::move(body);  // the buffer becomes the payload: no second copy
  return true;
}

}  // namespace p2plive::wire
