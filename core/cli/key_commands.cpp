// keygen and link: make a broadcaster key, and the viewer link that goes with it.
#include <cstdio>

#include "commands.hpp"
#include "console.hpp"
#include "p2plive/link.hpp"

namespace p2plive::cli {

Command add_keygen(CLI::App& app) {
  auto* cmd = app.add_subcommand("keygen", "Write a new broadcaster secret key (mode 0600); print the viewer key");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--out", *out, "Key file to create (never overwritten)")->required();
  return [out] {
    const auto key = SecretKey::generate();
    if (auto ec = key.save(*out)) return fail("keygen " + *out, ec);
    std::printf("%s\n", to_text(key.public_key()).c_str());
    return 0;
  };
}

Command add_link(CLI::App& app) {
  auto* cmd = app.add_subcommand("link", "Print the viewer link for a key");
  struct Options {
    std::string key_file;
    std::vector<std::string> peers, trackers;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--key", o->key_file, "Broadcaster key file")->required();
  cmd->add_option("--peer", o->peers, "Bootstrap peer HOST:PORT (repeatable)");
  cmd->add_option("--tracker", o->trackers, "Tracker URL (repeatable)");
  return [o] {
    auto key = SecretKey::load(o->key_file);
    if (!key) return fail("key " + o->key_file, key.error());
    Link link{key->public_key(), {}, o->trackers};
    for (const auto& text : o->peers) {
      auto peer = Endpoint::parse(text);
      if (!peer) return fail("--peer " + text, peer.error());
      link.peers.push_back(*peer);
    }
    std::printf("%s\n", link.to_string().c_str());
    return 0;
  };
}

}  // namespace p2plive::cli
