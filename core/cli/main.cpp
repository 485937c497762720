// p2plive: peer-to-peer live streaming from the command line. The commands that need FFmpeg (broadcast,
// demo) run in p2plive-media, which this program hands them to: a viewer never loads FFmpeg.
#include <map>

#include "commands.hpp"
#include "console.hpp"
#include "media_handover.hpp"

int main(int argc, char** argv) {
  using namespace p2plive::cli;
  if (argc > 1 && is_media_command(argv[1])) return hand_over_to_media(argv);

  CLI::App app{"p2plive: live streaming where the viewers carry the stream"};
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::simple);
  app.set_version_flag("--version", "p2plive 0.1.0");

  std::map<const CLI::App*, Command> commands;
  auto add = [&](Command command) { commands[app.get_subcommands({}).back()] = std::move(command); };
  add(add_keygen(app));
  add(add_link(app));
  // Listed here for --help; run by p2plive-media (see above), which has their options.
  app.add_subcommand("broadcast", "Broadcast any FFmpeg input (file, lavfi:GRAPH, pipe:0, srt://...)")->allow_extras();
  add(add_watch(app, false));
  add(add_watch(app, true));
  app.add_subcommand("demo", "The whole thing on one machine: a test broadcast, local viewers, the web page")->allow_extras();
  add(add_sim(app));
  add(add_dht_node(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return fail("usage", std::string(e.what()) + " (see p2plive --help)");
  }
  for (const auto& [sub, command] : commands)
    if (sub->parsed()) return command();
  return 2;
}
