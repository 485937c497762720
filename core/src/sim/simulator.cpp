// The simulator's entry points: one run of a scenario (sim/simulation.hpp), and the come-and-go schedule.
#include "p2plive/simulator.hpp"

#include "sim/simulation.hpp"

namespace p2plive::sim {

Report simulate(const Scenario& scenario) { return Simulation(scenario).run(); }

std::vector<Visit> come_and_go(std::size_t viewers, double first_s, double watch_s, double final_watch_s) {
  const auto at = [](double s) { return Time{static_cast<std::int64_t>(s * 1e6)}; };
  std::vector<Visit> visits;
  for (std::size_t i = 0; i < viewers; ++i) {
    const double arrive = first_s + static_cast<double>(i) * watch_s;
    visits.push_back(Visit{at(arrive), at(arrive + watch_s), i % 2 == 1});
  }
  const double last = first_s + static_cast<double>(viewers) * watch_s;
  visits.push_back(Visit{at(last), at(last + final_watch_s), true});
  return visits;
}

}  // namespace p2plive::sim
