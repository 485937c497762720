#include "runtime/tracker_urls.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <charconv>

namespace p2plive {

Result<TrackerUrl> parse_tracker_url(std::string_view url) {
  constexpr std::string_view scheme = "udp://";
  if (url.substr(0, scheme.size()) != scheme) return Errc::tracker_bad_url;
  auto rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));  // the path (usually /announce) means nothing to BEP 15
  std::string_view host, port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return Errc::tracker_bad_url;
    host = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return Errc::tracker_bad_url;
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535)
    return Errc::tracker_bad_url;
  return TrackerUrl{std::string(host), static_cast<std::uint16_t>(port)};
}

Result<Endpoint> resolve_tracker(std::string_view url) {
  auto parsed = parse_tracker_url(url);
  if (!parsed) return parsed.error();
  asio::io_context io;
  asio::ip::udp::resolver resolver(io);
  std::error_code ec;
  const auto results = resolver.resolve(parsed->host, std::to_string(parsed->port), ec);
  if (ec || results.empty()) return Errc::tracker_unresolved;
  // Prefer IPv4: BEP 15 answers list IPv4 peers, and most trackers listen there.
  auto chosen = results.begin()->endpoint();
  for (const auto& r : results)
    if (r.endpoint().address().is_v4()) {
      chosen = r.endpoint();
      break;
    }
  Endpoint e;
  const auto address = chosen.address();
  const auto v6 = address.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()) : address.to_v6();
  e.address = v6.to_bytes();
  e.port = chosen.port();
  return e;
}

}  // namespace p2plive
