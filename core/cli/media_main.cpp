// p2plive-media: the p2plive commands that need FFmpeg (broadcast, demo). Users run them as
// `p2plive broadcast` and `p2plive demo`; p2plive hands them over here.
#include <map>

#include "commands.hpp"
#include "console.hpp"
#include "p2plive/media_input.hpp"

int main(int argc, char** argv) {
  using namespace p2plive::cli;
  CLI::App app{"p2plive: live streaming where the viewers carry the stream"};
  app.name("p2plive");
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::simple);
  app.set_version_flag("--version", "p2plive 0.1.0");

  std::map<const CLI::App*, Command> commands;
  auto add = [&](Command command) { commands[app.get_subcommands({}).back()] = std::move(command); };
  add(add_broadcast(app));
  add(add_demo(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail("usage", std::string(e.what()) + " (see p2plive --help)");
  }
  // x264's banner and per-frame notes are noise on a terminal; --verbose shows them.
  bool verbose = false;
  for (const auto* sub : app.get_subcommands()) {
    const auto* flag = sub->get_option_no_throw("--verbose");
    verbose = verbose || (flag && flag->count() > 0);
  }
  p2plive::set_ffmpeg_log_level(verbose ? p2plive::LogLevel::info : p2plive::LogLevel::error);
  for (const auto& [sub, command] : commands)
    if (sub->parsed()) return command();
  return 2;
}
