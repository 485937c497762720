#include "sim/nat_model.hpp"

namespace p2plive::sim {

void NatModel::set_class(std::size_t peer, NatClass c) {
  if (peer >= classes_.size()) classes_.resize(peer + 1, NatClass::open);
  classes_[peer] = c;
}

void NatModel::sent(std::size_t from, std::size_t to, Time now) {
  if (class_of(from) == NatClass::open) return;
  pinholes_[key(from, to)] = now;
  // Forget pinholes that have closed, now and again, so that the table stays the size of what is open.
  if (now - last_sweep_ >= lifetime_) {
    last_sweep_ = now;
    std::erase_if(pinholes_, [&](const auto& p) { return now - p.second > lifetime_; });
  }
}

bool NatModel::has_pinhole(std::size_t inside, std::size_t outside, Time now) const {
  const auto it = pinholes_.find(key(inside, outside));
  return it != pinholes_.end() && now - it->second <= lifetime_;
}

bool NatModel::admits(std::size_t from, std::size_t to, Time now) {
  bool in = true;
  switch (class_of(to)) {
    case NatClass::open:
      break;
    case NatClass::filtering:
      in = has_pinhole(to, from, now) && class_of(from) != NatClass::symmetric;
      break;
    case NatClass::symmetric:
      in = has_pinhole(to, from, now) && class_of(from) == NatClass::open;
      break;
  }
  if (!in) ++dropped_;
  return in;
}

}  // namespace p2plive::sim
