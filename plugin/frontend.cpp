#include "frontend.hpp"

#include <dlfcn.h>

#include <utility>

#include <QDockWidget>
#include <QMainWindow>
#include <QPointer>

#include <obs-frontend-api.h>
#include <obs-module.h>

#include "dock-config.hpp"
#include "p2p-dock.hpp"
#include "trampoline.hpp"

namespace p2plive::plugin {
namespace {

constexpr const char* dock_id = "p2p_live_dock";

// Both registration calls are looked up at run time. We build against 29.0, which has only
// obs_frontend_add_dock(QDockWidget*); 30.0 adds obs_frontend_add_dock_by_id(id, title, QWidget*), which
// wraps the widget itself and keeps the layout, and deprecates the old call, so a later OBS may drop it.
using AddDockById = bool (*)(const char* id, const char* title, void* widget);
using AddDock = void* (*)(void* dock);

struct FrontendState {
  QPointer<P2PDock> widget;
  QPointer<QDockWidget> dock;  // ours on 29.x; OBS 30+ owns the wrapper
  obs_hotkey_id start_hotkey = OBS_INVALID_HOTKEY_ID;
  obs_hotkey_id stop_hotkey = OBS_INVALID_HOTKEY_ID;
};

FrontendState& state() {
  static FrontendState instance;
  return instance;
}

// OBS 29 restores the saved dock layout after the modules load, which hides a dock it has never seen.
// Show ours the first time, so the streamer finds it; afterwards their layout wins.
void show_dock_first_time() {
  DockConfig config = load_dock_config();
  if (config.shown_once || !state().dock) return;
  state().dock->show();
  state().dock->raise();
  config.shown_once = true;
  save_dock_config(config);
}

// Start/Stop P2P as hotkeys (Settings > Hotkeys), so P2P beside the main stream needs no click. The
// frontend routes hotkeys to the UI thread; we queue to the widget anyway, so no other thread touches it.
void on_hotkey(bool start) {
  P2PDock* widget = state().widget;
  if (!widget) return;
  QMetaObject::invokeMethod(
      widget, [widget, start] { start ? widget->start_p2p() : widget->stop_p2p(); }, Qt::QueuedConnection);
}

// Two plain hotkeys, not a pair: a pair ignores its second key until the first is released, and remote
// triggers (obs-websocket) only ever press.
void register_hotkeys() {
  state().start_hotkey = obs_hotkey_register_frontend(
      "p2p_live.start", obs_module_text("P2PLive.Dock.Start"),
      [](void*, obs_hotkey_id, obs_hotkey_t*, bool pressed) {
        if (pressed) on_hotkey(true);
      },
      nullptr);
  state().stop_hotkey = obs_hotkey_register_frontend(
      "p2p_live.stop", obs_module_text("P2PLive.Dock.Stop"),
      [](void*, obs_hotkey_id, obs_hotkey_t*, bool pressed) {
        if (pressed) on_hotkey(false);
      },
      nullptr);
}

void unregister_hotkeys() {
  for (obs_hotkey_id* id : {&state().start_hotkey, &state().stop_hotkey}) {
    if (*id != OBS_INVALID_HOTKEY_ID) obs_hotkey_unregister(*id);
    *id = OBS_INVALID_HOTKEY_ID;
  }
}

// Key bindings live with the scene collection, as OBS keeps those of its own frontend hotkeys.
void on_save(obs_data_t* save_data, bool saving, void*) {
  guarded("hotkey bindings", [&] {
    const std::pair<const char*, obs_hotkey_id> hotkeys[] = {{"p2p_live.start", state().start_hotkey},
                                                              {"p2p_live.stop", state().stop_hotkey}};
    for (const auto& [name, id] : hotkeys) {
      if (id == OBS_INVALID_HOTKEY_ID) continue;
      if (saving) {
        obs_data_array_t* bindings = obs_hotkey_save(id);
        obs_data_set_array(save_data, name, bindings);
        obs_data_array_release(bindings);
      } else {
        obs_data_array_t* bindings = obs_data_get_array(save_data, name);
        obs_hotkey_load(id, bindings);
        obs_data_array_release(bindings);
      }
    }
  });
}

void on_event(obs_frontend_event event, void*) {
  guarded("frontend event", [&] {
    P2PDock* widget = state().widget;
    switch (event) {
      case OBS_FRONTEND_EVENT_FINISHED_LOADING:
        if (widget) widget->start_refreshing();
        show_dock_first_time();
        break;
      case OBS_FRONTEND_EVENT_STREAMING_STARTED:
        if (widget) widget->on_streaming_started();
        break;
      case OBS_FRONTEND_EVENT_EXIT:
        // Our output, service and encoders must be gone before OBS shuts libobs down.
        if (widget) widget->shutdown();
        // Hotkeys go now, while libobs still has them (it frees them before it unloads modules).
        unregister_hotkeys();
        break;
      default:
        break;
    }
  });
}

void register_dock(QMainWindow* main) {
  const char* title = obs_module_text("P2PLive.Dock.Title");
  auto* widget = new P2PDock(main);
  state().widget = widget;
  if (auto add_by_id = reinterpret_cast<AddDockById>(dlsym(RTLD_DEFAULT, "obs_frontend_add_dock_by_id"))) {
    if (add_by_id(dock_id, title, widget)) return;
  }
  auto add_dock = reinterpret_cast<AddDock>(dlsym(RTLD_DEFAULT, "obs_frontend_add_dock"));
  if (!add_dock) {
    blog(LOG_WARNING, "[p2p-live] this OBS offers no way to add a dock; the P2P Live dock is not shown");
    delete widget;
    return;
  }
  auto* dock = new QDockWidget(QString::fromUtf8(title), main);
  dock->setObjectName(dock_id);  // the name OBS saves the layout under
  dock->setWidget(widget);
  dock->setMinimumWidth(300);
  main->addDockWidget(Qt::RightDockWidgetArea, dock);
  add_dock(dock);
  state().dock = dock;
}

}  // namespace

void frontend_load() {
  auto* main = static_cast<QMainWindow*>(obs_frontend_get_main_window());
  if (!main) return;
  guarded("dock", [&] { register_dock(main); });
  register_hotkeys();
  obs_frontend_add_event_callback(on_event, nullptr);
  obs_frontend_add_save_callback(on_save, nullptr);
}

void frontend_unload() {
  if (!state().widget && !state().dock) return;
  obs_frontend_remove_event_callback(on_event, nullptr);
  obs_frontend_remove_save_callback(on_save, nullptr);
  // libobs unloads this module before Qt deletes the main window's children, so our widgets must go now,
  // while their code is still mapped.
  delete state().dock.data();
  delete state().widget.data();
}

}  // namespace p2plive::plugin
