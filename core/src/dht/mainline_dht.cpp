#include "dht/mainline_dht.hpp"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <thread>

namespace p2plive {
namespace {

namespace lt = libtorrent;
using Clock = std::chrono::steady_clock;

const std::string salt = "p2plive";

// P2PLIVE_DHT_DEBUG=1 logs every DHT message and routing decision (with --verbose): for maintainers.
bool debug() {
  static const bool on = std::getenv("P2PLIVE_DHT_DEBUG") != nullptr;
  return on;
}
// BEP 44 items live about two hours on the nodes that store them, announced peers half an hour: both are
// refreshed well before. A put or announce made before the routing table has filled reaches nobody, so
// those are tried again soon until one is stored.
constexpr auto republish_interval = std::chrono::minutes(10);
constexpr auto retry_interval = std::chrono::seconds(2);
constexpr auto lookup_interval = std::chrono::seconds(2);
constexpr auto stats_interval = std::chrono::seconds(2);

std::array<char, 32> as_chars(const PublicKey& key) {
  std::array<char, 32> out{};
  std::memcpy(out.data(), key.bytes.data(), out.size());
  return out;
}

lt::sha1_hash info_hash_of(const PublicKey& key) {
  const auto hash = swarm_info_hash(key);
  return lt::sha1_hash(reinterpret_cast<const char*>(hash.data()));
}

class DhtNode final : public MainlineDht {
 public:
  explicit DhtNode(DhtConfig config) : config_(std::move(config)) {}
  ~DhtNode() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::error_code open() {
    lt::settings_pack pack;
    pack.set_bool(lt::settings_pack::enable_dht, true);
    pack.set_bool(lt::settings_pack::enable_lsd, false);
    pack.set_bool(lt::settings_pack::enable_upnp, false);
    pack.set_bool(lt::settings_pack::enable_natpmp, false);
    pack.set_bool(lt::settings_pack::enable_incoming_tcp, false);
    pack.set_bool(lt::settings_pack::enable_outgoing_tcp, false);
    pack.set_str(lt::settings_pack::listen_interfaces, config_.listen.to_string());
    pack.set_int(lt::settings_pack::alert_mask,
                 lt::alert_category::dht | lt::alert_category::dht_operation | lt::alert_category::error |
                     lt::alert_category::status | lt::alert_category::stats |
                     (debug() ? lt::alert_category::dht_log : lt::alert_category_t{}));
    // Our own bootstrap nodes are pinged and, once they answer, kept in the routing table like any other
    // node (add_dht_node). As libtorrent's routers they would never be: a routing table of a small DHT
    // whose every member is somebody's router stays empty.
    if (!config_.bootstrap.empty()) pack.set_str(lt::settings_pack::dht_bootstrap_nodes, "");
    if (config_.private_network) {
      // A test DHT: every node on one loopback address or a few private ones, which the public DHT's
      // defenses (one node per address block, no reserved ranges) would throw away.
      pack.set_bool(lt::settings_pack::dht_restrict_routing_ips, false);
      pack.set_bool(lt::settings_pack::dht_restrict_search_ips, false);
      pack.set_bool(lt::settings_pack::dht_ignore_dark_internet, false);
      pack.set_bool(lt::settings_pack::dht_prefer_verified_node_ids, false);
      // ...and one address sending as much as all our nodes do would be blocked as a flood.
      pack.set_int(lt::settings_pack::dht_block_ratelimit, 100000);
    }
    try {
      session_ = std::make_unique<lt::session>(lt::session_params(std::move(pack)));
    } catch (const std::exception& e) {
      log(std::string("DHT: ") + e.what());
      return Errc::socket_failed;
    }
    // The port is known once libtorrent has bound it; failing to bind is said the same way.
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline && local_port_ == 0 && !bind_failed_) {
      session_->wait_for_alert(std::chrono::milliseconds(100));
      take_alerts();
    }
    if (local_port_ == 0) return bind_failed_ ? Errc::port_in_use : Errc::socket_failed;
    add_bootstrap_nodes();
    thread_ = std::thread([this] { run(); });
    return {};
  }

  void publish(const SecretKey& key, std::uint16_t swarm_port, std::vector<Endpoint> endpoints,
               std::uint64_t epoch) override {
    std::lock_guard lock(mutex_);
    if (publishing_ && publishing_->port == swarm_port && publishing_->record.endpoints == endpoints &&
        publishing_->record.epoch == epoch)
      return;
    const auto seq = publishing_ ? publishing_->record.seq + 1 : 0;
    publishing_.emplace(Publishing{key, swarm_port, StreamRecord{std::move(endpoints), epoch, seq}});
  }

