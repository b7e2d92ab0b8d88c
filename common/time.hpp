// Time as the protocol core sees it: a value passed in by the caller, never read from a clock.
// The Asio layer passes the steady clock's current time; the simulator passes virtual time.
#pragma once

#include <chrono>

namespace srudp {

using Duration = std::chrono::nanoseconds;
using Instant = std::chrono::time_point<std::chrono::steady_clock, Duration>;

using namespace std::chrono_literals;

}  // namespace srudp
