#include "p2p-output.hpp"

#include <algorithm>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "bootstrap.hpp"
#include "key-store.hpp"
#include "module-config.hpp"
#include "now-playing.hpp"
#include "obs-compat.hpp"
#include "p2p-service.hpp"
#include "p2plive/endpoint.hpp"
#include "p2plive/key.hpp"
#include "p2plive/link.hpp"
#include "p2plive/stats.hpp"
#include "stream-info.hpp"
#include "trampoline.hpp"

namespace p2plive::plugin {
namespace {

// How long a stop waits for the packets stamped before the stop time. OBS's own outputs wait similarly.
constexpr auto stop_drain_timeout = std::chrono::milliseconds(1000);

const char* text(const char* lookup) { return obs_module_text(lookup); }

struct ServiceConfig {
  std::string key;
  std::string server;
  std::string listen;
  long long upload_cap_kbps = 0;
  bool port_mapping = true;
  bool dht = true;
  std::string now_playing_source;
};

bool is_p2p_service(obs_service_t* service) {
  const char* id = service ? obs_service_get_id(service) : nullptr;
  return id && std::string_view(id) == service_id;
}

// Read from the settings object (reference counted, safe on any thread), not through get_key/get_url:
// obs_service_get_key is gone from libobs 31, and a module that imports it would not load there.
ServiceConfig read_service(obs_service_t* service) {
  ServiceConfig config;
  obs_data_t* settings = obs_service_get_settings(service);
  config.key = obs_data_get_string(settings, setting_key);
  config.server = obs_data_get_string(settings, setting_server);
  config.listen = obs_data_get_string(settings, setting_listen);
  config.upload_cap_kbps = obs_data_get_int(settings, setting_upload_cap_kbps);
  // Services saved before the setting existed have no value for it: they map, as new ones do.
  config.port_mapping = !obs_data_has_user_value(settings, setting_port_mapping) ||
                        obs_data_get_bool(settings, setting_port_mapping);
  config.dht = !obs_data_has_user_value(settings, setting_dht) || obs_data_get_bool(settings, setting_dht);
  config.now_playing_source = obs_data_get_string(settings, setting_now_playing_source);
  obs_data_release(settings);
  if (config.listen.empty()) config.listen = default_listen;
  return config;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

P2POutput* self(void* data) { return static_cast<P2POutput*>(data); }

}  // namespace

P2POutput::P2POutput(obs_data_t* /*settings*/, obs_output_t* output)
    : output_(output), log_(obs_output_get_name(output) ? obs_output_get_name(output) : "") {
  proc_handler_t* procs = obs_output_get_proc_handler(output);
  proc_handler_add(
      procs, "void get_viewer_link(out string link)",
      [](void* data, calldata_t* params) {
        guarded("get_viewer_link", [&] { calldata_set_string(params, "link", self(data)->viewer_link().c_str()); });
      },
      this);
  proc_handler_add(
      procs, "void get_stats(out string json)",
      [](void* data, calldata_t* params) {
        guarded("get_stats", [&] { calldata_set_string(params, "json", self(data)->stats_json().c_str()); });
      },
      this);
}

P2POutput::~P2POutput() {
  join_stopper();
  std::shared_ptr<Broadcaster> left;
  {
    std::lock_guard lock(mutex_);
    left = std::move(broadcaster_);
  }
  if (left) left->stop();  // only if OBS destroyed us without a stop, which it does not do
}

bool P2POutput::fail(const std::string& message) {
  log_(LOG_WARNING, "cannot start: %s", message.c_str());
  obs_output_set_last_error(output_, message.c_str());
  return false;
}

bool P2POutput::start() {
  join_stopper();  // the previous session's stopper has signalled OBS already; reap it
  const auto started_at = std::chrono::steady_clock::now();
  connect_time_ms_ = 0;
  last_total_bytes_ = 0;

  obs_service_t* service = obs_output_get_service(output_);
  if (!is_p2p_service(service)) return fail(text("P2PLive.Error.NoService"));
  const ServiceConfig config = read_service(service);

  // Never log the key text itself: only why it was refused.
  std::optional<SecretKey> key;
  if (config.key.empty()) {
    // No key in the service: the plugin's own, made on first use (what the dock shows).
    const auto file = module_config_file(key_file_name);
    if (!file) return fail(text("P2PLive.Error.NoKey"));
    auto stored = KeyStore(*file).load_or_create();
    if (!stored) {
      return fail(format_message(text("P2PLive.Error.KeyFile"), file->c_str(), stored.error().message().c_str()));
    }
    key = std::move(stored).value();
  } else {
    auto parsed = SecretKey::parse(config.key);
    if (!parsed) return fail(format_message(text("P2PLive.Error.BadKey"), parsed.error().message().c_str()));
    key = std::move(parsed).value();
  }

  auto listen = Endpoint::parse(config.listen);
  if (!listen) {
    return fail(format_message(text("P2PLive.Error.BadListen"), config.listen.c_str(),
                               listen.error().message().c_str()));
  }
  Bootstrap bootstrap = parse_server(config.server);
  if (!bootstrap.error.empty()) return fail(bootstrap.error);

  if (!obs_output_can_begin_data_capture(output_, 0)) return fail(text("P2PLive.Error.NoCapture"));
  if (!obs_output_initialize_encoders(output_, 0)) {
    const char* encoder_error = obs_output_get_last_error(output_);
    if (encoder_error && *encoder_error) {
      log_(LOG_WARNING, "cannot start: the encoders failed: %s", encoder_error);
      return false;
    }
    return fail(text("P2PLive.Error.EncoderInit"));
  }

  StreamsOrError streams = describe_streams(output_);
  if (!streams.ok()) return fail(streams.error);

  // The other members keep their defaults; g++ 12 warns about designated initializers that skip any.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
  BroadcasterConfig broadcaster_config{
      .key = *key,
      .listen = *listen,
      .trackers = bootstrap.trackers,
      .log = log_.sink(),
  };
#pragma GCC diagnostic pop
  broadcaster_config.upload_cap_bps = static_cast<double>(config.upload_cap_kbps) * 1000.0;
  broadcaster_config.port_mapping = config.port_mapping;
  broadcaster_config.dht = config.dht;
  broadcaster_config.dht_bootstrap = bootstrap.dht_nodes;
  broadcaster_config.titles = !config.now_playing_source.empty();
  auto started = Broadcaster::start(std::move(broadcaster_config), streams.streams);
  if (!started) {
    if (started.error() == Errc::port_in_use) {
      return fail(format_message(text("P2PLive.Error.PortInUse"), config.listen.c_str()));
    }
    return fail(format_message(text("P2PLive.Error.StartFailed"), started.error().message().c_str()));
  }
  std::shared_ptr<Broadcaster> broadcaster = std::move(started).value();
  const Endpoint local = broadcaster->local_endpoint();

  const ViewerLink link = make_viewer_link(key->public_key(), bootstrap, local);
  // With port mapping on, the router's answer (logged when it comes) decides what the link names.
  if (link.local_only && !config.port_mapping) {
    log_(LOG_WARNING,
         "the viewer link can only name 127.0.0.1:%u, which works on this computer alone; put your public "
         "HOST:PORT into the service's Server field",
         static_cast<unsigned>(local.port));
  }
  const std::string& link_text = link.text;
  log_(LOG_INFO, "broadcasting on UDP %s (%s)", local.to_string().c_str(),
       describe_for_log(streams.streams).c_str());
  log_(LOG_INFO, "viewer link: %s", link_text.c_str());
  std::unique_ptr<SourceTitle> titles;
  if (broadcaster_config.titles) {
    log_(LOG_INFO, "track titles from the source '%s'", config.now_playing_source.c_str());
    titles = std::make_unique<SourceTitle>(config.now_playing_source,
                                           [b = std::weak_ptr(broadcaster)](std::string title) {
                                             if (auto live = b.lock())
                                               live->set_now_playing(std::move(title));
                                           });
  }

  {
    std::lock_guard lock(mutex_);
    broadcaster_ = broadcaster;
    streams_ = std::move(streams.streams);
    viewer_link_ = link_text;
    titles_ = std::move(titles);
    public_key_ = key->public_key();
    bootstrap_ = bootstrap;
    state_ = State::running;
    ++session_;
    stop_ts_usec_ = 0;
    stop_ts_reached_ = false;
  }
  connect_time_ms_ = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_at).count());