  void lookup(const PublicKey& key, FoundFn found) override {
    std::lock_guard lock(mutex_);
    looking_up_.emplace(LookingUp{key, std::move(found)});
  }
  void stop_lookup() override {
    std::lock_guard lock(mutex_);
    looking_up_.reset();
  }
  std::size_t nodes() const override { return nodes_; }
  Endpoint local_endpoint() const override {
    Endpoint e = config_.listen;
    e.port = local_port_;
    return e;
  }

 private:
  struct Publishing {
    SecretKey key;
    std::uint16_t port = 0;
    StreamRecord record;
    Clock::time_point next{};
    bool stored = false;
  };
  struct LookingUp {
    PublicKey key;
    FoundFn found;
    Clock::time_point next{};
  };

  void log(const std::string& message) const {
    if (config_.log) config_.log(message);
  }

  void add_bootstrap_nodes() {
    for (const auto& b : config_.bootstrap) {
      const auto colon = b.rfind(':');
      if (colon == std::string::npos) continue;
      auto host = b.substr(0, colon);
      if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
      session_->add_dht_node({host, std::atoi(b.c_str() + colon + 1)});
    }
  }

  void run() {
    auto next_stats = Clock::now();
    while (!stop_) {
      session_->wait_for_alert(std::chrono::milliseconds(100));
      take_alerts();
      const auto now = Clock::now();
      if (now >= next_stats) {
        session_->post_dht_stats();
        // Nobody in the table (our bootstrap nodes were not up yet, or went away): ask them again.
        if (nodes_ == 0) add_bootstrap_nodes();
        next_stats = now + stats_interval;
      }
      std::lock_guard lock(mutex_);
      if (publishing_ && now >= publishing_->next) put(*publishing_, now);
      if (looking_up_ && now >= looking_up_->next) {
        session_->dht_get_item(as_chars(looking_up_->key), salt);
        session_->dht_get_peers(info_hash_of(looking_up_->key));
        looking_up_->next = now + lookup_interval;
      }
    }
  }

