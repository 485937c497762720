// The module's OBS Studio side: the P2P Live dock and the frontend events it follows. Nothing happens
// when libobs runs without the OBS Studio frontend (headless tools): there is no main window.
#pragma once

namespace p2plive::plugin {

void frontend_load();    // from obs_module_load
void frontend_unload();  // from obs_module_unload

}  // namespace p2plive::plugin
