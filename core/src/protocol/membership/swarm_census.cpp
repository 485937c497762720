// How many listen, swarm-wide, in state bounded by a node's own children and parents (core/PROTOCOL.md,
// "How many listen").
//
// Up the trees: every viewer is a member of every tree, and each tree reaches all of them, so the
// broadcaster could count the swarm in any one tree by summing what its children there say of the
// subtrees below them. A viewer's map says how many listen in the subtree it roots in its home tree, itself
// included; in any other tree it is a leaf, and counts as one. The broadcaster sums each tree separately
// and takes the middle of the sums: a tree still being mended (a subtree between parents) counts low for a
// few seconds, and a child that lies about its subtree can only move the tree it forwards in.
//
// Down the trees: every map carries the sender's word on the whole count and its peak, as its parent in
// its home tree gave it, so that the word travels down each tree as the chunks do. A viewer shows the
// middle of what its parents say, one per tree, so one lying parent cannot move it either. The count lags
// the truth by a map interval (half a second) per hop, up and down.
#include <algorithm>
#include <optional>
#include <vector>

#include "protocol/swarm.hpp"

namespace p2plive {
namespace {

std::uint32_t clamp32(std::uint64_t n) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, 0xffffffffu));
}

// The middle of a few values: the mean of the two middle ones when they are even in number, so that one
// outlier, high or low, moves it at most halfway to its neighbour.
std::uint32_t middle(std::vector<std::uint32_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  if (n % 2 == 1) return v[n / 2];
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(v[n / 2 - 1]) + v[n / 2] + 1) / 2);
}

}  // namespace

std::uint32_t Swarm::listeners_below(std::uint8_t s) const {
  std::uint64_t n = listens() ? 1 : 0;
  peers_.for_each([&](const Peer& p) {
    if (!(p.child_in & bit(s))) return;
    // A child that forwards here counts its subtree; one that forwards elsewhere is a leaf here. Until its
    // first map, a child counts as what it said it is.
    if (p.census_heard && p.tree.home == s)
      n += p.subtree_listeners;
    else
      n += p.role == wire::Role::viewer ? 1 : 0;
  });
  return clamp32(n);
}

void Swarm::update_census() {
  std::vector<std::uint32_t> counts;
  if (is_broadcaster()) {
    for (std::size_t s = 0; s < trees_.size(); ++s)
      counts.push_back(listeners_below(static_cast<std::uint8_t>(s)));
    census_.listeners = middle(counts);
    census_.peak = std::max(census_.peak, census_.listeners);
    passed_on_ = census_;
    return;
  }
  // What we pass on comes from our parent in our home tree alone: that is the tree our children hang in,
  // and down one tree the count flows from the broadcaster without a loop. (Taking the middle of all our
  // parents here would feed counts round in circles: each tree's forwarders are leaves of the others, and
  // a stale count would hold itself up.) What we show is the middle of what our parents pass on, each
  // from its own tree.
  std::vector<std::uint32_t> peaks;
  std::optional<ListenerCount> home_word;
  for (std::size_t s = 0; s < trees_.size(); ++s) {
    const Peer* parent = trees_[s].parent ? peers_.find(*trees_[s].parent) : nullptr;
    if (!parent || !parent->census_heard || parent->listeners == 0) continue;
    counts.push_back(parent->listeners);
    peaks.push_back(parent->listeners_peak);
    if (s == home_) home_word = ListenerCount{parent->listeners, parent->listeners_peak};
  }
  // Parents gone (between parents, or the broadcaster away): the last count stands until new ones speak.
  if (counts.empty()) return;
  census_.listeners = middle(std::move(counts));
  census_.peak = std::max(middle(std::move(peaks)), census_.listeners);
  passed_on_ = home_word.value_or(census_);
}

}  // namespace p2plive
