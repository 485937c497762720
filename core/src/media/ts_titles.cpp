#include "media/ts_titles.hpp"

#include "media/id3.hpp"

namespace p2plive {
namespace {

constexpr std::size_t packet_bytes = 188;
constexpr std::size_t max_pes_bytes = 16 * 1024;  // a title tag is a few hundred bytes
constexpr std::uint8_t stream_type_metadata = 0x15;
constexpr std::size_t max_titles_held = 16;

// Video stream types: MPEG-1/2, MPEG-4 part 2, H.264, H.265. (Private streams, type 0x06, are left out:
// Opus travels as one.)
bool is_video_type(std::uint8_t t) { return t == 0x01 || t == 0x02 || t == 0x10 || t == 0x1b || t == 0x24; }

// The section a PSI payload starts (pointer field, then the table), if it fits in this packet: FFmpeg's
// PAT and PMT always do.
std::span<const std::uint8_t> section_of(std::span<const std::uint8_t> payload, std::uint8_t table_id) {
  if (payload.empty() || payload[0] + 1u > payload.size()) return {};
  auto s = payload.subspan(payload[0] + 1u);
  if (s.size() < 3 || s[0] != table_id) return {};
  const std::size_t length = (s[1] & 0x0f) << 8 | s[2];
  if (length < 9 || 3 + length > s.size()) return {};
  return s.subspan(0, 3 + length - 4);  // without the CRC
}

}  // namespace

void TsTitleReader::reset() {
  partial_.clear();
  pes_.clear();
  in_pes_ = false;
}

void TsTitleReader::feed(std::span<const std::uint8_t> ts) {
  if (!partial_.empty()) {
    const auto take = std::min(ts.size(), packet_bytes - partial_.size());
    partial_.insert(partial_.end(), ts.begin(), ts.begin() + static_cast<std::ptrdiff_t>(take));
    ts = ts.subspan(take);
    if (partial_.size() < packet_bytes) return;
    packet(partial_.data());
    partial_.clear();
  }
  for (; ts.size() >= packet_bytes; ts = ts.subspan(packet_bytes)) packet(ts.data());
  partial_.assign(ts.begin(), ts.end());
}

std::optional<TsTitleReader::Title> TsTitleReader::poll_title() {
  if (titles_.empty()) return std::nullopt;
  auto t = std::move(titles_.front());
  titles_.pop_front();
  return t;
}

void TsTitleReader::packet(const std::uint8_t* p) {
  if (p[0] != 0x47) return;
  const bool start = p[1] & 0x40;
  const int pid = (p[1] & 0x1f) << 8 | p[2];
  const int adaptation = (p[3] >> 4) & 0x3;
  std::size_t offset = 4;
  if (adaptation & 0x2) offset += 1 + p[4];
  if (!(adaptation & 0x1) || offset >= packet_bytes) return;
  const std::span<const std::uint8_t> payload(p + offset, packet_bytes - offset);
  if (pid == 0 && start) return read_pat(payload);
  if (pid == pmt_pid_ && start) return read_pmt(payload);
  if (pid != id3_pid_ || id3_pid_ < 0) return;
  if (start) {
    finish_pes();
    in_pes_ = true;
  }
  if (!in_pes_) return;
  if (pes_.size() + payload.size() > max_pes_bytes) {
    pes_.clear();
    in_pes_ = false;
    return;
  }
  pes_.insert(pes_.end(), payload.begin(), payload.end());
  // A PES that says its length is complete once that much has come: no need to wait for the next one.
  if (pes_.size() >= 6) {
    const std::size_t length = pes_[4] << 8 | pes_[5];
    if (length != 0 && pes_.size() >= 6 + length) finish_pes();
  }
}

void TsTitleReader::read_pat(std::span<const std::uint8_t> payload) {
  const auto s = section_of(payload, 0x00);
  for (std::size_t i = 8; i + 4 <= s.size(); i += 4) {
    const int program = s[i] << 8 | s[i + 1];
    if (program == 0) continue;  // the network PID
    pmt_pid_ = (s[i + 2] & 0x1f) << 8 | s[i + 3];
    return;
  }
}

void TsTitleReader::read_pmt(std::span<const std::uint8_t> payload) {
  const auto s = section_of(payload, 0x02);
  if (s.size() < 12) return;
  const std::size_t info_length = (s[10] & 0x0f) << 8 | s[11];
  bool video = false;
  int id3 = -1;
  for (std::size_t i = 12 + info_length; i + 5 <= s.size();) {
    const auto type = s[i];
    const int pid = (s[i + 1] & 0x1f) << 8 | s[i + 2];
    const std::size_t es_info = (s[i + 3] & 0x0f) << 8 | s[i + 4];
    video = video || is_video_type(type);
    if (type == stream_type_metadata) id3 = pid;
    i += 5 + es_info;
  }
  has_video_ = video;
  if (id3 != id3_pid_) {
    pes_.clear();
    in_pes_ = false;
  }
  id3_pid_ = id3;
}

void TsTitleReader::finish_pes() {
  std::vector<std::uint8_t> pes;
  pes.swap(pes_);
  const bool was_in = in_pes_;
  in_pes_ = false;
  if (!was_in || pes.size() < 9 || pes[0] != 0 || pes[1] != 0 || pes[2] != 1) return;
  const std::size_t length = pes[4] << 8 | pes[5];
  if (length != 0 && 6 + length < pes.size()) pes.resize(6 + length);
  const std::size_t header = 9u + pes[8];
  if (header > pes.size()) return;
  std::int64_t pts_us = -1;
  if ((pes[7] & 0x80) && pes[8] >= 5) {
    const std::int64_t pts = static_cast<std::int64_t>(pes[9] & 0x0e) << 29 | pes[10] << 22 |
                             (pes[11] & 0xfe) << 14 | pes[12] << 7 | pes[13] >> 1;
    pts_us = pts * 100 / 9;
  }
  const auto text = id3_title(std::span(pes).subspan(header));
  if (!text) return;
  if (titles_.size() >= max_titles_held) titles_.pop_front();
  titles_.push_back(Title{*text, pts_us});
}

}  // namespace p2plive
