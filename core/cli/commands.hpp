// The p2plive subcommands. Each registers itself on the CLI11 app and returns the exit code when run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace p2plive::cli {

using Command = std::function<int()>;

Command add_keygen(CLI::App& app);
Command add_link(CLI::App& app);
Command add_broadcast(CLI::App& app);
Command add_watch(CLI::App& app, bool relay);
Command add_demo(CLI::App& app);
Command add_sim(CLI::App& app);
Command add_dht_node(CLI::App& app);

}  // namespace p2plive::cli
