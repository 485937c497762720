// Reassembly per sender: what a chunk that fails its signature can be blamed on, and what a hostile
// sender cannot spoil or squat.
#include <gtest/gtest.h>

#include "protocol/distribution/chunk_store.hpp"

namespace p2plive {
namespace {

Chunk chunk(std::uint64_t seq, std::uint8_t fill = 7) {
  Chunk c;
  c.epoch = 0x1122334455667788ull;
  c.seq = ChunkSeq{seq};
  c.payload.assign(3000, fill);  // three fragments
  return c;
}

// Fragment `index` of `c`, decoded as a receiver sees it (its body points into `storage`).
wire::Fragment fragment(const Chunk& c, std::size_t index, std::vector<std::uint8_t>& storage) {
  wire::encode_fragment(c, index, storage);
  return std::get<wire::Fragment>(*wire::decode(wire::fragment_type, storage));
}

ChunkStore::FragmentResult add(ChunkStore& store, const Chunk& c, std::size_t index, std::uint32_t sender,
                               ChunkStore::Assembled& out) {
  std::vector<std::uint8_t> storage;
  return store.add_fragment(fragment(c, index, storage), sender, Time{0}, out);
}

TEST(ChunkStore, AChunkFromOneSenderNamesThatSender) {
  ChunkStore store(64, 16);
  ChunkStore::Assembled out;
  const auto c = chunk(5);
  EXPECT_EQ(add(store, c, 0, 1, out), ChunkStore::FragmentResult::stored);
  EXPECT_EQ(add(store, c, 1, 1, out), ChunkStore::FragmentResult::stored);
  ASSERT_EQ(add(store, c, 2, 1, out), ChunkStore::FragmentResult::completed);
  EXPECT_EQ(out.sole_sender, 1u);
  EXPECT_EQ(out.chunk.payload, c.payload);
}

TEST(ChunkStore, AForgedFragmentAheadOfTheGenuineOnesSpoilsNothing) {
  ChunkStore store(64, 16);
  ChunkStore::Assembled out;
  const auto genuine = chunk(5, 7), forged = chunk(5, 9);
  EXPECT_EQ(add(store, forged, 0, 2, out), ChunkStore::FragmentResult::stored);  // sender 2 first, garbage
  add(store, genuine, 0, 1, out);
  add(store, genuine, 1, 1, out);
  ASSERT_EQ(add(store, genuine, 2, 1, out), ChunkStore::FragmentResult::completed);
  EXPECT_EQ(out.sole_sender, 1u);
  EXPECT_EQ(out.chunk.payload, genuine.payload);  // sender 1's chunk, untouched by sender 2's fragment
}

TEST(ChunkStore, AChunkPiecedTogetherFromSeveralSendersBlamesNobody) {
  ChunkStore store(64, 16);
  ChunkStore::Assembled out;
  const auto c = chunk(5);
  add(store, c, 0, 1, out);
  add(store, c, 1, 1, out);
  ASSERT_EQ(add(store, c, 2, 2, out), ChunkStore::FragmentResult::completed);  // a repair of the last
  EXPECT_FALSE(out.sole_sender.has_value());
  EXPECT_EQ(out.chunk.payload, c.payload);
  EXPECT_EQ(store.missing_fragments(6), 0xffff);
}

TEST(ChunkStore, ASenderCannotSquatTheReassemblyTable) {
  ChunkStore store(512, 16);
  ChunkStore::Assembled out;
  const auto honest = chunk(100);
  add(store, honest, 0, 1, out);  // an honest chunk in reassembly, the oldest
  std::size_t refused = 0;
  for (std::uint64_t seq = 101; seq < 141; ++seq)  // first fragments of 40 made-up chunks, never the rest
    refused += add(store, chunk(seq), 0, 66, out) == ChunkStore::FragmentResult::refused;
  EXPECT_GE(refused, 40u - 15u);  // the table is full: then a quarter of it at most
  // Honest senders still get their chunks through, and the one in progress was not pushed out.
  for (std::uint64_t seq = 200; seq < 210; ++seq) {
    const auto c = chunk(seq);
    add(store, c, 0, 2, out);
    add(store, c, 1, 2, out);
    EXPECT_EQ(add(store, c, 2, 2, out), ChunkStore::FragmentResult::completed) << seq;
  }
  add(store, honest, 1, 1, out);
  EXPECT_EQ(add(store, honest, 2, 1, out), ChunkStore::FragmentResult::completed);
}

}  // namespace
}  // namespace p2plive
