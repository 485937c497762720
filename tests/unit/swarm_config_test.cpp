// SwarmConfig's defaults are a working swarm, and a setting that cannot work is named, not run.
#include <gtest/gtest.h>

#include <stdexcept>

#include "protocol/swarm.hpp"

namespace p2plive {
namespace {

bool names(const std::vector<std::string>& problems, const std::string& field) {
  for (const auto& p : problems)
    if (p.find(field) != std::string::npos) return true;
  return false;
}

TEST(SwarmConfig, TheDefaultsAreValid) { EXPECT_TRUE(SwarmConfig{}.validate().empty()); }

TEST(SwarmConfig, WhatCannotWorkIsNamed) {
  SwarmConfig c;
  c.trees.substreams = 17;
  c.repair.repair_window_chunks = c.repair.window_chunks + 1;
  c.repair.have_interval = Time{0};
  c.membership.peers_per_message = 40;
  const auto problems = c.validate();
  EXPECT_EQ(problems.size(), 4u);
  EXPECT_TRUE(names(problems, "trees.substreams"));
  EXPECT_TRUE(names(problems, "repair.repair_window_chunks"));
  EXPECT_TRUE(names(problems, "repair.have_interval"));
  EXPECT_TRUE(names(problems, "membership.peers_per_message"));
}

TEST(SwarmConfig, ASwarmRefusesToStartWithAnInvalidOne) {
  SwarmConfig c;
  c.stream_key = SecretKey::generate().public_key();
  c.crypto = session::cheap_crypto(1, false);
  c.repair.window_chunks = 2;  // fewer than the substreams
  try {
    Swarm swarm(c);
    FAIL() << "a swarm started with a window smaller than its trees";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("repair.window_chunks"), std::string::npos) << e.what();
  }
  c.repair.window_chunks = 64;
  EXPECT_NO_THROW(Swarm{c});
}

}  // namespace
}  // namespace p2plive
