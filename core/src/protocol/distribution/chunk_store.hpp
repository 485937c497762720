// Verified chunks of the recent past, of one epoch (the broadcast session being played), plus chunks still
// being reassembled from fragments. Both are bounded: verified chunks by a window of sequence numbers,
// partial ones by count. A chunk in reassembly is kept apart per sender, so that a forged fragment from
// one peer cannot spoil the genuine chunk another is sending, and so that a chunk that fails its signature
// can be blamed on the one sender who sent all of it (or on nobody). Fragments of another epoch are reassembled apart, a few at a time: such a chunk
// may be the first of a new session (the broadcaster restarted), and only its signature can tell.
#pragma once

#include <cstdint>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "p2plive/chunk.hpp"
#include "protocol/time.hpp"
#include "protocol/wire.hpp"

namespace p2plive {

class ChunkStore {
 public:
  // At most `window_chunks` chunks and `max_bytes` of payload (the oldest go first): at 6 Mbit/s a full
  // 512-chunk window would be 8 MiB of a viewer's memory for repairs that look back under two seconds.
  ChunkStore(std::size_t window_chunks, std::size_t max_partial, std::size_t max_bytes = SIZE_MAX);

  enum class FragmentResult { stored, duplicate, stale, completed, refused };
  struct Assembled {
    Chunk chunk;                              // still unverified
    std::optional<std::uint32_t> sole_sender;  // every fragment came from this sender; nullopt: pieced together
  };
  // Adds one fragment from `sender` (an ID the caller keeps unique per session). When it completes a
  // chunk, from that sender alone or from several together, `out` receives it. A sender that already
  // holds a quarter of the partial table is refused more (it cannot squat the table).
  FragmentResult add_fragment(const wire::Fragment& fragment, std::uint32_t sender, Time now, Assembled& out);

  // The epoch whose chunks this store keeps (its tag as fragments carry it); nullopt before the first.
  std::optional<std::uint32_t> epoch() const { return epoch_; }
  // Forgets every chunk and starts keeping those of another epoch.
  void reset(std::uint32_t epoch_tag);

  void insert_verified(std::shared_ptr<const Chunk> chunk);
  bool has(std::uint64_t seq) const { return in_window(seq) && seqs_[seq % window_chunks_] == seq; }
  const Chunk* get(std::uint64_t seq) const;
  std::shared_ptr<const Chunk> get_shared(std::uint64_t seq) const { return has(seq) ? ring_[seq % window_chunks_] : nullptr; }
  bool empty() const { return !any_; }
  std::uint64_t latest_seq() const { return latest_seq_; }
  std::optional<std::uint64_t> latest_join_seq() const { return latest_join_seq_; }
  // Payload held in verified chunks, and chunks in reassembly (this epoch's and others').
  std::size_t held_bytes() const { return bytes_; }
  std::size_t partial_count() const { return partial_.size() + foreign_.size(); }
  // Lowest sequence number still inside the window.
  std::uint64_t floor_seq() const;
  bool is_stale(std::uint64_t seq) const { return !empty() && seq < floor_seq(); }

  // Fragments still missing from a partial chunk, whoever sent the others (all bits if there is none).
  std::uint16_t missing_fragments(std::uint64_t seq) const;
  // Bit i: holds chunk base + i.
  std::vector<bool> have_bits(std::uint64_t base, std::size_t count) const;
  // Sequence numbers in [from, to] this store lacks, lowest first, at most `limit` of them.
  std::vector<std::uint64_t> missing(std::uint64_t from, std::uint64_t to, std::size_t limit) const;

 private:
  // One sender's fragments of a chunk.
  struct Part {
    std::uint32_t sender = 0;
    std::uint8_t count = 0;
    std::uint16_t mask = 0;
    std::size_t last_size = 0;       // the last fragment's length, once it is here
    std::vector<std::uint8_t> body;  // payload then trailer, count full fragments long until complete
  };
  struct Partial {
    Time first_seen;
    std::vector<Part> parts;         // one per sender, at most max_senders
    bool merge_tried = false;        // pieced together from several senders once already
  };
  static constexpr std::size_t max_senders = 3;
  FragmentResult add_to(std::map<std::uint64_t, Partial>& partials, std::size_t limit, const wire::Fragment& f,
                        std::uint32_t sender, Time now, Assembled& out);
  static bool make_room(std::map<std::uint64_t, Partial>& partials, std::size_t limit, std::uint32_t sender);
  static std::uint16_t held_mask(const Partial& p, std::uint8_t count);
  static FragmentResult complete(std::vector<std::uint8_t>&& body, std::uint8_t count, std::size_t last_size,
                                 const wire::Fragment& f, Assembled& out);
  void evict();
  bool in_window(std::uint64_t seq) const { return !empty() && seq <= latest_seq_ && seq >= floor_seq(); }

  std::size_t window_chunks_;
  std::size_t max_partial_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;          // payload held in the ring
  std::uint64_t byte_floor_ = 0;   // the window's floor as the byte bound has raised it
  // Verified chunks in a ring indexed by seq: the stream is dense, so lookups and scans are O(1) a chunk.
  std::vector<std::shared_ptr<const Chunk>> ring_;
  // The seq each ring slot holds (no_seq if none), so has() answers without touching the chunk itself:
  // buffer maps and hole scans ask about every seq in the window, every tick.
  std::vector<std::uint64_t> seqs_;
  static constexpr std::uint64_t no_seq = ~std::uint64_t{0};
  bool any_ = false;  // has held a chunk (the window then trails the newest)
  std::optional<std::uint64_t> latest_join_seq_;
  std::map<std::uint64_t, Partial> partial_;
  // Other epochs' chunks in reassembly, keyed by epoch tag << 32 | seq; a handful at most.
  std::map<std::uint64_t, Partial> foreign_;
  static constexpr std::size_t max_foreign = 8;
  std::optional<std::uint32_t> epoch_;
  std::uint64_t latest_seq_ = 0;
};

}  // namespace p2plive