  if (!obs_output_begin_data_capture(output_, 0)) {
    {
      std::lock_guard lock(mutex_);
      broadcaster_.reset();
      titles = std::move(titles_);
      state_ = State::idle;
    }
    titles.reset();
    broadcaster->stop();
    return fail(text("P2PLive.Error.NoCapture"));
  }
  return true;
}

void P2POutput::stop(std::uint64_t stop_ts_ns) { begin_stop(OBS_OUTPUT_SUCCESS, stop_ts_ns / 1000); }

void P2POutput::begin_stop(int code, std::uint64_t stop_ts_usec) {
  {
    std::lock_guard lock(mutex_);
    switch (state_) {
      case State::running:
        state_ = State::stopping;
        stop_ts_usec_ = stop_ts_usec;
        stop_ts_reached_ = stop_ts_usec == 0;
        try {
          stopper_ = std::thread([this, code] { run_stop(code); });
          return;
        } catch (const std::system_error& e) {
          log_(LOG_WARNING, "no stopper thread (%s); stopping on this thread", e.what());
          stop_ts_reached_ = true;
        }
        break;
      case State::stopping:
        if (stop_ts_usec == 0) {  // a forced stop hurries the one under way, which will signal OBS
          stop_ts_reached_ = true;
          stop_ts_cv_.notify_all();
        }
        return;
      case State::idle:
        // Not running: OBS still waits for a stop signal (it reset its stopping event before calling us).
        break;
    }
  }
  run_stop(code);
}

