// The p2p-live OBS module: registers the P2P Live service and output, nothing else.
#include <obs-module.h>

#include "p2p-output.hpp"
#include "p2p-service.hpp"

OBS_DECLARE_MODULE()
OBS_MODULE_USE_DEFAULT_LOCALE("p2p-live", "en-US")

MODULE_EXPORT const char* obs_module_name(void) { return "P2P Live"; }
MODULE_EXPORT const char* obs_module_description(void) { return obs_module_text("P2PLive.Description"); }

bool obs_module_load(void) {
  p2plive::plugin::register_p2p_output();
  p2plive::plugin::register_p2p_service();
  return true;
}
