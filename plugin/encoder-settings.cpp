#include "encoder-settings.hpp"

#include <deque>
#include <mutex>
#include <string_view>

#include <obs-module.h>

#include "obs-log.hpp"

namespace p2plive::plugin {
namespace {

constexpr std::size_t max_pending_notices = 16;

struct NoticeBoard {
  std::mutex mutex;
  std::deque<std::string> pending;
};

// One board for the module. It holds only strings, so nothing outlives the module's unload but memory
// that the C++ runtime frees with the module.
NoticeBoard& board() {
  static NoticeBoard instance;
  return instance;
}

bool has_tune(const std::string& tune, const std::string& x264opts) {
  return !tune.empty() || x264opts.find("tune=") != std::string::npos;
}

}  // namespace

std::vector<std::string> apply_live_video_settings(obs_data_t* video) {
  std::vector<std::string> changes;
  if (!video) return changes;

  const long long keyint_sec = obs_data_get_int(video, "keyint_sec");
  if (keyint_sec <= 0 || keyint_sec > max_keyint_sec) {
    obs_data_set_int(video, "keyint_sec", default_keyint_sec);
    changes.push_back(format_message(obs_module_text("P2PLive.Notice.KeyintSet"), default_keyint_sec, keyint_sec));
  }

  if (!obs_data_get_bool(video, "repeat_headers")) {
    obs_data_set_bool(video, "repeat_headers", true);
    changes.emplace_back(obs_module_text("P2PLive.Notice.RepeatHeaders"));
  }

  // "tune" means different things to different encoders (NVENC's is hq/ll/ull), so the x264 tune goes
  // into x264opts, which only obs_x264 reads. An explicit tune, in either place, is left alone.
  const std::string tune = obs_data_get_string(video, "tune");
  std::string x264opts = obs_data_get_string(video, "x264opts");
  if (!has_tune(tune, x264opts)) {
    x264opts += x264opts.empty() ? "tune=zerolatency" : " tune=zerolatency";
    obs_data_set_string(video, "x264opts", x264opts.c_str());
    changes.emplace_back(obs_module_text("P2PLive.Notice.ZeroLatency"));
  }
  for (const std::string& change : changes) blog(LOG_INFO, "[p2p-live] %s", change.c_str());
  return changes;
}

std::vector<std::string> review_video_encoder(obs_encoder_t* encoder) {
  std::vector<std::string> problems;
  if (!encoder) return problems;
  obs_data_t* settings = obs_encoder_get_settings(encoder);
  const long long keyint_sec = obs_data_get_int(settings, "keyint_sec");
  const std::string tune = obs_data_get_string(settings, "tune");
  const std::string x264opts = obs_data_get_string(settings, "x264opts");
  obs_data_release(settings);

  if (keyint_sec <= 0 || keyint_sec > max_keyint_sec) {
    problems.push_back(format_message(obs_module_text("P2PLive.Notice.KeyintPoor"), keyint_sec, max_keyint_sec));
  }
  const char* id = obs_encoder_get_id(encoder);
  const bool x264 = id && std::string_view(id) == "obs_x264";
  if (x264 && tune != "zerolatency" && x264opts.find("tune=zerolatency") == std::string::npos) {
    problems.emplace_back(obs_module_text("P2PLive.Notice.LatencyPoor"));
  }
  for (const std::string& problem : problems) blog(LOG_WARNING, "[p2p-live] %s", problem.c_str());
  return problems;
}

void post_notices(const std::vector<std::string>& notices) {
  if (notices.empty()) return;
  NoticeBoard& b = board();
  std::lock_guard lock(b.mutex);
  for (const std::string& notice : notices) {
    b.pending.push_back(notice);
    if (b.pending.size() > max_pending_notices) b.pending.pop_front();
  }
}

std::vector<std::string> take_notices() {
  NoticeBoard& b = board();
  std::lock_guard lock(b.mutex);
  std::vector<std::string> taken(b.pending.begin(), b.pending.end());
  b.pending.clear();
  return taken;
}

}  // namespace p2plive::plugin
