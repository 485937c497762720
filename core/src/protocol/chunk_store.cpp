#include "protocol/chunk_store.hpp"

#include <algorithm>
#include <cstring>

namespace p2plive {

ChunkStore::ChunkStore(std::size_t window_chunks, std::size_t max_partial)
    : window_chunks_(window_chunks), max_partial_(max_partial) {}

ChunkStore::Partial ChunkStore::start_partial(const wire::Fragment& f, Time now) {
  Partial p{f.timestamp_us, f.flags, f.payload_size, f.count, 0, {}, now};
  p.body.resize(f.payload_size + std::size_t{64});
  return p;
}

ChunkStore::FragmentResult ChunkStore::add_fragment(const wire::Fragment& f, Time now, Chunk& completed) {
  if (verified_.count(f.seq)) return FragmentResult::duplicate;
  if (is_stale(f.seq)) return FragmentResult::stale;

  auto it = partial_.find(f.seq);
  if (it == partial_.end()) {
    if (partial_.size() >= max_partial_) {
      // Keep the newest partial chunks: the oldest are the least likely to matter to playout.
      partial_.erase(partial_.begin());
    }
    it = partial_.emplace(f.seq, start_partial(f, now)).first;
  } else {
    auto& p = it->second;
    if (p.timestamp_us != f.timestamp_us || p.flags != f.flags || p.payload_size != f.payload_size) {
      p = start_partial(f, now);  // conflicting headers: at least one is forged; verification will tell
    }
  }

  auto& p = it->second;
  const std::uint16_t bit = static_cast<std::uint16_t>(1u << f.index);
  if (p.received_mask & bit) return FragmentResult::duplicate;
  std::memcpy(p.body.data() + f.index * wire::fragment_body_size, f.body.data(), f.body.size());
  p.received_mask = static_cast<std::uint16_t>(p.received_mask | bit);
  if (p.received_mask != static_cast<std::uint16_t>((1u << p.count) - 1)) return FragmentResult::stored;

  completed.seq = ChunkSeq{f.seq};
  completed.timestamp_us = p.timestamp_us;
  completed.flags = p.flags;
  completed.payload.assign(p.body.begin(), p.body.begin() + p.payload_size);
  std::copy(p.body.begin() + p.payload_size, p.body.end(), completed.signature.begin());
  partial_.erase(it);
  return FragmentResult::completed;
}

void ChunkStore::insert_verified(Chunk chunk) {
  const auto seq = chunk.seq.value;
  partial_.erase(seq);
  latest_seq_ = verified_.empty() ? seq : std::max(latest_seq_, seq);
  verified_.emplace(seq, std::move(chunk));
  evict();
}

void ChunkStore::evict() {
  const auto floor = floor_seq();
  while (!verified_.empty() && verified_.begin()->first < floor) verified_.erase(verified_.begin());
  while (!partial_.empty() && partial_.begin()->first < floor) partial_.erase(partial_.begin());
}

const Chunk* ChunkStore::get(std::uint64_t seq) const {
  const auto it = verified_.find(seq);
  return it == verified_.end() ? nullptr : &it->second;
}

std::optional<std::uint64_t> ChunkStore::latest_join_seq() const {
  for (auto it = verified_.rbegin(); it != verified_.rend(); ++it)
    if (it->second.is_join_point()) return it->first;
  return std::nullopt;
}

std::uint64_t ChunkStore::floor_seq() const {
  return latest_seq_ >= window_chunks_ ? latest_seq_ - window_chunks_ + 1 : 0;
}

std::uint16_t ChunkStore::missing_fragments(std::uint64_t seq) const {
  const auto it = partial_.find(seq);
  if (it == partial_.end()) return 0xffff;
  const auto all = static_cast<std::uint16_t>((1u << it->second.count) - 1);
  return static_cast<std::uint16_t>(all & ~it->second.received_mask);
}

std::vector<bool> ChunkStore::have_bits(std::uint64_t base, std::size_t count) const {
  std::vector<bool> bits(count);
  for (auto it = verified_.lower_bound(base); it != verified_.end() && it->first < base + count; ++it)
    bits[it->first - base] = true;
  return bits;
}

}  // namespace p2plive
