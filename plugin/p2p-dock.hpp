// The P2P Live dock: the viewer link (Copy, QR), the stream key (made on first use, regenerate, import),
// listen port, trackers/peers and upload cap, Start/Stop P2P beside the main stream, "Use as main stream",
// and live stats. A plain QWidget: OBS 29 gets it wrapped in our QDockWidget, OBS 30+ wraps it itself.
//
// UI thread only. It polls the outputs once a second (their get_stats proc copies a snapshot) and never
// waits on the core.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <QCheckBox>
#include <QComboBox>
#include <QTimer>
#include <QWidget>

#include "dock-config.hpp"
#include "dock-stats.hpp"
#include "p2plive/key.hpp"
#include "side-output.hpp"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace p2plive::plugin {

class P2PDock : public QWidget {
 public:
  explicit P2PDock(QWidget* parent);
  ~P2PDock() override;

  // OBS has loaded (its outputs exist only from then on): start polling them once a second.
  void start_refreshing();
  // OBS is exiting: stop P2P and let go of every OBS object before libobs shuts down.
  void shutdown();
  // Start/Stop P2P beside the main stream, as the button does (also bound to hotkeys).
  void start_p2p() {
    if (!side_.active()) toggle_p2p();
  }
  void stop_p2p() {
    if (side_.active()) toggle_p2p();
  }
  // The main stream started: review its encoders if it streams to the swarm.
  void on_streaming_started();

 private:
  void build_ui();
  void load_key();
  void regenerate_key();
  void import_key();
  void save_settings();
  void toggle_p2p();
  void use_as_main_stream();
  void refresh();
  void show_link(const std::string& link);
  void add_notices(const std::vector<std::string>& notices);
  obs_output_t* live_output() const;
  void update_title_sources();  // ours beside, or the main stream when it is P2P; not a new reference

  DockConfig config_;
  std::optional<SecretKey> key_;
  std::string key_error_;
  SideOutput side_;
  StatsTracker tracker_;
  bool encoder_poor_ = false;
  std::string shown_link_;
  std::vector<std::string> notices_;
  QTimer timer_;

  QLineEdit* link_ = nullptr;
  QLabel* qr_ = nullptr;
  QLabel* key_label_ = nullptr;
  QPushButton* regenerate_ = nullptr;
  QPushButton* import_ = nullptr;
  QSpinBox* port_ = nullptr;
  QPlainTextEdit* server_ = nullptr;
  QSpinBox* upload_cap_ = nullptr;
  QCheckBox* port_mapping_ = nullptr;
  QCheckBox* dht_ = nullptr;
  QCheckBox* sound_only_ = nullptr;         // the P2P output beside the main stream carries the audio alone
  QComboBox* now_playing_ = nullptr;        // the text source whose text is the track title; data "" for none
  std::vector<std::string> title_sources_;  // what now_playing_ lists
  QPushButton* start_stop_ = nullptr;
  QPushButton* use_main_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* stats_ = nullptr;
  QLabel* reach_ = nullptr;  // what the home router said about the port
  QLabel* notice_ = nullptr;
};

}  // namespace p2plive::plugin
