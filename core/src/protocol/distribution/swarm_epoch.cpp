// Broadcast sessions (epochs), and what a node owes peers that come and go: a new child's catch-up from
// its join point, and nothing at all for a peer that has left.
#include <algorithm>

#include "protocol/swarm.hpp"

namespace p2plive {
namespace {

constexpr std::size_t max_past_epochs = 8;

// Which of two sessions is newer: the later start, and the id to break a tie.
bool newer(const Chunk& c, std::uint64_t id, std::uint64_t start_us) {
  return c.epoch_start_us != start_us ? c.epoch_start_us > start_us : c.epoch > id;
}

}  // namespace

bool Swarm::is_past_epoch(std::uint32_t tag) const {
  return std::find(past_epochs_.begin(), past_epochs_.end(), tag) != past_epochs_.end();
}

// Every start of a broadcast is a new epoch, numbered from 0 again; its chunks' signatures cover the epoch
// and its start, so no one can pass an old session's chunks off as a new one's. A node follows the newest
// session it has verified a chunk of, drops everything of the one before, and from then on drops that
// one's chunks unplayed, however genuine their signatures (a replay).
bool Swarm::follow_epoch(const Chunk& chunk, Time now) {
  const auto tag = wire::epoch_tag(chunk.epoch);
  if (is_broadcaster() || (epoch_ && !newer(chunk, epoch_->id, epoch_->start_us))) {
    ++stats_.old_epoch_dropped;
    if (!is_broadcaster() && !is_past_epoch(tag)) {
      if (past_epochs_.size() >= max_past_epochs) past_epochs_.erase(past_epochs_.begin());
      past_epochs_.push_back(tag);
    }
    return false;
  }
  if (epoch_) {
    if (past_epochs_.size() >= max_past_epochs) past_epochs_.erase(past_epochs_.begin());
    past_epochs_.push_back(our_epoch_tag());
    root_live_since_ = now;  // a restart: parents get their time again from here
  }
  epoch_ = Epoch{chunk.epoch, chunk.epoch_start_us};
  store_.reset(tag);
  holes_.clear();
  // Where to join, if a peer of this session told us already; otherwise its first chunk sets it, and
  // peers' maps may lower it to a join point.
  if (want_epoch_ != tag) want_from_.reset();
  newest_seen_ = 0;
  stream_last_seen_ = now;
  stream_started_at_ = now;
  for (auto& tree : trees_) {
    tree.newest.reset();
    tree.push_start = 0;
    tree.last_chunk = now;
  }
  for (auto& v : verified_at_) v = {~std::uint64_t{0}, Time{0}};
  peers_.for_each([&](Peer& p) {
    if (p.have_epoch != tag) p.clear_map();
  });
  ++stats_.epochs_started;
  events_.push_back(EpochStarted{chunk.epoch, chunk.epoch_start_us});
  return true;
}

// What a peer says of its session, in a Welcome or a buffer map. In ours, its latest join point is where
// a viewer that has not started yet may still begin. In one we do not know, it may be newer (the
// broadcaster restarted, and this peer heard first): we ask it for that join point, now and then, and the
// chunk's signature decides. A claim alone never moves us.
void Swarm::note_epoch_claim(Peer& peer, std::uint32_t epoch, std::uint64_t join_seq, bool has_chunks, Time now) {
  if (!has_chunks || epoch == 0) return;
  if (!store_.epoch() && !want_from_) {
    want_from_ = join_seq;  // a newcomer told of the stream before any welcome: it joins there
    want_epoch_ = epoch;
    return;
  }
  if (epoch == our_epoch_tag()) {
    if (want_from_ && join_seq < *want_from_ && !store_.latest_join_seq() &&
        *want_from_ - join_seq <= config_.repair.repair_window_chunks)
      want_from_ = join_seq;
    return;
  }
  if (!store_.epoch() || is_past_epoch(epoch) || now - peer.epoch_probe_at < 2s) return;
  peer.epoch_probe_at = now;
  note_asked(peer.endpoint, join_seq, now);
  send(peer.endpoint, wire::Request{epoch, join_seq, 0xffff});
}

// A new child gets the chunks of its substream we hold, from where it asked (its join point, or just past
// what it has) up to now, with the join point first. Bounded: a few seconds of one substream.
std::uint64_t Swarm::catch_up(const Peer& child, std::uint8_t s, std::uint32_t epoch, std::uint32_t from_seq) {
  if (store_.empty()) return 0;
  const auto latest = store_.latest_seq();
  std::uint64_t from = from_seq;
  if (epoch != our_epoch_tag() || from_seq == wire::from_join_point)
    from = store_.latest_join_seq().value_or(latest + 1);
  if (latest >= config_.trees.max_catch_up_chunks)
    from = std::max(from, latest - config_.trees.max_catch_up_chunks + 1);
  from = std::max(from, store_.floor_seq());
  const bool stayed_through_restart = epoch != 0 && epoch != our_epoch_tag();
  // A child that followed an earlier session of this stream has stayed through a restart: so has everyone
  // else, and there is nobody else to fetch from. In a small swarm the broadcaster is the only holder and
  // has upload to spare. Either way the catch-up is the child's live stream, a second behind: it goes as
  // pushes do, and the broadcaster pays for it in full.
  const bool free_catch_up = stayed_through_restart || (is_broadcaster() && knows_few_viewers());
  // Otherwise only what the uplink has room for now, as repairs go: a busy parent (a flash crowd) leaves
  // the rest to repair, which spreads it over every holder instead of piling it onto its live pushes.
  Time budget = (free_catch_up ? config_.trees.free_catch_up_budget : config_.trees.catch_up_budget) -
                send_queue_.queued_data_time();
  for (auto seq = from; seq <= latest; ++seq) {
    if (substream_of(seq) != s) continue;
    auto chunk = store_.get_shared(seq);
    if (!chunk) continue;
    // The broadcaster's upload is the swarm's scarcest: what it catches up for a newcomer among many
    // comes out of its repair budget, and what that cannot pay for the child fetches from others.
    const auto size = static_cast<double>(chunk->payload.size());
    if (is_broadcaster() && !free_catch_up) {
      if (root_repair_tokens_ < size) break;
      root_repair_tokens_ -= size;
    }
    const auto cost = send_queue_.rate_bps() > 0 ? Time{static_cast<std::int64_t>(size * 8e6 / send_queue_.rate_bps())} : Time{0};
    if (budget < cost) break;  // what the queue would drop anyway
    budget -= cost;
    const auto cls = chunk->is_join_point() || free_catch_up ? SendClass::push : SendClass::repair;
    push_chunk(chunk, child.endpoint, 0xffff, cls);
    ++stats_.catch_up_chunks;
  }
  // Pushes start at `from` even if the catch-up stopped short: the child fetches what is missing once
  // newer pushes show it is a hole, and nothing that is on its way.
  return from;
}

// A peer that said goodbye or timed out costs nothing from now on: no slot, nothing queued, no word in
// congestion control. A bootstrap peer is kept, blank, to be asked again later.
void Swarm::forget_peer(const Endpoint& e, Time now) {
  Peer* p = peers_.find(e);
  if (!p) return;
  drop_parent_everywhere(*p, now);
  stats_.purged_datagrams += send_queue_.purge(e);
  session_.close(e);
  if (p->bootstrap) {
    *p = Peer{};
    p->endpoint = e;
    p->bootstrap = true;
    return;
  }
  peers_.erase(e);
}

bool Swarm::is_active_child(const Peer& p, std::uint8_t s) const {
  return (p.child_in & bit(s)) && !p.suspended && now_ - p.last_heard <= config_.trees.child_silence;
}

// A peer whose port answers with ICMP errors has most likely been killed. A live parent pushes every few
// milliseconds and a live child answers several times a second, so one silent for unreachable_silence as
// well is given up on now rather than after its timeouts: a newcomer gets its slot at once.
void Swarm::handle_unreachable(const Endpoint& to, Time now) {
  now_ = now;
  ++stats_.unreachable_reports;
  Peer* p = peers_.find(to);
  if (!p || now - p->last_heard < config_.membership.unreachable_silence) return;
  lost_sight_of(*p);
  if (p->parent_in) drop_parent_everywhere(*p, now);
  if (p->child_in && !p->suspended) {
    p->suspended = true;
    ++stats_.children_suspended;
  }
  stats_.purged_datagrams += send_queue_.purge(to);
}

// A live child answers our maps and renews its subscriptions, so it is heard several times a second. One
// silent for child_silence has most likely left without a word (killed, or its link died): it gets no more
// pushes, what waits for it is dropped, and a newcomer may take its slot. If it speaks again before its
// subscription runs out, the pushes resume.
void Swarm::suspend_silent_children(Time now) {
  std::vector<Endpoint> silent;
  peers_.for_each([&](Peer& p) {
    if (!p.child_in || now - p.last_heard <= config_.trees.child_silence || p.suspended) return;
    p.suspended = true;
    silent.push_back(p.endpoint);
  });
  for (const auto& e : silent) {
    ++stats_.children_suspended;
    stats_.purged_datagrams += send_queue_.purge(e);
  }
}

}  // namespace p2plive
