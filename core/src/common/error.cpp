#include "p2plive/error.hpp"

namespace p2plive {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "p2plive"; }

  // Messages are read by people at a terminal or in OBS: each says what is wrong and what to do.
  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::ok: return "success";
      case Errc::key_bad_prefix: return "this is not a p2plive secret key (it must start with p2plsk1_); run `p2plive keygen --out FILE` to make one";
      case Errc::key_bad_encoding: return "the key text is malformed (wrong length or characters); copy the whole line from the key file again";
      case Errc::key_bad_checksum: return "the key text is damaged (checksum mismatch); copy the whole line from the key file again";
      case Errc::key_file_unreadable: return "cannot read the key file; check the path, or create one with `p2plive keygen --out FILE`";
      case Errc::key_file_unwritable: return "cannot create the key file (it may already exist, or the folder is not writable); pick a new path";
      case Errc::link_bad_prefix: return "this is not a p2plive link (it must start with p2plive:1:); copy the whole link again";
      case Errc::link_bad_version: return "this link is from a newer p2plive version; update p2plive";
      case Errc::link_bad_field: return "the link has a damaged field; copy the whole link again";
      case Errc::link_bad_endpoint: return "the link has a malformed peer address (expected HOST:PORT); copy the whole link again";
      case Errc::link_no_bootstrap:
        return "the link names no peer or tracker to join through, and the DHT is off (--no-dht, or a "
               "loopback address with no --dht-bootstrap); ask the streamer for a link made with --peer or "
               "--tracker, or turn the DHT on";
      case Errc::tracker_bad_url: return "malformed tracker URL; expected udp://HOST:PORT (only UDP trackers, BEP 15, are supported)";
      case Errc::endpoint_bad_format: return "malformed address; expected IPv4:PORT, [IPv6]:PORT or localhost:PORT";
      case Errc::endpoint_bad_port: return "malformed port; expected a number from 0 to 65535";
      case Errc::port_in_use: return "the UDP port is already in use; pick another with --listen HOST:PORT";
      case Errc::socket_failed: return "cannot open a UDP socket on that address; check --listen HOST:PORT";
      case Errc::tracker_unresolved: return "cannot resolve the tracker's host name; check the tracker URL and the network";
      case Errc::input_open_failed: return "cannot open the input; check the path or URL (lavfi sources are written lavfi:GRAPH)";
      case Errc::input_no_streams: return "the input has no audio or video stream";
      case Errc::codec_unsupported: return "unsupported codec; use h264/hevc/av1 video and aac/opus audio";
      case Errc::muxer_failed: return "the MPEG-TS muxer rejected the stream";
      case Errc::encoder_failed: return "the encoder failed";
      case Errc::output_open_failed: return "cannot open the output file; check the path";
    }
    return "unknown p2plive error";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace p2plive
