// The p2p-live OBS module: registers the P2P Live service and output, and (inside OBS Studio) the dock.
#include <obs-module.h>

#include "frontend.hpp"
#include "p2p-output.hpp"
#include "p2p-service.hpp"

OBS_DECLARE_MODULE()
OBS_MODULE_USE_DEFAULT_LOCALE("p2p-live", "en-US")

MODULE_EXPORT const char* obs_module_name(void) { return "P2P Live"; }
MODULE_EXPORT const char* obs_module_description(void) { return obs_module_text("P2PLive.Description"); }

bool obs_module_load(void) {
  p2plive::plugin::register_p2p_output();
  p2plive::plugin::register_p2p_service();
  // Tests check which copy of the module OBS loaded.
  blog(LOG_INFO, "[p2p-live] loaded from %s", obs_get_module_binary_path(obs_current_module()));
  p2plive::plugin::frontend_load();
  return true;
}

void obs_module_unload(void) { p2plive::plugin::frontend_unload(); }
