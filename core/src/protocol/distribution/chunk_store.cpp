#include "protocol/distribution/chunk_store.hpp"

#include <algorithm>
#include <cstring>

namespace p2plive {

ChunkStore::ChunkStore(std::size_t window_chunks, std::size_t max_partial, std::size_t max_bytes)
    : window_chunks_(window_chunks),
      max_partial_(max_partial),
      max_bytes_(max_bytes),
      ring_(window_chunks),
      seqs_(window_chunks, no_seq) {}

ChunkStore::FragmentResult ChunkStore::add_fragment(const wire::Fragment& f, std::uint32_t sender, Time now, Assembled& out) {
  if (!epoch_ || f.epoch != *epoch_) {
    // Before the first chunk, every epoch is as foreign as any other; the first that verifies is kept.
    wire::Fragment keyed = f;
    keyed.seq = (std::uint64_t{f.epoch} << 32) | f.seq;
    const auto result = add_to(foreign_, epoch_ ? max_foreign : max_partial_, keyed, sender, now, out);
    if (result == FragmentResult::completed) out.chunk.seq = ChunkSeq{f.seq};
    return result;
  }
  if (has(f.seq)) return FragmentResult::duplicate;
  if (is_stale(f.seq)) return FragmentResult::stale;
  return add_to(partial_, max_partial_, f, sender, now, out);
}

// Keeps the newest partial chunks (the oldest matter least to playout). A sender that holds a quarter of
// the table gets no more of it, and one that holds more (it filled the table while it was empty) makes
// room first: a sender of made-up chunks cannot push out the ones others are sending.
bool ChunkStore::make_room(std::map<std::uint64_t, Partial>& partials, std::size_t limit, std::uint32_t sender) {
  if (partials.size() < limit) return true;
  const auto share = std::max<std::size_t>(limit / 4, 1);
  std::map<std::uint32_t, std::size_t> held;
  for (const auto& [key, p] : partials)
    for (const auto& x : p.parts) ++held[x.sender];
  if (held[sender] >= share) return false;
  const auto greediest = std::max_element(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  auto victim = partials.begin();
  if (greediest->second > share)
    victim = std::find_if(partials.begin(), partials.end(), [&](const auto& entry) {
      return std::any_of(entry.second.parts.begin(), entry.second.parts.end(), [&](const Part& x) { return x.sender == greediest->first; });
    });
  partials.erase(victim);
  return true;
}

// Fragments of `count` any sender holds, for the chunk in reassembly.
std::uint16_t ChunkStore::held_mask(const Partial& p, std::uint8_t count) {
  std::uint16_t mask = 0;
  for (const auto& x : p.parts)
    if (x.count == count) mask = static_cast<std::uint16_t>(mask | x.mask);
  return mask;
}

// A reassembled body, cut to its length, into a chunk; stale if it cannot be one.
ChunkStore::FragmentResult ChunkStore::complete(std::vector<std::uint8_t>&& body, std::uint8_t count, std::size_t last_size,
                                                const wire::Fragment& f, Assembled& out) {
  body.resize((count - 1u) * wire::fragment_body_size + last_size);
  // The decoder bounds the body's size; the trailer's epoch must be the one the fragments named.
  if (!wire::chunk_from_body(f.epoch, f.seq & 0xffffffffu, std::move(body), out.chunk)) return FragmentResult::stale;
  return FragmentResult::completed;
}

ChunkStore::FragmentResult ChunkStore::add_to(std::map<std::uint64_t, Partial>& partials, std::size_t limit,
                                              const wire::Fragment& f, std::uint32_t sender, Time now, Assembled& out) {
  auto it = partials.find(f.seq);
  if (it == partials.end()) {
    if (!make_room(partials, limit, sender)) return FragmentResult::refused;
    it = partials.emplace(f.seq, Partial{now, {}, false}).first;
  }
  Partial& p = it->second;
  auto part = std::find_if(p.parts.begin(), p.parts.end(), [&](const Part& x) { return x.sender == sender; });
  if (part == p.parts.end()) {
    if (p.parts.size() >= max_senders) return FragmentResult::refused;
    p.parts.push_back(Part{sender, f.count, 0, 0, {}});
    part = p.parts.end() - 1;
    part->body.resize(f.count * wire::fragment_body_size);
  } else if (part->count != f.count) {
    // The same sender disagreeing with itself: at least one is forged. Start over with the newest.
    *part = Part{sender, f.count, 0, 0, std::vector<std::uint8_t>(f.count * wire::fragment_body_size)};
  }
  const std::uint16_t bit = static_cast<std::uint16_t>(1u << f.index);
  if (part->mask & bit) return FragmentResult::duplicate;
  const bool elsewhere = std::any_of(p.parts.begin(), p.parts.end(), [&](const Part& x) {
    return x.sender != sender && x.count == f.count && (x.mask & bit);
  });
  std::memcpy(part->body.data() + f.index * wire::fragment_body_size, f.body.data(), f.body.size());
  if (f.index + 1 == f.count) part->last_size = f.body.size();
  part->mask = static_cast<std::uint16_t>(part->mask | bit);
  const auto all = static_cast<std::uint16_t>((1u << part->count) - 1);

  if (part->mask == all) {  // all of it from this one sender
    auto body = std::move(part->body);
    const auto count = part->count;
    const auto last_size = part->last_size;
    p.parts.erase(part);
    if (p.parts.empty()) partials.erase(it);
    out.sole_sender = sender;
    return complete(std::move(body), count, last_size, f, out);
  }
  // Several senders may have it all between them (a parent's push, and a repair for what it lost).
  if (held_mask(p, part->count) != all || p.merge_tried) return elsewhere ? FragmentResult::duplicate : FragmentResult::stored;
  p.merge_tried = true;  // one try: if it fails, only a single sender's complete chunk is worth checking
  const auto count = part->count;
  std::vector<std::uint8_t> body(count * wire::fragment_body_size);
  std::size_t last_size = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const auto b = static_cast<std::uint16_t>(1u << i);
    for (const auto& x : p.parts) {
      if (x.count != count || !(x.mask & b)) continue;
      std::memcpy(body.data() + i * wire::fragment_body_size, x.body.data() + i * wire::fragment_body_size, wire::fragment_body_size);
      if (i + 1 == count) last_size = x.last_size;
      break;
    }
  }
  out.sole_sender.reset();
  return complete(std::move(body), count, last_size, f, out);
}

void ChunkStore::reset(std::uint32_t epoch_tag) {
  std::fill(ring_.begin(), ring_.end(), nullptr);
  std::fill(seqs_.begin(), seqs_.end(), no_seq);
  partial_.clear();
  std::erase_if(foreign_, [epoch_tag](const auto& p) { return (p.first >> 32) != epoch_tag; });
  // What was being reassembled of the new epoch carries on where it was.
  for (auto it = foreign_.begin(); it != foreign_.end();) {
    partial_.emplace(it->first & 0xffffffffu, std::move(it->second));
    it = foreign_.erase(it);
  }
  any_ = false;
  latest_join_seq_.reset();
  latest_seq_ = 0;
  bytes_ = 0;
  byte_floor_ = 0;
  epoch_ = epoch_tag;
}

void ChunkStore::insert_verified(std::shared_ptr<const Chunk> chunk) {
  if (!epoch_) reset(wire::epoch_tag(chunk->epoch));
  if (wire::epoch_tag(chunk->epoch) != *epoch_) return;  // the swarm resets the store before a new epoch's first
  const auto seq = chunk->seq.value;
  partial_.erase(seq);
  if (is_stale(seq) || has(seq)) return;
  if (!any_ || seq > latest_seq_) latest_seq_ = seq;
  any_ = true;
  if (chunk->is_join_point() && (!latest_join_seq_ || seq > *latest_join_seq_)) latest_join_seq_ = seq;
  auto& slot = ring_[seq % window_chunks_];  // the slot's previous chunk is below the window now
  if (slot) bytes_ -= slot->payload.size();
  bytes_ += chunk->payload.size();
  slot = std::move(chunk);
  seqs_[seq % window_chunks_] = seq;
  // Past the byte bound the oldest chunks go, never the newest.
  while (bytes_ > max_bytes_ && floor_seq() < latest_seq_) {
    const auto old = floor_seq();
    if (seqs_[old % window_chunks_] == old) {
      bytes_ -= ring_[old % window_chunks_]->payload.size();
      ring_[old % window_chunks_].reset();
      seqs_[old % window_chunks_] = no_seq;
    }
    byte_floor_ = old + 1;
  }
  evict();
}

void ChunkStore::evict() {
  const auto floor = floor_seq();
  while (!partial_.empty() && partial_.begin()->first < floor) partial_.erase(partial_.begin());
  if (latest_join_seq_ && *latest_join_seq_ < floor) latest_join_seq_.reset();
}

const Chunk* ChunkStore::get(std::uint64_t seq) const { return has(seq) ? ring_[seq % window_chunks_].get() : nullptr; }

std::uint64_t ChunkStore::floor_seq() const {
  return std::max(byte_floor_, latest_seq_ >= window_chunks_ ? latest_seq_ - window_chunks_ + 1 : 0);
}

std::uint16_t ChunkStore::missing_fragments(std::uint64_t seq) const {
  const auto it = partial_.find(seq);
  if (it == partial_.end() || it->second.parts.empty()) return 0xffff;
  const auto count = it->second.parts.front().count;
  return static_cast<std::uint16_t>(((1u << count) - 1) & ~held_mask(it->second, count));
}

std::vector<std::uint64_t> ChunkStore::missing(std::uint64_t from, std::uint64_t to, std::size_t limit) const {
  std::vector<std::uint64_t> holes;
  for (std::uint64_t seq = from; seq <= to && holes.size() < limit; ++seq)
    if (!has(seq)) holes.push_back(seq);
  return holes;
}

std::vector<bool> ChunkStore::have_bits(std::uint64_t base, std::size_t count) const {
  std::vector<bool> bits(count);
  for (std::size_t i = 0; i < count; ++i) bits[i] = has(base + i);
  return bits;
}

}  // namespace p2plive
