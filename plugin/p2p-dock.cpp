#include "p2p-dock.hpp"

#include <QAbstractItemView>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <chrono>
#include <string_view>

#include <obs-frontend-api.h>
#include <obs-module.h>

#include "bootstrap.hpp"
#include "encoder-settings.hpp"
#include "key-store.hpp"
#include "module-config.hpp"
#include "now-playing.hpp"
#include "obs-log.hpp"
#include "p2p-service.hpp"
#include "qr-image.hpp"

namespace p2plive::plugin {
namespace {

QString tr_text(const char* lookup) { return QString::fromUtf8(obs_module_text(lookup)); }

constexpr std::size_t max_shown_notices = 3;
constexpr int qr_scale = 3;

bool is_ours(obs_output_t* output) {
  const char* id = output ? obs_output_get_id(output) : nullptr;
  return id && std::string_view(id) == output_id;
}

// The scene collection's text sources, by name: where a track title can come from.
std::vector<std::string> text_source_names() {
  std::vector<std::string> names;
  obs_enum_sources(
      [](void* param, obs_source_t* source) {
        const char* name = obs_source_get_name(source);
        if (is_text_source(source) && name) static_cast<std::vector<std::string>*>(param)->emplace_back(name);
        return true;
      },
      &names);
  std::sort(names.begin(), names.end());
  return names;
}

bool main_service_is_p2p() {
  obs_service_t* service = obs_frontend_get_streaming_service();  // not a new reference in 29.0
  const char* id = service ? obs_service_get_id(service) : nullptr;
  return id && std::string_view(id) == service_id;
}

std::string call_string_proc(obs_output_t* output, const char* proc, const char* field) {
  calldata_t data;
  calldata_init(&data);
  std::string value;
  if (proc_handler_call(obs_output_get_proc_handler(output), proc, &data)) {
    const char* text = calldata_string(&data, field);
    value = text ? text : "";
  }
  calldata_free(&data);
  return value;
}

std::optional<StatsSample> read_stats(obs_output_t* output) {
  const std::string json = call_string_proc(output, "get_stats", "json");
  obs_data_t* data = json.empty() ? nullptr : obs_data_create_from_json(json.c_str());
  if (!data) return std::nullopt;
  StatsSample sample;
  sample.time_s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  sample.peers = static_cast<std::uint64_t>(obs_data_get_int(data, "peers"));
  sample.uploaded_bytes = static_cast<std::uint64_t>(obs_data_get_int(data, "uploaded_bytes"));
  sample.packets_dropped = static_cast<std::uint64_t>(obs_data_get_int(data, "packets_dropped"));
  sample.listeners = static_cast<std::uint64_t>(obs_data_get_int(data, "listeners"));
  sample.listeners_peak = static_cast<std::uint64_t>(obs_data_get_int(data, "listeners_peak"));
  sample.reachability = obs_data_get_string(data, "reachability");
  sample.external_address = obs_data_get_string(data, "external_address");
  const bool has_role = obs_data_has_user_value(data, "role");
  obs_data_release(data);
  if (!has_role) return std::nullopt;  // "{}": not started yet
  return sample;
}

// "Reachable at A:P (UPnP)", or what to do when the router would not forward the port. Empty when
// offline or when port mapping is off.
std::string reachability_text(const std::optional<StatsSample>& sample) {
  if (!sample) return {};
  const std::string& r = sample->reachability;
  if (r == "upnp" || r == "pcp" || r == "nat-pmp")
    return format_message(obs_module_text("P2PLive.Dock.Reach.Mapped"), sample->external_address.c_str(),
                          r == "upnp"  ? "UPnP"
                          : r == "pcp" ? "PCP"
                                       : "NAT-PMP");
  if (r == "not_mapped") return obs_module_text("P2PLive.Dock.Reach.Unreachable");
  if (r == "probing") return obs_module_text("P2PLive.Dock.Reach.Probing");
  if (r == "local") return obs_module_text("P2PLive.Dock.Reach.Local");
  if (r == "public") return obs_module_text("P2PLive.Dock.Reach.Public");
  return {};
}

const char* health_text(Health health) {
  switch (health) {
    case Health::offline: return "P2PLive.Health.Offline";
    case Health::waiting_for_viewers: return "P2PLive.Health.Waiting";
    case Health::good: return "P2PLive.Health.Good";
    case Health::slow_joins: return "P2PLive.Health.SlowJoins";
    case Health::dropping: return "P2PLive.Health.Dropping";
  }
  return "P2PLive.Health.Offline";
}

}  // namespace

P2PDock::P2PDock(QWidget* parent) : QWidget(parent), config_(load_dock_config()) {
  setObjectName("p2p_live_dock_widget");
  build_ui();
  load_key();
  timer_.setInterval(1000);
  QObject::connect(&timer_, &QTimer::timeout, this, [this] { refresh(); });
}

void P2PDock::start_refreshing() {
  timer_.start();
  refresh();
}

P2PDock::~P2PDock() { shutdown(); }

void P2PDock::shutdown() {
  timer_.stop();
  side_.release();
}

void P2PDock::build_ui() {
  // Everything scrolls, so a short dock cuts nothing off.
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // labels wrap instead
  outer->addWidget(scroll);
  auto* content = new QWidget(scroll);
  scroll->setWidget(content);
  auto* layout = new QVBoxLayout(content);

  auto* link_row = new QHBoxLayout();
  link_ = new QLineEdit(this);
  link_->setReadOnly(true);
  link_->setObjectName("p2p_live_link");
  auto* copy = new QPushButton(tr_text("P2PLive.Dock.Copy"), this);
  QObject::connect(copy, &QPushButton::clicked, this,
                   [this] { QApplication::clipboard()->setText(link_->text()); });
  link_row->addWidget(link_, 1);
  link_row->addWidget(copy);
  layout->addWidget(new QLabel(tr_text("P2PLive.Dock.Link"), this));
  layout->addLayout(link_row);
  qr_ = new QLabel(this);
  qr_->setAlignment(Qt::AlignHCenter);
  layout->addWidget(qr_);

  status_ = new QLabel(this);
  stats_ = new QLabel(this);
  stats_->setObjectName("p2p_live_stats");
  stats_->setWordWrap(true);
  layout->addWidget(status_);
  layout->addWidget(stats_);
  reach_ = new QLabel(this);
  reach_->setObjectName("p2p_live_reachability");
  reach_->setWordWrap(true);
  layout->addWidget(reach_);

  auto* buttons = new QHBoxLayout();
  start_stop_ = new QPushButton(this);
  use_main_ = new QPushButton(tr_text("P2PLive.Dock.UseAsMain"), this);
  use_main_->setToolTip(tr_text("P2PLive.Dock.UseAsMain.Tip"));
  QObject::connect(start_stop_, &QPushButton::clicked, this, [this] { toggle_p2p(); });
  QObject::connect(use_main_, &QPushButton::clicked, this, [this] { use_as_main_stream(); });
  buttons->addWidget(start_stop_);
  buttons->addWidget(use_main_);
  layout->addLayout(buttons);

  notice_ = new QLabel(this);
  notice_->setWordWrap(true);
  layout->addWidget(notice_);

  auto* form = new QFormLayout();
  key_label_ = new QLabel(this);
  key_label_->setWordWrap(true);
  key_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* key_buttons = new QHBoxLayout();
  regenerate_ = new QPushButton(tr_text("P2PLive.Dock.Regenerate"), this);
  import_ = new QPushButton(tr_text("P2PLive.Dock.Import"), this);
  QObject::connect(regenerate_, &QPushButton::clicked, this, [this] { regenerate_key(); });
  QObject::connect(import_, &QPushButton::clicked, this, [this] { import_key(); });
  key_buttons->addWidget(regenerate_);
  key_buttons->addWidget(import_);
  form->addRow(tr_text("P2PLive.Dock.Key"), key_label_);
  form->addRow(QString(), key_buttons);

  port_ = new QSpinBox(this);
  port_->setRange(1, 65535);
  port_->setValue(config_.listen_port);
  upload_cap_ = new QSpinBox(this);
  upload_cap_->setRange(0, 10'000'000);
  upload_cap_->setSingleStep(500);
  upload_cap_->setSuffix(" kbit/s");
  upload_cap_->setSpecialValueText(tr_text("P2PLive.Dock.NoCap"));
  upload_cap_->setValue(static_cast<int>(config_.upload_cap_kbps));
  server_ = new QPlainTextEdit(this);
  server_->setPlainText(QString::fromStdString(config_.server));
  server_->setPlaceholderText(tr_text("P2PLive.Dock.Server.Placeholder"));
  server_->setMaximumHeight(60);
  form->addRow(tr_text("P2PLive.Dock.Port"), port_);
  form->addRow(tr_text("P2PLive.Server"), server_);
  form->addRow(tr_text("P2PLive.UploadCap"), upload_cap_);
  port_mapping_ = new QCheckBox(tr_text("P2PLive.PortMapping"), this);
  port_mapping_->setObjectName("p2p_live_port_mapping");
  port_mapping_->setToolTip(tr_text("P2PLive.PortMapping.Description"));
  port_mapping_->setChecked(config_.port_mapping);
  form->addRow(port_mapping_);
  dht_ = new QCheckBox(tr_text("P2PLive.Dht"), this);
  dht_->setObjectName("p2p_live_dht");
  dht_->setToolTip(tr_text("P2PLive.Dht.Description"));
  dht_->setChecked(config_.dht);
  form->addRow(dht_);
  sound_only_ = new QCheckBox(tr_text("P2PLive.SoundOnly"), this);
  sound_only_->setObjectName("p2p_live_sound_only");
  sound_only_->setToolTip(tr_text("P2PLive.SoundOnly.Description"));
  sound_only_->setChecked(config_.sound_only);
  form->addRow(sound_only_);
  now_playing_ = new QComboBox(this);
  now_playing_->setObjectName("p2p_live_now_playing");
  now_playing_->setToolTip(tr_text("P2PLive.NowPlaying.Description"));
  update_title_sources();
  form->addRow(tr_text("P2PLive.NowPlaying"), now_playing_);
  layout->addLayout(form);
  layout->addStretch(1);

  QObject::connect(port_, qOverload<int>(&QSpinBox::valueChanged), this, [this] { save_settings(); });
  QObject::connect(upload_cap_, qOverload<int>(&QSpinBox::valueChanged), this, [this] { save_settings(); });
  QObject::connect(port_mapping_, &QCheckBox::toggled, this, [this] { save_settings(); });
  QObject::connect(dht_, &QCheckBox::toggled, this, [this] { save_settings(); });
  QObject::connect(sound_only_, &QCheckBox::toggled, this, [this] { save_settings(); });
  QObject::connect(now_playing_, qOverload<int>(&QComboBox::currentIndexChanged), this,
                   [this] { save_settings(); });
  QObject::connect(server_, &QPlainTextEdit::textChanged, this, [this] { save_settings(); });
}

void P2PDock::load_key() {
  key_.reset();
  key_error_.clear();
  const auto file = module_config_file(key_file_name);
  if (!file) {
    key_error_ = obs_module_text("P2PLive.Error.NoKey");
  } else if (auto key = KeyStore(*file).load_or_create()) {
    key_ = std::move(key).value();
  } else {
    key_error_ = format_message(obs_module_text("P2PLive.Error.KeyFile"), file->c_str(), key.error().message().c_str());
    blog(LOG_WARNING, "[p2p-live] %s", key_error_.c_str());
  }
  // Only the public half is ever shown; the secret stays in its 0600 file.
  if (key_) {
    key_label_->setText(QString::fromUtf8(
        format_message(obs_module_text("P2PLive.Dock.KeyInfo"), to_text(key_->public_key()).c_str(),
                       file->c_str()).c_str()));
  } else {
    key_label_->setText(QString::fromStdString(key_error_));
  }
  shown_link_.clear();
}

void P2PDock::regenerate_key() {
  const auto answer = QMessageBox::question(this, tr_text("P2PLive.Dock.Regenerate"),
                                            tr_text("P2PLive.Dock.Regenerate.Confirm"));
  if (answer != QMessageBox::Yes) return;
  const auto file = module_config_file(key_file_name);
  if (!file) return;
  if (auto key = KeyStore(*file).regenerate(); !key) {
    QMessageBox::warning(this, tr_text("P2PLive.Dock.Regenerate"),
                         QString::fromUtf8(format_message(obs_module_text("P2PLive.Error.KeyFile"), file->c_str(),
                                                          key.error().message().c_str()).c_str()));
  }
  load_key();
  refresh();
}

void P2PDock::import_key() {
  bool ok = false;
  const QString text = QInputDialog::getText(this, tr_text("P2PLive.Dock.Import"), tr_text("P2PLive.Dock.Import.Prompt"),
                                             QLineEdit::Password, QString(), &ok);
  if (!ok || text.trimmed().isEmpty()) return;
  const auto file = module_config_file(key_file_name);
  if (!file) return;
  if (auto key = KeyStore(*file).import_text(text.toStdString()); !key) {
    // The message names the problem, never the text that was pasted.
    QMessageBox::warning(this, tr_text("P2PLive.Dock.Import"),
                         QString::fromUtf8(format_message(obs_module_text("P2PLive.Error.BadKey"),
                                                          key.error().message().c_str()).c_str()));
    return;
  }
  load_key();
  refresh();
}

void P2PDock::save_settings() {
  config_.listen_port = port_->value();
  config_.upload_cap_kbps = upload_cap_->value();
  config_.port_mapping = port_mapping_->isChecked();
  config_.dht = dht_->isChecked();
  config_.sound_only = sound_only_->isChecked();
  config_.now_playing_source = now_playing_->currentData().toString().toStdString();
  config_.server = server_->toPlainText().toStdString();
  save_dock_config(config_);
  shown_link_.clear();
}

void P2PDock::toggle_p2p() {
  if (side_.active()) {
    side_.stop();
    refresh();
    return;
  }
  std::vector<std::string> notices;
  const std::string error =
      side_.start({config_.listen(), config_.server, config_.upload_cap_kbps, config_.port_mapping,
                   config_.dht, config_.sound_only, config_.now_playing_source},
                  notices);
  encoder_poor_ = side_.encoder_poor();
  add_notices(notices);
  if (!error.empty()) add_notices({error});
  refresh();
}

void P2PDock::use_as_main_stream() {
  if (obs_frontend_streaming_active()) {
    add_notices({obs_module_text("P2PLive.Notice.StopFirst")});
    return;
  }
  obs_data_t* settings = obs_data_create();
  obs_data_set_string(settings, setting_key, "");  // the plugin's own key, kept out of service.json
  obs_data_set_string(settings, setting_listen, config_.listen().c_str());
  obs_data_set_string(settings, setting_server, config_.server.c_str());
  obs_data_set_int(settings, setting_upload_cap_kbps, config_.upload_cap_kbps);
  obs_data_set_bool(settings, setting_port_mapping, config_.port_mapping);
  obs_data_set_bool(settings, setting_dht, config_.dht);
  obs_data_set_string(settings, setting_now_playing_source, config_.now_playing_source.c_str());
  obs_service_t* service = obs_service_create(service_id, "p2p_live_service", settings, nullptr);
  obs_data_release(settings);
  if (!service) return;
  obs_frontend_set_streaming_service(service);
  obs_frontend_save_streaming_service();
  obs_service_release(service);
  add_notices({obs_module_text("P2PLive.Notice.MainStream")});
  refresh();
}

void P2PDock::on_streaming_started() {
  obs_output_t* main = obs_frontend_get_streaming_output();
  if (is_ours(main)) {
    const auto problems = review_video_encoder(obs_output_get_video_encoder(main));
    encoder_poor_ = !problems.empty();
    add_notices(problems);
  }
  obs_output_release(main);
  refresh();
}

void P2PDock::add_notices(const std::vector<std::string>& notices) {
  // OBS applies the service's encoder settings at every stream start; one line per distinct notice.
  for (const auto& notice : notices) {
    std::erase(notices_, notice);
    notices_.push_back(notice);
  }
  while (notices_.size() > max_shown_notices) notices_.erase(notices_.begin());
  QString text;
  for (const auto& notice : notices_) text += QString::fromUtf8(("• " + notice + "\n").c_str());
  notice_->setText(text.trimmed());
}

void P2PDock::show_link(const std::string& link) {
  if (link == shown_link_) return;
  shown_link_ = link;
  link_->setText(QString::fromStdString(link));
  link_->setCursorPosition(0);
  const QImage qr = make_qr_image(link, qr_scale);
  qr_->setPixmap(qr.isNull() ? QPixmap() : QPixmap::fromImage(qr));
}

void P2PDock::refresh() {
  if (!timer_.isActive()) return;  // before OBS has loaded, or after it began to exit
  add_notices(take_notices());

  obs_output_t* main = obs_frontend_get_streaming_output();
  const bool main_live = is_ours(main) && obs_output_active(main);
  obs_output_t* live = side_.active() ? side_.output() : main_live ? main : nullptr;

  std::string link;
  if (live) link = call_string_proc(live, "get_viewer_link", "link");
  if (link.empty() && key_) {
    // Not live: the link viewers will use, so it can be posted before the stream starts.
    const Bootstrap bootstrap = parse_server(config_.server);
    if (auto listen = Endpoint::parse(config_.listen()); listen && bootstrap.error.empty()) {
      link = make_viewer_link(key_->public_key(), bootstrap, *listen).text;
    }
  }
  show_link(link);

  const std::optional<StatsSample> sample = live ? read_stats(live) : std::nullopt;
  const DockStats stats = sample ? tracker_.update(*sample, encoder_poor_) : tracker_.offline();
  obs_output_release(main);

  const char* status = side_.active() ? "P2PLive.Dock.Status.Beside"
                       : main_live    ? "P2PLive.Dock.Status.Main"
                                      : "P2PLive.Dock.Status.Offline";
  status_->setText(QString("<b>%1</b>").arg(tr_text(status)));
  stats_->setText(
      QString::fromUtf8(format_message(obs_module_text("P2PLive.Dock.Stats"),
                                       static_cast<unsigned long long>(stats.swarm_at_least),
                                       static_cast<unsigned long long>(stats.listeners_peak),
                                       static_cast<unsigned long long>(stats.direct_peers), stats.upload_kbps,
                                       obs_module_text(health_text(stats.health)))
                            .c_str()));

  reach_->setText(QString::fromUtf8(reachability_text(sample).c_str()));

  start_stop_->setText(tr_text(side_.active() ? "P2PLive.Dock.Stop" : "P2PLive.Dock.Start"));
  start_stop_->setEnabled(!main_live && key_.has_value());
  use_main_->setEnabled(!obs_frontend_streaming_active() && !main_service_is_p2p());
  const bool idle = !side_.active() && !main_live;
  regenerate_->setEnabled(idle);
  import_->setEnabled(idle);
  port_->setEnabled(!side_.active());
  port_mapping_->setEnabled(!side_.active());
  dht_->setEnabled(!side_.active());
  sound_only_->setEnabled(!side_.active());
  now_playing_->setEnabled(!side_.active());
  update_title_sources();
}

// Lists the text sources again when they change (the dock refreshes every second), except while the list
// is open. A chosen source that is gone stays listed, so the choice survives a scene collection switch.
void P2PDock::update_title_sources() {
  std::vector<std::string> names = text_source_names();
  const std::string& chosen = config_.now_playing_source;
  if (!chosen.empty() && std::find(names.begin(), names.end(), chosen) == names.end())
    names.push_back(chosen);
  if ((names == title_sources_ && now_playing_->count() > 0) || now_playing_->view()->isVisible()) return;
  title_sources_ = names;
  const QSignalBlocker quiet(now_playing_);
  now_playing_->clear();
  now_playing_->addItem(tr_text("P2PLive.NowPlaying.None"), QString());
  for (const std::string& name : names) {
    now_playing_->addItem(QString::fromStdString(name), QString::fromStdString(name));
  }
  now_playing_->setCurrentIndex(std::max(0, now_playing_->findData(QString::fromStdString(chosen))));
}

}  // namespace p2plive::plugin