  void put(Publishing& p, Clock::time_point now) {
    session_->dht_announce(info_hash_of(p.key.public_key()), p.port);
    const std::string value = encode_record(p.record);
    const SecretKey key = p.key;
    const std::int64_t ours = p.record.seq;
    // On libtorrent's thread, with the value the DHT holds now: ours replaces it, one sequence number on.
    session_->dht_put_item(
        as_chars(key.public_key()),
        [key, value, ours](lt::entry& v, std::array<char, 64>& signature, std::int64_t& seq,
                           const std::string& s) {
          seq = std::max(seq + 1, ours);
          v = lt::bdecode(value);
          const auto message = signed_part(s, seq, value);
          const auto sig = key.sign(reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
          std::memcpy(signature.data(), sig.data(), signature.size());
        },
        salt);
    p.next = now + (p.stored && nodes_ > 0 ? republish_interval : retry_interval);
  }

  void take_alerts() {
    std::vector<lt::alert*> alerts;
    session_->pop_alerts(&alerts);
    for (lt::alert* a : alerts) {
      if (auto* listen = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
        if (listen->socket_type == lt::socket_type_t::utp)
          local_port_ = static_cast<std::uint16_t>(listen->port);
      } else if (lt::alert_cast<lt::listen_failed_alert>(a)) {
        bind_failed_ = true;
        log(a->message());
      } else if (debug() && (lt::alert_cast<lt::dht_log_alert>(a) || lt::alert_cast<lt::dht_pkt_alert>(a))) {
        log(a->message());
      } else if (lt::alert_cast<lt::dht_bootstrap_alert>(a)) {
        log("DHT: bootstrapped");
      } else if (auto* stats = lt::alert_cast<lt::dht_stats_alert>(a)) {
        std::size_t n = 0;
        for (const auto& bucket : stats->routing_table) n += static_cast<std::size_t>(bucket.num_nodes);
        nodes_ = n;
      } else if (auto* put = lt::alert_cast<lt::dht_put_alert>(a)) {
        std::lock_guard lock(mutex_);
        if (publishing_ && put->num_success > 0 && !publishing_->stored) {
          publishing_->stored = true;
          publishing_->next = Clock::now() + republish_interval;
          log("DHT: stream record stored on " + std::to_string(put->num_success) + " nodes");
        }
      } else if (auto* item = lt::alert_cast<lt::dht_mutable_item_alert>(a)) {
        found(*item);
      } else if (auto* peers = lt::alert_cast<lt::dht_get_peers_reply_alert>(a)) {
        std::vector<Endpoint> endpoints;
        for (const auto& e : peers->peers()) {
          auto parsed = Endpoint::parse(e.address().to_string() + ":" + std::to_string(e.port()));
          if (e.address().is_v6())
            parsed = Endpoint::parse("[" + e.address().to_string() + "]:" + std::to_string(e.port()));
          if (parsed) endpoints.push_back(*parsed);
        }
        deliver(std::move(endpoints), false);
      }
    }
  }

  // libtorrent checks an item's signature before it posts it; we check it again, against the key we asked
  // for, since nothing unverified may steer a node. A lookup that found nothing posts an empty item.
  void found(const lt::dht_mutable_item_alert& item) {
    if (item.item.type() == lt::entry::undefined_t) return;
    PublicKey key;
    {
      std::lock_guard lock(mutex_);
      if (!looking_up_ || as_chars(looking_up_->key) != item.key) return;
      key = looking_up_->key;
    }
    std::string bencoded;
    lt::bencode(std::back_inserter(bencoded), item.item);
    const auto message = signed_part(item.salt, item.seq, bencoded);
    std::array<std::uint8_t, 64> signature{};
    std::memcpy(signature.data(), item.signature.data(), signature.size());
    if (!verify_signature(key, reinterpret_cast<const std::uint8_t*>(message.data()), message.size(),
                          signature)) {
      log("DHT: a stream record whose signature fails, ignored");
      return;
    }
    if (auto record = decode_record(bencoded)) deliver(std::move(record->endpoints), true);
  }

  void deliver(std::vector<Endpoint> endpoints, bool signed_record) {
    FoundFn found;
    {
      std::lock_guard lock(mutex_);
      if (!looking_up_ || endpoints.empty()) return;
      found = looking_up_->found;
    }
    found(std::move(endpoints), signed_record);
  }

  DhtConfig config_;
  std::unique_ptr<lt::session> session_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint16_t> local_port_{0};
  std::atomic<std::size_t> nodes_{0};
  bool bind_failed_ = false;
  mutable std::mutex mutex_;
  std::optional<Publishing> publishing_;
  std::optional<LookingUp> looking_up_;
};

}  // namespace

std::string signed_part(const std::string& salt_text, std::int64_t seq, const std::string& value) {
  std::string out;
  if (!salt_text.empty()) out += "4:salt" + std::to_string(salt_text.size()) + ":" + salt_text;
  out += "3:seqi" + std::to_string(seq) + "e1:v" + value;
  return out;
}

std::string encode_record(const StreamRecord& record) {
  lt::entry e;  // a dictionary once indexed
  e["v"] = 1;
  char epoch[17];
  std::snprintf(epoch, sizeof epoch, "%016llx", static_cast<unsigned long long>(record.epoch));
  e["e"] = std::string(epoch);
  auto& list = e["p"] = lt::entry::list_type{};
  for (const auto& ep : record.endpoints) list.list().emplace_back(ep.to_string());
  std::string out;
  lt::bencode(std::back_inserter(out), e);
  return out;
}

std::optional<StreamRecord> decode_record(const std::string& bencoded) {
  lt::error_code ec;
  const auto node = lt::bdecode(bencoded, ec);
  if (ec || node.type() != lt::bdecode_node::dict_t || node.dict_find_int_value("v", 0) != 1)
    return std::nullopt;
  StreamRecord record;
  const auto epoch = node.dict_find_string_value("e");
  record.epoch = std::strtoull(std::string(epoch.data(), epoch.size()).c_str(), nullptr, 16);
  const auto list = node.dict_find_list("p");
  // The value holds at most BEP 44's 1,000 bytes: a few dozen endpoints at most.
  for (int i = 0; list && i < list.list_size() && i < 32; ++i) {
    const auto text = list.list_string_value_at(i);
    if (auto ep = Endpoint::parse(std::string_view(text.data(), text.size())))
      record.endpoints.push_back(*ep);
  }
  return record;
}

Result<std::unique_ptr<MainlineDht>> MainlineDht::start(DhtConfig config) {
  auto node = std::make_unique<DhtNode>(std::move(config));
  if (auto ec = node->open()) return ec;
  return std::unique_ptr<MainlineDht>(std::move(node));
}

}  // namespace p2plive
