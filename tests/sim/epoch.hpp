// Where virtual time starts. Fixed, so a seed replays to the same instants, and well after the
// clock's zero, so protocol code that subtracts a few minutes from 'now' stays positive.
#pragma once

#include "common/time.hpp"

namespace srudp::sim {

inline constexpr Instant kEpoch{std::chrono::hours(1)};

}  // namespace srudp::sim
