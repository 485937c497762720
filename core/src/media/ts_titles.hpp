// Reads what a viewer needs to know of the MPEG-TS it plays, as the bytes go to its players: whether the
// stream has video, and the track titles its timed ID3 carries. Bounded, and never trusts a length:
// the bytes are verified (signed by the broadcaster), but a broadcaster's muxer may still write nonsense.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace p2plive {

class TsTitleReader {
 public:
  // Whole 188-byte packets or not: a packet split across two calls is put together.
  void feed(std::span<const std::uint8_t> ts);
  // The titles that arrived since the last calls, oldest first (the last 16 at most), each with its PTS in
  // microseconds (the stream's clock).
  struct Title {
    std::string text;
    std::int64_t pts_us = -1;  // -1: the PES had none
  };
  std::optional<Title> poll_title();
  // What the stream's program map lists: nullopt until one has been read.
  std::optional<bool> has_video() const { return has_video_; }
  // The player starts afresh (a new broadcast session): what was half read is dropped.
  void reset();

 private:
  void packet(const std::uint8_t* p);
  void read_pat(std::span<const std::uint8_t> payload);
  void read_pmt(std::span<const std::uint8_t> payload);
  void finish_pes();

  std::vector<std::uint8_t> partial_;  // a packet split across feeds
  int pmt_pid_ = -1;
  int id3_pid_ = -1;
  std::optional<bool> has_video_;
  std::vector<std::uint8_t> pes_;  // the timed ID3 PES being put together
  bool in_pes_ = false;
  std::deque<Title> titles_;
};

}  // namespace p2plive
