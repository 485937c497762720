#include "p2plive/dht_node.hpp"

#include "dht/mainline_dht.hpp"

namespace p2plive {
namespace {

class StandaloneNode final : public DhtNode {
 public:
  explicit StandaloneNode(std::unique_ptr<MainlineDht> dht) : dht_(std::move(dht)) {}
  Endpoint local_endpoint() const override { return dht_->local_endpoint(); }
  std::size_t nodes() const override { return dht_->nodes(); }

 private:
  std::unique_ptr<MainlineDht> dht_;
};

}  // namespace

Result<std::unique_ptr<DhtNode>> DhtNode::start(const Endpoint& listen, std::vector<std::string> bootstrap,
                                                LogSink log) {
  DhtConfig config;
  config.listen = listen;
  config.private_network = !bootstrap.empty();
  config.bootstrap = std::move(bootstrap);
  config.log = [log = std::move(log)](const std::string& line) {
    if (log) log(LogLevel::info, line);
  };
  auto dht = MainlineDht::start(std::move(config));
  if (!dht) return dht.error();
  return std::unique_ptr<DhtNode>(std::make_unique<StandaloneNode>(std::move(dht).value()));
}

}  // namespace p2plive
