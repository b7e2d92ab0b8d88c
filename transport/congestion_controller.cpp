#include "transport/congestion_controller.hpp"

#include <algorithm>
#include <limits>

#include "transport/cubic.hpp"
#include "transport/new_reno.hpp"

namespace srudp::transport {

namespace {

__extension__ using uint128 = unsigned __int128;

constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

std::uint64_t CongestionController::initial_window(std::uint64_t max_datagram_size) {
  return std::min(10 * max_datagram_size, std::max<std::uint64_t>(14720, 2 * max_datagram_size));
}

std::uint64_t CongestionController::pacing_rate_bytes_per_sec(const RttEstimator& rtt) const {
  // Factor as a fraction: 2/1 in slow start, 5/4 in congestion avoidance.
  const std::uint64_t numerator = in_slow_start() ? 2 : 5;
  const std::uint64_t denominator = in_slow_start() ? 1 : 4;
  const auto rtt_ns = static_cast<std::uint64_t>(std::max(rtt.smoothed().count(), std::int64_t{1}));
  const uint128 rate = uint128{congestion_window()} * numerator * kNanosPerSecond /
                       (uint128{denominator} * rtt_ns);
  const uint128 max = std::numeric_limits<std::uint64_t>::max();
  return static_cast<std::uint64_t>(std::clamp(rate, uint128{1}, max));
}

std::unique_ptr<CongestionController> make_congestion_controller(
    CongestionAlgorithm algorithm, std::uint64_t max_datagram_size) {
  switch (algorithm) {
    case CongestionAlgorithm::new_reno:
      return std::make_unique<NewReno>(max_datagram_size);
    case CongestionAlgorithm::cubic:
      return std::make_unique<Cubic>(max_datagram_size);
  }
  return std::make_unique<Cubic>(max_datagram_size);
}

}  // namespace srudp::transport
