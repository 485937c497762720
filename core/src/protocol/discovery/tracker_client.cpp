#include "protocol/discovery/tracker_client.hpp"

#include <algorithm>

#include "protocol/big_endian.hpp"

namespace p2plive {
namespace {

constexpr std::uint64_t protocol_id = 0x41727101980ull;
enum Action : std::uint32_t { connect = 0, announce = 1, error = 3 };
enum Event : std::uint32_t { none = 0, started = 2, stopped = 3 };
constexpr Time connection_lifetime = 60s;  // BEP 15: a client may use a connection id for a minute

}  // namespace

TrackerClient::TrackerClient(TrackerClientConfig config) : config_(std::move(config)), rng_(config_.rng_seed) {
  // Azureus-style peer id: a client tag, then random bytes.
  static constexpr char tag[] = "-PL0001-";
  std::copy(tag, tag + 8, peer_id_.begin());
  for (std::size_t i = 8; i < peer_id_.size(); ++i) peer_id_[i] = static_cast<std::uint8_t>(rng_());
  key_ = static_cast<std::uint32_t>(rng_());
  for (const auto& e : config_.trackers) trackers_.push_back(Tracker{e});
}

bool TrackerClient::is_tracker(const Endpoint& from) const {
  return std::any_of(trackers_.begin(), trackers_.end(), [&](const Tracker& t) { return t.endpoint == from; });
}

void TrackerClient::handle_timeout(Time now) {
  if (config_.port == 0) return;
  for (auto& t : trackers_) {
    if (t.phase == Phase::idle) {
      if (now >= t.next_announce) start_request(t, now);
    } else if (now - t.sent_at >= retry_after(t)) {
      send_request(t, now);  // no answer: again, later each time
    }
  }
}

void TrackerClient::hurry(Time now) {
  for (auto& t : trackers_)
    if (t.phase == Phase::idle && t.started) t.next_announce = std::min(t.next_announce, t.sent_at + config_.hurry_interval);
  handle_timeout(now);
}

void TrackerClient::start_request(Tracker& t, Time now) {
  t.attempts = 0;
  t.phase = now - t.connected_at < connection_lifetime ? Phase::announcing : Phase::connecting;
  send_request(t, now);
}

Time TrackerClient::retry_after(const Tracker& t) const {
  return std::min(config_.max_retry, config_.retry * (1 << std::min(t.attempts, 12u)));
}

void TrackerClient::send_request(Tracker& t, Time now) { send_request(t, now, t.started ? Event::none : Event::started); }

void TrackerClient::send_request(Tracker& t, Time now, std::uint32_t event) {
  if (t.phase == Phase::announcing && now - t.connected_at >= connection_lifetime) t.phase = Phase::connecting;
  t.transaction = static_cast<std::uint32_t>(rng_());
  t.sent_at = now;
  ++t.attempts;
  std::vector<std::uint8_t> out;
  if (t.phase == Phase::connecting) {
    put_be(out, protocol_id, 8);
    put_be(out, Action::connect, 4);
    put_be(out, t.transaction, 4);
  } else {
    put_be(out, t.connection_id, 8);
    put_be(out, Action::announce, 4);
    put_be(out, t.transaction, 4);
    out.insert(out.end(), config_.info_hash.begin(), config_.info_hash.end());
    out.insert(out.end(), peer_id_.begin(), peer_id_.end());
    put_be(out, 0, 8);   // downloaded
    put_be(out, 1, 8);   // left: a live stream is never complete, so we are never a "seed"
    put_be(out, 0, 8);   // uploaded
    put_be(out, event, 4);
    put_be(out, 0, 4);   // IP: the one the datagram comes from
    put_be(out, key_, 4);
    put_be(out, static_cast<std::uint32_t>(config_.num_want), 4);
    put_be(out, config_.port, 2);
  }
  out_.push_back(Transmit{t.endpoint, std::move(out)});
}

void TrackerClient::handle_datagram(const Endpoint& from, std::span<const std::uint8_t> in, Time now) {
  auto it = std::find_if(trackers_.begin(), trackers_.end(), [&](const Tracker& t) { return t.endpoint == from; });
  if (it == trackers_.end()) return;
  Tracker& t = *it;
  if (in.size() < 8 || t.phase == Phase::idle || get_be(in, 4, 4) != t.transaction) {
    ++stats_.malformed;  // late, duplicated or forged: only the answer to the request in flight counts
    return;
  }
  const auto action = get_be(in, 0, 4);
  if (action == Action::error) {
    ++stats_.errors;
    t.phase = Phase::idle;
    t.next_announce = now + config_.min_interval;
    return;
  }
  if (t.phase == Phase::connecting && action == Action::connect && in.size() >= 16) {
    t.connection_id = get_be(in, 8, 8);
    t.connected_at = now;
    t.phase = Phase::announcing;
    t.attempts = 0;
    send_request(t, now);
    return;
  }
  if (t.phase == Phase::announcing && action == Action::announce && in.size() >= 20 && (in.size() - 20) % 6 == 0) {
    const auto interval = std::chrono::seconds(get_be(in, 8, 4));
    t.phase = Phase::idle;
    t.started = true;
    t.next_announce = now + std::clamp<Time>(interval, config_.min_interval, config_.max_interval);
    ++stats_.announces;
    for (std::size_t at = 20; at + 6 <= in.size(); at += 6) {
      const auto ip = static_cast<std::uint32_t>(get_be(in, at, 4));
      const auto port = static_cast<std::uint16_t>(get_be(in, at + 4, 2));
      if (ip == 0 || port == 0) continue;
      learned_.push_back(Endpoint::v4(ip, port));
      ++stats_.peers_learned;
    }
    return;
  }
  ++stats_.malformed;
}

void TrackerClient::stop(Time now) {
  for (auto& t : trackers_) {
    if (!t.started || now - t.connected_at >= connection_lifetime) continue;
    t.phase = Phase::announcing;
    send_request(t, now, Event::stopped);
    t.phase = Phase::idle;
  }
}

std::optional<Transmit> TrackerClient::poll_transmit() {
  if (out_.empty()) return std::nullopt;
  auto t = std::move(out_.front());
  out_.erase(out_.begin());
  return t;
}

std::optional<Time> TrackerClient::poll_timeout() const {
  if (config_.port == 0) return std::nullopt;
  std::optional<Time> next;
  for (const auto& t : trackers_) {
    const auto at = t.phase == Phase::idle ? t.next_announce : t.sent_at + retry_after(t);
    next = next ? std::min(*next, at) : at;
  }
  return next;
}

std::vector<Endpoint> TrackerClient::take_peers() { return std::exchange(learned_, {}); }

}  // namespace p2plive
