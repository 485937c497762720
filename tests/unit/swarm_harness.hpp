// A tiny in-memory network for protocol tests: swarms exchange datagrams with a fixed one-way delay and an
// optional loss rate, in virtual time. (The full simulator, with capacities and churn, lives elsewhere.)
// Besides swarms it holds agents: a bare session layer whose messages the test writes itself, for the
// misbehaving peers an attack needs (a Sybil, a liar, a forger) once it has a session like anyone else.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>

#include "protocol/swarm.hpp"

namespace p2plive::test {

struct Agent {
  Agent(const PublicKey& stream_key, std::uint64_t seed)
      : layer(session::SessionConfig{.stream_tag = wire::stream_tag(stream_key)}, session::cheap_crypto(seed, false)) {}
  session::SessionLayer layer;
  std::vector<std::pair<Endpoint, wire::Message>> received;
  // Says `m` to `to` in a session, opening one first (the message rides in the handshake) if need be.
  void send(const Endpoint& to, const wire::Message& m, Time now) {
    const auto body = wire::encode(m);
    std::vector<std::uint8_t> out;
    if (layer.seal(to, wire::type_of(m), body, out)) outbox.push_back(Transmit{to, std::move(out)});
    else layer.connect(to, wire::type_of(m), body, now);
  }
  void send_fragment(const Endpoint& to, const Chunk& c, std::size_t index) {
    std::vector<std::uint8_t> body, out;
    wire::encode_fragment(c, index, body);
    if (layer.seal(to, wire::fragment_type, body, out)) outbox.push_back(Transmit{to, std::move(out)});
  }
  std::vector<Transmit> outbox;
};

class Net {
 public:
  explicit Net(Time one_way_delay = 5ms, double loss = 0.0, std::uint64_t seed = 1)
      : delay_(one_way_delay), loss_(loss), rng_(seed) {}

  Swarm& add(const Endpoint& at, SwarmConfig config) {
    auto& node = nodes_[at];
    node.swarm = std::make_unique<Swarm>(std::move(config));
    node.swarm->handle_timeout(now_);
    flush(at);
    return *node.swarm;
  }
  Agent& add_agent(const Endpoint& at, const PublicKey& stream_key) {
    return *agents_.emplace(at, std::make_unique<Agent>(stream_key, at.port)).first->second;
  }
  void remove(const Endpoint& at) { nodes_.erase(at); }
  Swarm& at(const Endpoint& e) { return *nodes_.at(e).swarm; }
  std::vector<Chunk>& delivered(const Endpoint& e) { return nodes_.at(e).delivered; }
  // When each of delivered(e) was verified, in the same order.
  const std::vector<Time>& delivered_at(const Endpoint& e) { return nodes_.at(e).delivered_at; }
  std::vector<EpochStarted>& epochs(const Endpoint& e) { return nodes_.at(e).epochs; }
  Time now() const { return now_; }

  // Every datagram in flight, by arrival time; a hook may inspect (and drop) each one.
  std::function<bool(const Endpoint& from, const Endpoint& to, std::span<const std::uint8_t>)> on_datagram;

  void inject(const Endpoint& from, const Endpoint& to, std::vector<std::uint8_t> bytes) {
    queue_.push({now_ + delay_, seq_++, from, to, std::move(bytes)});
  }

  void publish(const Endpoint& broadcaster, Chunk chunk) {
    nodes_.at(broadcaster).swarm->publish(std::move(chunk), now_);
    flush(broadcaster);
  }

  void run_until(Time end) {
    while (true) {
      Time next = end;
      if (!queue_.empty()) next = std::min(next, queue_.top().at);
      for (auto& [e, n] : nodes_) next = std::min(next, n.swarm->poll_timeout());
      for (auto& [e, a] : agents_) next = std::min(next, a->outbox.empty() ? a->layer.next_timeout() : now_);
      if (next >= end && (queue_.empty() || queue_.top().at > end)) {
        now_ = end;
        break;
      }
      now_ = std::max(now_, next);
      while (!queue_.empty() && queue_.top().at <= now_) {
        auto d = queue_.top();
        queue_.pop();
        if (on_datagram && !on_datagram(d.from, d.to, d.bytes)) continue;
        if (auto a = agents_.find(d.to); a != agents_.end()) {
          if (auto in = a->second->layer.receive(d.from, d.bytes, now_))
            if (auto m = wire::decode(in->type, in->body)) a->second->received.emplace_back(d.from, *m);
          continue;
        }
        auto it = nodes_.find(d.to);
        if (it == nodes_.end()) continue;
        it->second.swarm->handle_datagram(d.from, d.bytes, now_);
        flush(d.to);
      }
      for (auto& [e, n] : nodes_) {
        if (n.swarm->poll_timeout() <= now_) {
          n.swarm->handle_timeout(now_);
          flush(e);
        }
      }
      for (auto& [e, a] : agents_) {
        if (a->layer.next_timeout() <= now_) a->layer.handle_timeout(now_);
        while (auto t = a->layer.poll_transmit()) a->outbox.push_back(std::move(*t));
        for (auto& t : a->outbox) queue_.push({now_ + delay_, seq_++, e, t.to, std::move(t.bytes)});
        a->outbox.clear();
      }
    }
  }

 private:
  struct Datagram {
    Time at;
    std::uint64_t order;
    Endpoint from, to;
    std::vector<std::uint8_t> bytes;
    bool operator>(const Datagram& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  struct Node {
    std::unique_ptr<Swarm> swarm;
    std::vector<Chunk> delivered;
    std::vector<Time> delivered_at;
    std::vector<EpochStarted> epochs;
  };

  void flush(const Endpoint& e) {
    auto& n = nodes_.at(e);
    while (auto t = n.swarm->poll_transmit(now_)) {
      if (loss_ > 0 && std::uniform_real_distribution<>(0, 1)(rng_) < loss_) continue;
      queue_.push({now_ + delay_, seq_++, e, t->to, std::move(t->bytes)});
    }
    while (auto ev = n.swarm->poll_event()) {
      if (auto* verified = std::get_if<ChunkVerified>(&*ev)) {
        n.delivered.push_back(*verified->chunk);
        n.delivered_at.push_back(now_);
      } else
        n.epochs.push_back(std::get<EpochStarted>(*ev));
    }
  }

  Time delay_;
  double loss_;
  std::mt19937_64 rng_;
  Time now_{0};
  std::uint64_t seq_ = 0;
  std::map<Endpoint, Node> nodes_;
  std::map<Endpoint, std::unique_ptr<Agent>> agents_;
  std::priority_queue<Datagram, std::vector<Datagram>, std::greater<>> queue_;
};

}  // namespace p2plive::test