void P2POutput::run_stop(int code) {
  std::uint64_t session = 0;
  guarded("stop", [&] {
    std::shared_ptr<Broadcaster> broadcaster;
    std::unique_ptr<SourceTitle> titles;
    {
      std::unique_lock lock(mutex_);
      session = session_;
      stop_ts_cv_.wait_for(lock, stop_drain_timeout,
                           [this] { return stop_ts_reached_ || state_ != State::stopping; });
      broadcaster = std::move(broadcaster_);  // no packet is pushed after this
      broadcaster_.reset();
      titles = std::move(titles_);
    }
    titles.reset();  // joins its thread, which takes no lock of ours
    if (!broadcaster) return;
    broadcaster->stop();
    const Stats stats = broadcaster->stats();
    last_total_bytes_ = stats.uploaded_bytes;
    log_(LOG_INFO, "stopped: %llu bytes uploaded, %llu chunks published, %llu packets dropped (queue full)",
         static_cast<unsigned long long>(stats.uploaded_bytes),
         static_cast<unsigned long long>(stats.chunks_published),
         static_cast<unsigned long long>(stats.packets_dropped));
  });
  // Signal first, then go idle: a stop request that arrives in between finds us stopping and adds no second
  // "stop" signal. Whoever restarts from inside the signal has begun a new session, which we leave alone.
  obs_output_signal_stop(output_, code);
  std::lock_guard lock(mutex_);
  if (session_ == session) state_ = State::idle;
}

void P2POutput::join_stopper() {
  if (!stopper_.joinable()) return;
  if (stopper_.get_id() == std::this_thread::get_id()) {
    stopper_.detach();  // restarted from inside our own stop signal; the thread ends right after it
  } else {
    stopper_.join();
  }
}

void P2POutput::on_packet(encoder_packet* packet) {
  if (!packet) {  // the encoder failed
    log_(LOG_ERROR, "an encoder failed; stopping");
    begin_stop(OBS_OUTPUT_ENCODE_ERROR, 0);
    return;
  }
  std::lock_guard lock(mutex_);
  if (!broadcaster_) return;
  if (state_ == State::stopping) {
    if (stop_ts_reached_) return;
    if (packet->sys_dts_usec >= static_cast<std::int64_t>(stop_ts_usec_)) {
      stop_ts_reached_ = true;
      stop_ts_cv_.notify_all();
      return;
    }
  }
  if (auto converted = to_encoded_packet(*packet, streams_)) {
    broadcaster_->push(std::move(*converted));  // never blocks; when full the core drops and counts
  }
}

