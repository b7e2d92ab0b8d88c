#include "transport/congestion_controller.hpp"

#include <algorithm>
#include <limits>

#include "transport/bbr.hpp"
#include "transport/cubic.hpp"
#include "transport/new_reno.hpp"

namespace srudp::transport {

namespace {

__extension__ using uint128 = unsigned __int128;

constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

std::uint64_t RateSample::bytes_per_second() const {
  if (interval <= Duration::zero()) return 0;
  const uint128 rate = uint128{delivered_bytes} * kNanosPerSecond / static_cast<std::uint64_t>(interval.count());
  return static_cast<std::uint64_t>(std::min<uint128>(rate, std::numeric_limits<std::uint64_t>::max()));
}

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

void SpuriousCongestionTracker::give_up() {
  trigger_.reset();
  pending_.clear();
}

void SpuriousCongestionTracker::on_packets_lost(const std::vector<std::uint64_t>& packet_numbers,
                                                bool reduced, bool persistent) {
  if (packet_numbers.empty()) return;
  if (reduced) {
    give_up();
    trigger_ = *std::max_element(packet_numbers.begin(), packet_numbers.end());
  } else if (!trigger_) {
    return;  // nothing to undo: losses within a recovery already given up on
  }
  // The collapse on persistent congestion is never undone (a long silence is a real problem even
  // if the packets eventually got through), and neither is what cannot be tracked fully.
  if (persistent || pending_.size() + packet_numbers.size() > kMaxTracked) {
    give_up();
    return;
  }
  pending_.insert(pending_.end(), packet_numbers.begin(), packet_numbers.end());
  std::sort(pending_.begin(), pending_.end());
  pending_.erase(std::unique(pending_.begin(), pending_.end()), pending_.end());
}

bool SpuriousCongestionTracker::on_spurious_losses(const std::vector<std::uint64_t>& packet_numbers) {
  if (!trigger_ || packet_numbers.empty()) return false;
  std::erase_if(pending_, [&](std::uint64_t pn) {
    return std::find(packet_numbers.begin(), packet_numbers.end(), pn) != packet_numbers.end();
  });
  if (!pending_.empty()) return false;
  trigger_.reset();
  return true;
}

std::unique_ptr<CongestionController> make_congestion_controller(
    CongestionAlgorithm algorithm, std::uint64_t max_datagram_size) {
  switch (algorithm) {
    case CongestionAlgorithm::new_reno:
      return std::make_unique<NewReno>(max_datagram_size);
    case CongestionAlgorithm::cubic:
      return std::make_unique<Cubic>(max_datagram_size);
    case CongestionAlgorithm::bbr:
      return std::make_unique<Bbr>(max_datagram_size);
  }
  return std::make_unique<Cubic>(max_datagram_size);
}

}  // namespace srudp::transport
