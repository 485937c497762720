// The media path of a broadcast without OBS: an FFmpeg input (a generated test pattern and tone) becomes
// h264/aac packets, and the TS muxer turns them into MPEG-TS that a viewer can join at any join point.
#include "media/ts_muxer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <span>
#include <thread>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "p2plive/media_input.hpp"

namespace p2plive {
namespace {

constexpr std::size_t ts_packet_bytes = 188;
constexpr unsigned pat_pid = 0;
constexpr double source_duration_s = 3.0;
constexpr const char* three_second_source =
    "lavfi:testsrc2=size=320x240:rate=30:duration=3[out0];sine=frequency=440:sample_rate=48000:duration=3[out1]";
// One sink only: FFmpeg 5.1's lavfi device leaks a frame when a graph with several sinks is closed before
// its end, which these tests do on purpose.
constexpr const char* endless_source = "lavfi:testsrc2=size=160x120:rate=30";

MediaInputConfig input_config(const char* url) {
  MediaInputConfig config;
  config.url = url;
  config.realtime = false;
  config.keyframe_interval_s = 0.5;
  config.video_bitrate_kbps = 500;
  return config;
}

unsigned pid_at(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return (bytes[offset + 1] & 0x1fu) << 8 | bytes[offset + 2];
}

// Removes SPS (7) and PPS (8) NAL units, as OBS's encoders send keyframes: parameter sets only in extradata.
std::vector<std::uint8_t> without_parameter_sets(const std::vector<std::uint8_t>& annex_b) {
  std::vector<std::size_t> starts;  // offsets of the 00 00 01 of each NAL unit
  for (std::size_t i = 0; i + 2 < annex_b.size(); ++i)
    if (annex_b[i] == 0 && annex_b[i + 1] == 0 && annex_b[i + 2] == 1) starts.push_back(i);
  std::vector<std::uint8_t> out;
  for (std::size_t n = 0; n < starts.size(); ++n) {
    const std::size_t begin = starts[n];
    const std::size_t end = n + 1 < starts.size() ? starts[n + 1] : annex_b.size();
    const int type = annex_b[begin + 3] & 0x1f;
    if (type == 7 || type == 8) continue;
    out.push_back(0);  // a 4-byte start code for every kept unit
    out.insert(out.end(), annex_b.begin() + static_cast<std::ptrdiff_t>(begin),
               annex_b.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

bool has_nal(const std::vector<std::uint8_t>& annex_b, int nal_type) {
  for (std::size_t i = 0; i + 3 < annex_b.size(); ++i) {
    if (annex_b[i] == 0 && annex_b[i + 1] == 0 && annex_b[i + 2] == 1 && (annex_b[i + 3] & 0x1f) == nal_type)
      return true;
  }
  return false;
}

struct Recording {
  std::vector<StreamInfo> streams;
  std::vector<EncodedPacket> packets;
};

Recording record(MediaInput& input) {
  Recording recording{input.streams(), {}};
  while (auto packet = input.read()) recording.packets.push_back(std::move(*packet));
  return recording;
}

struct MuxedTs {
  std::vector<std::uint8_t> bytes;
  std::vector<std::size_t> join_offsets;
  std::vector<std::size_t> callback_sizes;
};

// Muxes packets and records where the join points fall in the byte stream.
class TsCapture {
 public:
  explicit TsCapture(const std::vector<StreamInfo>& streams) {
    auto created = TsMuxer::create(
        streams,
        [this](std::span<const std::uint8_t> bytes) {
          out_.bytes.insert(out_.bytes.end(), bytes.begin(), bytes.end());
          out_.callback_sizes.push_back(bytes.size());
        },
        [this] { out_.join_offsets.push_back(out_.bytes.size()); });
    if (created) muxer_ = std::move(created).value();
  }
  TsMuxer* muxer() { return muxer_.get(); }
  MuxedTs finish() {
    muxer_->finish();
    return std::move(out_);
  }

 private:
  MuxedTs out_;
  std::unique_ptr<TsMuxer> muxer_;
};

MuxedTs mux(const Recording& recording) {
  TsCapture capture(recording.streams);
  EXPECT_NE(capture.muxer(), nullptr);
  if (!capture.muxer()) return {};
  for (const EncodedPacket& packet : recording.packets) EXPECT_FALSE(capture.muxer()->write(packet));
  return capture.finish();
}

// Reads MPEG-TS from memory through a custom AVIOContext, as a player fed by the swarm would.
class TsReader {
 public:
  explicit TsReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {
    constexpr int buffer_bytes = 4096;
    auto* buffer = static_cast<unsigned char*>(av_malloc(buffer_bytes));
    io_ = avio_alloc_context(buffer, buffer_bytes, 0, this, &TsReader::read, nullptr, nullptr);
    format_ = avformat_alloc_context();
    format_->pb = io_;
    format_->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (avformat_open_input(&format_, nullptr, av_find_input_format("mpegts"), nullptr) < 0) {
      format_ = nullptr;  // freed by avformat_open_input
      return;
    }
    open_ = avformat_find_stream_info(format_, nullptr) >= 0;
  }
  ~TsReader() {
    avformat_close_input(&format_);
    if (io_) av_freep(&io_->buffer);
    avio_context_free(&io_);
  }
  TsReader(const TsReader&) = delete;
  TsReader& operator=(const TsReader&) = delete;

  bool open() const { return open_; }
  AVFormatContext* format() { return format_; }
  int stream_of_type(AVMediaType type) const {
    for (unsigned i = 0; i < format_->nb_streams; ++i)
      if (format_->streams[i]->codecpar->codec_type == type) return static_cast<int>(i);
    return -1;
  }

 private:
  static int read(void* opaque, std::uint8_t* buf, int size) {
    auto* self = static_cast<TsReader*>(opaque);
    const std::size_t left = self->bytes_.size() - self->position_;
    if (left == 0) return AVERROR_EOF;
    const std::size_t n = std::min(left, static_cast<std::size_t>(size));
    std::memcpy(buf, self->bytes_.data() + self->position_, n);
    self->position_ += n;
    return static_cast<int>(n);
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
  AVIOContext* io_ = nullptr;
  AVFormatContext* format_ = nullptr;
  bool open_ = false;
};

struct StreamSpan {
  int packets = 0;
  double first_pts_s = 0;
  double last_pts_s = 0;
  double span_s() const { return last_pts_s - first_pts_s; }
};

std::map<AVMediaType, StreamSpan> read_all(TsReader& reader) {
  std::map<AVMediaType, StreamSpan> spans;
  AVPacket* packet = av_packet_alloc();
  while (av_read_frame(reader.format(), packet) >= 0) {
    const AVStream* stream = reader.format()->streams[packet->stream_index];
    StreamSpan& span = spans[stream->codecpar->codec_type];
    const double pts_s = static_cast<double>(packet->pts) * av_q2d(stream->time_base);
    if (span.packets++ == 0) span.first_pts_s = pts_s;
    span.last_pts_s = std::max(span.last_pts_s, pts_s);
    av_packet_unref(packet);
  }
  av_packet_free(&packet);
  return spans;
}

struct FirstVideo {
  bool found = false;
  bool keyframe = false;
  bool decoded = false;
};

// Reads to the first video packet and decodes from there, as a viewer that joins at this point would.
FirstVideo decode_first_video(TsReader& reader) {
  FirstVideo result;
  const int video = reader.stream_of_type(AVMEDIA_TYPE_VIDEO);
  if (video < 0) return result;
  const AVCodecParameters* par = reader.format()->streams[video]->codecpar;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  AVCodecContext* decoder = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(decoder, par);
  decoder->flags2 |= AV_CODEC_FLAG2_SHOW_ALL;  // would show broken frames too: the keyframe must be real
  avcodec_open2(decoder, codec, nullptr);
  AVPacket* packet = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  for (int video_packets = 0; video_packets < 10 && !result.decoded && av_read_frame(reader.format(), packet) >= 0;) {
    if (packet->stream_index == video) {
      if (video_packets++ == 0) {
        result.found = true;
        result.keyframe = (packet->flags & AV_PKT_FLAG_KEY) != 0;
      }
      if (avcodec_send_packet(decoder, packet) >= 0 && avcodec_receive_frame(decoder, frame) >= 0)
        result.decoded = frame->key_frame != 0 && frame->width == par->width;
    }
    av_packet_unref(packet);
  }
  av_frame_free(&frame);
  av_packet_free(&packet);
  avcodec_free_context(&decoder);
  return result;
}

// The 3-second test source, read and encoded once for the whole suite.
class MediaPathTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_ffmpeg_log_level(LogLevel::error);  // x264 and the probes are chatty at info level
    auto input = MediaInput::open(input_config(three_second_source));
    ASSERT_TRUE(input) << input.error().message();
    recording_ = new Recording(record(**input));
    muxed_ = new MuxedTs(mux(*recording_));
  }
  static void TearDownTestSuite() {
    delete recording_;
    delete muxed_;
    recording_ = nullptr;
    muxed_ = nullptr;
  }
  static const Recording& recording() { return *recording_; }
  static const MuxedTs& muxed() { return *muxed_; }

 private:
  static inline Recording* recording_ = nullptr;
  static inline MuxedTs* muxed_ = nullptr;
};

// --- MediaInput -------------------------------------------------------------------------------------------

TEST_F(MediaPathTest, LavfiInputIsEncodedToH264VideoFirstThenAac) {
  const auto& streams = recording().streams;
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].kind, MediaKind::video);
  EXPECT_EQ(streams[0].codec, Codec::h264);
  EXPECT_EQ(streams[0].width, 320);
  EXPECT_EQ(streams[0].height, 240);
  ASSERT_GE(streams[0].extradata.size(), 4u);
  EXPECT_TRUE(has_nal(streams[0].extradata, 7)) << "extradata is Annex B with an SPS";

  EXPECT_EQ(streams[1].kind, MediaKind::audio);
  EXPECT_EQ(streams[1].codec, Codec::aac);
  EXPECT_EQ(streams[1].sample_rate, 48000);
  EXPECT_EQ(streams[1].channels, 2);
  EXPECT_EQ(streams[1].timebase_den, 48000);
  EXPECT_GE(streams[1].extradata.size(), 2u) << "AudioSpecificConfig";
}

TEST_F(MediaPathTest, KeyframesComeAtTheConfiguredIntervalWithSpsInBand) {
  int video_packets = 0;
  int keyframes = 0;
  for (const EncodedPacket& packet : recording().packets) {
    if (packet.stream_index != 0) continue;
    ++video_packets;
    if (!packet.keyframe) continue;
    ++keyframes;
    EXPECT_TRUE(has_nal(packet.data, 7)) << "SPS before the keyframe at dts " << packet.dts;
    EXPECT_TRUE(has_nal(packet.data, 5)) << "the keyframe is an IDR";
  }
  EXPECT_NEAR(video_packets, 90, 2);  // 3 s at 30 fps
  EXPECT_NEAR(keyframes, 6, 1);       // one every 0.5 s
}

TEST_F(MediaPathTest, PacketsComeInDecodeOrderPerStreamAndRoughlyAcrossStreams) {
  std::map<int, std::int64_t> last_dts;
  double last_dts_s = -1;
  for (const EncodedPacket& packet : recording().packets) {
    const StreamInfo& info = recording().streams[static_cast<std::size_t>(packet.stream_index)];
    if (last_dts.contains(packet.stream_index)) {
      EXPECT_GT(packet.dts, last_dts[packet.stream_index]);
    }
    last_dts[packet.stream_index] = packet.dts;
    EXPECT_GE(packet.pts, packet.dts);
    const double dts_s = static_cast<double>(packet.dts) * info.timebase_num / info.timebase_den;
    EXPECT_GT(dts_s, last_dts_s - 0.1) << "interleaved by dts";
    last_dts_s = std::max(last_dts_s, dts_s);
  }
}

TEST(MediaInputTest, NonexistentFileFailsToOpen) {
  auto input = MediaInput::open(input_config("/nonexistent/p2plive-no-such-file.mp4"));
  ASSERT_FALSE(input);
  EXPECT_EQ(input.error(), make_error_code(Errc::input_open_failed));
}

TEST(MediaInputTest, UnknownFilterGraphFailsCleanly) {
  auto input = MediaInput::open(input_config("lavfi:nonsense_filter"));
  ASSERT_FALSE(input);
  EXPECT_EQ(input.error(), make_error_code(Errc::input_open_failed));
}

TEST(MediaInputTest, UnknownForcedFormatFailsCleanly) {
  MediaInputConfig config = input_config("/dev/null");
  config.format = "no_such_demuxer";
  auto input = MediaInput::open(config);
  ASSERT_FALSE(input);
  EXPECT_EQ(input.error(), make_error_code(Errc::input_open_failed));
}

TEST(MediaInputTest, RealtimePacingReleasesPacketsNoFasterThanTheirTimestamps) {
  MediaInputConfig config = input_config(endless_source);
  config.realtime = true;
  auto input = MediaInput::open(config);
  ASSERT_TRUE(input) << input.error().message();
  const auto start = std::chrono::steady_clock::now();
  double first_dts_s = -1;
  double span_s = 0;
  while (span_s < 0.5) {
    auto packet = (*input)->read();
    ASSERT_TRUE(packet);
    if (packet->stream_index != 0) continue;
    const StreamInfo& video = (*input)->streams()[0];
    const double dts_s = static_cast<double>(packet->dts) * video.timebase_num / video.timebase_den;
    if (first_dts_s < 0) first_dts_s = dts_s;
    span_s = dts_s - first_dts_s;
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(450));
}

TEST(MediaInputTest, InterruptWakesABlockedRead) {
  MediaInputConfig config = input_config(endless_source);
  config.realtime = true;
  auto opened = MediaInput::open(config);
  ASSERT_TRUE(opened) << opened.error().message();
  MediaInput& input = **opened;

  std::atomic<int> packets_read{0};
  std::atomic<bool> reader_done{false};
  std::thread reader([&] {
    while (input.read()) ++packets_read;
    reader_done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (packets_read < 5 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_GE(packets_read.load(), 5);

  const auto interrupted_at = std::chrono::steady_clock::now();
  input.interrupt();
  while (!reader_done && std::chrono::steady_clock::now() < interrupted_at + std::chrono::seconds(2))
    std::this_thread::yield();
  EXPECT_TRUE(reader_done) << "read() returned soon after interrupt()";
  reader.join();
  EXPECT_FALSE(input.read()) << "an interrupted input stays ended";
}

// --- TsMuxer ----------------------------------------------------------------------------------------------

TEST_F(MediaPathTest, OutputIsWholeTsPacketsWithSyncBytes) {
  const auto& bytes = muxed().bytes;
  ASSERT_FALSE(bytes.empty());
  ASSERT_EQ(bytes.size() % ts_packet_bytes, 0u);
  for (std::size_t offset = 0; offset < bytes.size(); offset += ts_packet_bytes)
    ASSERT_EQ(bytes[offset], 0x47) << "sync byte at " << offset;
  for (std::size_t size : muxed().callback_sizes) EXPECT_EQ(size % ts_packet_bytes, 0u);
}

TEST_F(MediaPathTest, EveryKeyframeStartsAJoinPointThatBeginsWithThePat) {
  const auto& joins = muxed().join_offsets;
  ASSERT_GE(joins.size(), 5u);
  const auto keyframes = std::count_if(recording().packets.begin(), recording().packets.end(),
                                       [](const EncodedPacket& p) { return p.stream_index == 0 && p.keyframe; });
  EXPECT_EQ(static_cast<long>(joins.size()), keyframes);
  for (std::size_t offset : joins) {
    ASSERT_EQ(offset % ts_packet_bytes, 0u);
    ASSERT_LT(offset, muxed().bytes.size());
    EXPECT_EQ(pid_at(muxed().bytes, offset), pat_pid) << "join point at byte " << offset;
  }
}

TEST_F(MediaPathTest, OutputParsesBackAsH264AndAacOfTheSourceDuration) {
  TsReader reader(muxed().bytes);
  ASSERT_TRUE(reader.open());
  int video = 0;
  int audio = 0;
  for (unsigned i = 0; i < reader.format()->nb_streams; ++i) {
    const AVCodecParameters* par = reader.format()->streams[i]->codecpar;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO && par->codec_id == AV_CODEC_ID_H264) ++video;
    if (par->codec_type == AVMEDIA_TYPE_AUDIO && par->codec_id == AV_CODEC_ID_AAC) ++audio;
  }
  EXPECT_EQ(video, 1);
  EXPECT_EQ(audio, 1);
  auto spans = read_all(reader);
  EXPECT_NEAR(spans[AVMEDIA_TYPE_VIDEO].span_s(), source_duration_s, 0.2);
  EXPECT_NEAR(spans[AVMEDIA_TYPE_AUDIO].span_s(), source_duration_s, 0.2);
  EXPECT_NEAR(spans[AVMEDIA_TYPE_VIDEO].packets, 90, 2);
}

TEST_F(MediaPathTest, StreamCutAtAnyJoinPointIsDecodable) {
  for (std::size_t offset : muxed().join_offsets) {
    SCOPED_TRACE("joined at byte " + std::to_string(offset));
    TsReader reader(std::span(muxed().bytes).subspan(offset));
    ASSERT_TRUE(reader.open());
    const FirstVideo first = decode_first_video(reader);
    EXPECT_TRUE(first.found);
    EXPECT_TRUE(first.keyframe) << "the first video packet after a join point is a keyframe";
    EXPECT_TRUE(first.decoded) << "a full keyframe decodes from there";
  }
}

TEST_F(MediaPathTest, BadPacketsAreRejectedAndTheMuxerKeepsWorking) {
  TsCapture capture(recording().streams);
  TsMuxer& muxer = *capture.muxer();
  const auto& packets = recording().packets;
  const std::size_t half = packets.size() / 2;
  for (std::size_t i = 0; i < half; ++i) ASSERT_FALSE(muxer.write(packets[i]));

  EncodedPacket bad_index = packets[half];
  bad_index.stream_index = 2;
  EXPECT_EQ(muxer.write(bad_index), make_error_code(Errc::muxer_failed));
  bad_index.stream_index = -1;
  EXPECT_EQ(muxer.write(bad_index), make_error_code(Errc::muxer_failed));

  EncodedPacket empty = packets[half];
  empty.data.clear();
  EXPECT_EQ(muxer.write(empty), make_error_code(Errc::muxer_failed));

  EncodedPacket repeated = packets[half - 1];  // its dts was already written
  EXPECT_EQ(muxer.write(repeated), make_error_code(Errc::muxer_failed));

  EncodedPacket pts_before_dts = packets[half];
  pts_before_dts.pts = pts_before_dts.dts - 1;
  EXPECT_EQ(muxer.write(pts_before_dts), make_error_code(Errc::muxer_failed));

  for (std::size_t i = half; i < packets.size(); ++i) EXPECT_FALSE(muxer.write(packets[i])) << "packet " << i;
  const MuxedTs out = capture.finish();

  EXPECT_EQ(muxer.write(packets.back()), make_error_code(Errc::muxer_failed)) << "finished muxers take nothing";
  TsReader reader(out.bytes);
  ASSERT_TRUE(reader.open());
  EXPECT_NEAR(read_all(reader)[AVMEDIA_TYPE_VIDEO].packets, 90, 2) << "every good packet made it";
}

TEST_F(MediaPathTest, KeyframesWithoutInBandParameterSetsGetThemFromExtradata) {
  Recording obs_style = recording();
  for (EncodedPacket& packet : obs_style.packets) {
    if (packet.stream_index != 0 || !packet.keyframe) continue;
    packet.data = without_parameter_sets(packet.data);
    ASSERT_FALSE(has_nal(packet.data, 7));
    ASSERT_TRUE(has_nal(packet.data, 5));
  }
  const MuxedTs out = mux(obs_style);
  ASSERT_GE(out.join_offsets.size(), 5u);
  for (std::size_t offset : out.join_offsets) {
    SCOPED_TRACE("joined at byte " + std::to_string(offset));
    TsReader reader(std::span(out.bytes).subspan(offset));
    ASSERT_TRUE(reader.open());
    const FirstVideo first = decode_first_video(reader);
    EXPECT_TRUE(first.keyframe);
    EXPECT_TRUE(first.decoded);
  }
}

TEST(TsMuxerTest, BackToBackKeyframesEachStartWithThePat) {
  // FFmpeg writes PAT/PMT by itself only for a keyframe that follows a non-keyframe.
  MediaInputConfig config = input_config("lavfi:testsrc2=size=160x120:rate=30:duration=0.5");
  config.keyframe_interval_s = 0.001;  // every frame is a keyframe
  auto input = MediaInput::open(config);
  ASSERT_TRUE(input) << input.error().message();
  const Recording all_keyframes = record(**input);
  const MuxedTs out = mux(all_keyframes);
  EXPECT_EQ(out.join_offsets.size(), all_keyframes.packets.size());
  for (std::size_t offset : out.join_offsets) EXPECT_EQ(pid_at(out.bytes, offset), pat_pid) << "at " << offset;
}

TEST(TsMuxerTest, RejectsStreamsItCannotCarry) {
  StreamInfo av1;
  av1.codec = Codec::av1;
  EXPECT_EQ(TsMuxer::create({av1}, {}, {}).error(), make_error_code(Errc::codec_unsupported));

  StreamInfo mismatched;
  mismatched.kind = MediaKind::audio;
  mismatched.codec = Codec::h264;
  EXPECT_EQ(TsMuxer::create({mismatched}, {}, {}).error(), make_error_code(Errc::codec_unsupported));

  StreamInfo zero_timebase;
  zero_timebase.timebase_den = 0;
  EXPECT_FALSE(TsMuxer::create({zero_timebase}, {}, {}));
  EXPECT_FALSE(TsMuxer::create({}, {}, {}));
}

TEST_F(MediaPathTest, AudioOnlyStreamsGetAJoinPointEverySecond) {
  Recording audio_only;
  audio_only.streams = {recording().streams[1]};
  for (const EncodedPacket& packet : recording().packets) {
    if (packet.stream_index != 1) continue;
    audio_only.packets.push_back(packet);
    audio_only.packets.back().stream_index = 0;
  }
  const MuxedTs out = mux(audio_only);
  EXPECT_NEAR(static_cast<double>(out.join_offsets.size()), source_duration_s, 1.0);
  for (std::size_t offset : out.join_offsets) EXPECT_EQ(pid_at(out.bytes, offset), pat_pid);
}

// --- Inputs from FFmpeg demuxers: MP4 carries avcC extradata and length-prefixed NAL units ---------------

class Mp4Test : public MediaPathTest {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("p2plive_ts_muxer_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".mp4");
    write_mp4(recording(), path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  static void write_mp4(const Recording& recording, const std::filesystem::path& path) {
    AVFormatContext* format = nullptr;
    ASSERT_GE(avformat_alloc_output_context2(&format, nullptr, "mp4", path.c_str()), 0);
    for (const StreamInfo& info : recording.streams) {
      AVStream* stream = avformat_new_stream(format, nullptr);
      AVCodecParameters* par = stream->codecpar;
      par->codec_type = info.kind == MediaKind::video ? AVMEDIA_TYPE_VIDEO : AVMEDIA_TYPE_AUDIO;
      par->codec_id = info.kind == MediaKind::video ? AV_CODEC_ID_H264 : AV_CODEC_ID_AAC;
      par->extradata = static_cast<std::uint8_t*>(av_mallocz(info.extradata.size() + AV_INPUT_BUFFER_PADDING_SIZE));
      std::memcpy(par->extradata, info.extradata.data(), info.extradata.size());
      par->extradata_size = static_cast<int>(info.extradata.size());
      par->width = info.width;
      par->height = info.height;
      par->sample_rate = info.sample_rate;
      av_channel_layout_default(&par->ch_layout, info.channels);
      par->frame_size = info.frame_size;
      stream->time_base = AVRational{info.timebase_num, info.timebase_den};
    }
    ASSERT_GE(avio_open(&format->pb, path.c_str(), AVIO_FLAG_WRITE), 0);
    ASSERT_GE(avformat_write_header(format, nullptr), 0);
    AVPacket* packet = av_packet_alloc();
    for (const EncodedPacket& encoded : recording.packets) {
      const StreamInfo& info = recording.streams[static_cast<std::size_t>(encoded.stream_index)];
      av_new_packet(packet, static_cast<int>(encoded.data.size()));
      std::memcpy(packet->data, encoded.data.data(), encoded.data.size());
      packet->stream_index = encoded.stream_index;
      const AVRational time_base{info.timebase_num, info.timebase_den};
      packet->pts = av_rescale_q(encoded.pts, time_base, format->streams[encoded.stream_index]->time_base);
      packet->dts = av_rescale_q(encoded.dts, time_base, format->streams[encoded.stream_index]->time_base);
      if (encoded.keyframe) packet->flags |= AV_PKT_FLAG_KEY;
      EXPECT_GE(av_interleaved_write_frame(format, packet), 0);
    }
    av_packet_free(&packet);
    av_write_trailer(format);
    avio_closep(&format->pb);
    avformat_free_context(format);
  }

  std::filesystem::path path_;
};

TEST_F(Mp4Test, H264AndAacFromMp4PassThroughWithoutReencoding) {
  auto input = MediaInput::open(input_config(path_.c_str()));
  ASSERT_TRUE(input) << input.error().message();
  const Recording passed = record(**input);
  ASSERT_EQ(passed.streams.size(), 2u);
  EXPECT_EQ(passed.streams[0].codec, Codec::h264);
  ASSERT_FALSE(passed.streams[0].extradata.empty());
  EXPECT_EQ(passed.streams[0].extradata[0], 1) << "avcC, as MP4 stores it";

  std::vector<const EncodedPacket*> original_video;
  std::vector<const EncodedPacket*> passed_video;
  for (const auto& p : recording().packets) if (p.stream_index == 0) original_video.push_back(&p);
  for (const auto& p : passed.packets) if (p.stream_index == 0) passed_video.push_back(&p);
  ASSERT_EQ(passed_video.size(), original_video.size());
  for (std::size_t i = 0; i < passed_video.size(); ++i) {
    // Same frames, only the NAL framing differs (4-byte length instead of a start code, and no AUD).
    EXPECT_EQ(passed_video[i]->keyframe, original_video[i]->keyframe) << "frame " << i;
  }
}

TEST_F(Mp4Test, AvccPacketsMuxToTsThatIsDecodableFromEveryJoinPoint) {
  auto input = MediaInput::open(input_config(path_.c_str()));
  ASSERT_TRUE(input) << input.error().message();
  const MuxedTs out = mux(record(**input));
  ASSERT_GE(out.join_offsets.size(), 5u);
  for (std::size_t offset : out.join_offsets) {
    SCOPED_TRACE("joined at byte " + std::to_string(offset));
    EXPECT_EQ(pid_at(out.bytes, offset), pat_pid);
    TsReader reader(std::span(out.bytes).subspan(offset));
    ASSERT_TRUE(reader.open());
    const FirstVideo first = decode_first_video(reader);
    EXPECT_TRUE(first.keyframe);
    EXPECT_TRUE(first.decoded);
  }
}

TEST_F(Mp4Test, LoopingKeepsTimestampsIncreasing) {
  MediaInputConfig config = input_config(path_.c_str());
  config.loop = true;
  auto input = MediaInput::open(config);
  ASSERT_TRUE(input) << input.error().message();
  std::map<int, std::int64_t> last_dts;
  int video_packets = 0;
  int keyframes = 0;
  while (video_packets < 3 * 90) {  // three passes over the file
    auto packet = (*input)->read();
    ASSERT_TRUE(packet) << "a looping input does not end";
    if (last_dts.contains(packet->stream_index)) {
      ASSERT_GT(packet->dts, last_dts[packet->stream_index]);
    }
    last_dts[packet->stream_index] = packet->dts;
    if (packet->stream_index == 0) {
      ++video_packets;
      keyframes += packet->keyframe ? 1 : 0;
    }
  }
  const StreamInfo& video = (*input)->streams()[0];
  const double last_video_s = static_cast<double>(last_dts[0]) * video.timebase_num / video.timebase_den;
  EXPECT_NEAR(last_video_s, 3 * source_duration_s, 0.3);
  EXPECT_NEAR(keyframes, 18, 3);
}

}  // namespace
}  // namespace p2plive
