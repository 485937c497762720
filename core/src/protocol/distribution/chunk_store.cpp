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

ChunkStore::Partial ChunkStore::start_partial(const wire::Fragment& f, Time now) {
  Partial p{f.count, 0, 0, {}, now};
  p.body.resize(f.count * wire::fragment_body_size);
  return p;
}

ChunkStore::FragmentResult ChunkStore::add_fragment(const wire::Fragment& f, Time now, Chunk& completed) {
  if (!epoch_ || f.epoch != *epoch_) {
    // Before the first chunk, every epoch is as foreign as any other; the first that verifies is kept.
    wire::Fragment keyed = f;
    keyed.seq = (std::uint64_t{f.epoch} << 32) | f.seq;
    const auto result = add_to(foreign_, epoch_ ? max_foreign : max_partial_, keyed, now, completed);
    if (result == FragmentResult::completed) completed.seq = ChunkSeq{f.seq};
    return result;
  }
  if (has(f.seq)) return FragmentResult::duplicate;
  if (is_stale(f.seq)) return FragmentResult::stale;
  return add_to(partial_, max_partial_, f, now, completed);
}

ChunkStore::FragmentResult ChunkStore::add_to(std::map<std::uint64_t, Partial>& partials, std::size_t limit,
                                              const wire::Fragment& f, Time now, Chunk& completed) {
  auto it = partials.find(f.seq);
  if (it == partials.end()) {
    // Keep the newest partial chunks: the oldest are the least likely to matter to playout.
    if (partials.size() >= limit) partials.erase(partials.begin());
    it = partials.emplace(f.seq, start_partial(f, now)).first;
  } else if (it->second.count != f.count) {
    it->second = start_partial(f, now);  // conflicting counts: at least one is forged; verification will tell
  }

  auto& p = it->second;
  const std::uint16_t bit = static_cast<std::uint16_t>(1u << f.index);
  if (p.received_mask & bit) return FragmentResult::duplicate;
  std::memcpy(p.body.data() + f.index * wire::fragment_body_size, f.body.data(), f.body.size());
  if (f.index + 1 == f.count) p.last_size = f.body.size();
  p.received_mask = static_cast<std::uint16_t>(p.received_mask | bit);
  if (p.received_mask != static_cast<std::uint16_t>((1u << p.count) - 1)) return FragmentResult::stored;

  auto body = std::move(p.body);
  body.resize((p.count - 1u) * wire::fragment_body_size + p.last_size);
  partials.erase(it);
  // The decoder bounds the body's size; the trailer's epoch must be the one the fragments named.
  if (!wire::chunk_from_body(f.epoch, f.seq & 0xffffffffu, std::move(body), completed)) return FragmentResult::stale;
  return FragmentResult::completed;
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
  if (it == partial_.end()) return 0xffff;
  const auto all = static_cast<std::uint16_t>((1u << it->second.count) - 1);
  return static_cast<std::uint16_t>(all & ~it->second.received_mask);
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