std::shared_ptr<Broadcaster> P2POutput::current() const {
  std::lock_guard lock(mutex_);
  return broadcaster_;
}

std::uint64_t P2POutput::total_bytes() const {
  if (auto broadcaster = current()) {
    const std::uint64_t bytes = broadcaster->stats().uploaded_bytes;
    last_total_bytes_ = bytes;
    return bytes;
  }
  return last_total_bytes_;
}

int P2POutput::dropped_frames() const {
  auto broadcaster = current();
  return broadcaster ? static_cast<int>(broadcaster->stats().packets_dropped) : 0;
}

// The link follows the router: once it has mapped the port (a second or two after the start), the link
// names the external address, unless the streamer gave peers of their own.
std::string P2POutput::viewer_link() const {
  std::lock_guard lock(mutex_);
  if (!broadcaster_) return viewer_link_;
  const auto external = broadcaster_->reachability().external;
  if (!external || !bootstrap_.peers.empty()) return viewer_link_;
  return make_viewer_link(public_key_, bootstrap_, broadcaster_->local_endpoint(), external).text;
}

std::string P2POutput::stats_json() const {
  auto broadcaster = current();
  return broadcaster ? to_json_line(broadcaster->stats(), unix_ms_now()) : std::string("{}");
}

namespace {

// One registration for both outputs; `audio_only` leaves the picture out (OBS then connects no video
// encoder, and a sound-only stream has a join point at every audio chunk).
void register_one(bool audio_only) {
  OutputInfo291 info = {};
  obs_output_info& base = info.base;
  base.id = audio_only ? audio_output_id : output_id;
  base.flags = (audio_only ? OBS_OUTPUT_AUDIO : OBS_OUTPUT_AV) | OBS_OUTPUT_ENCODED | OBS_OUTPUT_SERVICE;
  base.get_name = audio_only ? [](void*) { return obs_module_text("P2PLive.AudioOutput"); }
                             : [](void*) { return obs_module_text("P2PLive.Output"); };
  base.create = [](obs_data_t* settings, obs_output_t* output) -> void* {
    return guarded("output create", [&]() -> void* { return new P2POutput(settings, output); }, nullptr);
  };
  base.destroy = [](void* data) { guarded("output destroy", [&] { delete self(data); }); };
  base.start = [](void* data) { return guarded("output start", [&] { return self(data)->start(); }, false); };
  base.stop = [](void* data, std::uint64_t ts) { guarded("output stop", [&] { self(data)->stop(ts); }); };
  base.encoded_packet = [](void* data, encoder_packet* packet) {
    guarded("encoded_packet", [&] { self(data)->on_packet(packet); });
  };
  base.get_total_bytes = [](void* data) {
    return guarded("get_total_bytes", [&] { return self(data)->total_bytes(); }, std::uint64_t{0});
  };
  base.get_dropped_frames = [](void* data) {
    return guarded("get_dropped_frames", [&] { return self(data)->dropped_frames(); }, 0);
  };
  base.get_connect_time_ms = [](void* data) { return self(data)->connect_time_ms(); };
  base.encoded_video_codecs = audio_only ? nullptr : "h264;hevc;av1";
  // OBS 29.0's frontend treats anything but exactly "aac" as the name of one audio codec and fails to find an
  // encoder for "aac;opus", so Opus is offered from 29.1 on, whose frontend reads the list properly.
  base.encoded_audio_codecs = runtime_has_obs_29_1() ? "aac;opus" : "aac";
  // The service names p2p_live_output as its output type, so the frontend never picks the sound-only one.
  info.protocols = protocol_name;

  register_output(info);
}

}  // namespace

void register_p2p_output() {
  register_one(false);
  register_one(true);
}

}  // namespace p2plive::plugin
