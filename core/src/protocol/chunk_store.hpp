// Verified chunks of the recent past, plus chunks still being reassembled from fragments.
// Both are bounded: verified chunks by a window of sequence numbers, partial ones by count.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "p2plive/chunk.hpp"
#include "protocol/time.hpp"
#include "protocol/wire.hpp"

namespace p2plive {

class ChunkStore {
 public:
  ChunkStore(std::size_t window_chunks, std::size_t max_partial);

  enum class FragmentResult { stored, duplicate, stale, completed };
  // Adds one fragment. When it completes a chunk, `completed` receives the assembled, still unverified,
  // chunk and the partial entry is gone. A fragment whose header disagrees with the partial chunk replaces it.
  FragmentResult add_fragment(const wire::Fragment& fragment, Time now, Chunk& completed);

  void insert_verified(Chunk chunk);
  bool has(std::uint64_t seq) const { return verified_.count(seq) != 0; }
  const Chunk* get(std::uint64_t seq) const;
  bool empty() const { return verified_.empty(); }
  std::uint64_t latest_seq() const { return latest_seq_; }
  std::optional<std::uint64_t> latest_join_seq() const;
  // Lowest sequence number still inside the window.
  std::uint64_t floor_seq() const;
  bool is_stale(std::uint64_t seq) const { return !verified_.empty() && seq < floor_seq(); }

  // Fragments still missing from a partial chunk (all bits set if there is no partial entry).
  std::uint16_t missing_fragments(std::uint64_t seq) const;
  bool is_partial(std::uint64_t seq) const { return partial_.count(seq) != 0; }
  // Bit i: holds chunk base + i.
  std::vector<bool> have_bits(std::uint64_t base, std::size_t count) const;

 private:
  struct Partial {
    std::uint64_t timestamp_us;
    std::uint8_t flags;
    std::uint16_t payload_size;
    std::uint8_t count;
    std::uint16_t received_mask = 0;
    std::vector<std::uint8_t> body;  // payload then signature
    Time first_seen;
  };
  static Partial start_partial(const wire::Fragment& f, Time now);
  void evict();

  std::size_t window_chunks_;
  std::size_t max_partial_;
  std::map<std::uint64_t, Chunk> verified_;
  std::map<std::uint64_t, Partial> partial_;
  std::uint64_t latest_seq_ = 0;
};

}  // namespace p2plive
