// The one place the Asio layer reads the clock: steady_clock as the core's Instant, and back.
#pragma once

#include <chrono>

#include "common/time.hpp"

namespace srudp::io {

inline Instant now() { return Instant(std::chrono::steady_clock::now().time_since_epoch()); }

inline std::chrono::steady_clock::time_point to_steady(Instant t) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(t.time_since_epoch()));
}

}  // namespace srudp::io
