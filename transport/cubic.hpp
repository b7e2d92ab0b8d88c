// CUBIC congestion control (RFC 9438), in bytes: after a reduction the window follows
// W_cubic(t) = C * (t - K)^3 + W_max (concave up to the previous maximum, then convex probing),
// never below the Reno-friendly estimate W_est. Slow start, recovery periods, the minimum window and
// persistent congestion follow RFC 9002 exactly as NewReno does. A reduction found spurious later is
// undone (RFC 9438 section 4.9). Not implemented: HyStart++.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

#include "transport/congestion_controller.hpp"

namespace srudp::transport {

class Cubic final : public CongestionController {
 public:
  // RFC 9438 section 5: C in segments / s^3, multiplicative decrease factor, and the additive
  // increase of the Reno-friendly estimate that gives the same average rate as Reno (section 4.3).
  static constexpr double kC = 0.4;
  static constexpr std::uint64_t kBetaNumerator = 7;
  static constexpr std::uint64_t kBetaDenominator = 10;
  static constexpr double kBeta = static_cast<double>(kBetaNumerator) / kBetaDenominator;
  static constexpr double kAlphaCubic = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

  explicit Cubic(std::uint64_t max_datagram_size);

  void on_packet_sent(Instant now, std::uint64_t bytes_in_flight_after, std::uint64_t bytes,
                      bool ack_eliciting) override;
  void on_ack(Instant now, const AckedPacket& acked, const RttEstimator& rtt,
              std::uint64_t bytes_in_flight, bool app_limited) override;
  void on_congestion_event(Instant now, Instant sent_time_of_lost, bool persistent,
                           const RttEstimator& rtt) override;
  void on_spurious_congestion(Instant now) override;
  void on_max_datagram_size_changed(std::uint64_t max_datagram_size) override;

  std::uint64_t congestion_window() const override { return cwnd_; }
  std::uint64_t ssthresh() const override { return ssthresh_; }
  bool in_recovery(Instant sent_time) const override;
  std::uint64_t max_datagram_size() const override { return mss_; }
  std::string_view name() const override { return "cubic"; }

  // Introspection for tests and diagnostics.
  // W_max in bytes: the window just before the last reduction (less with fast convergence).
  double w_max() const { return w_max_; }
  // K of the current congestion-avoidance epoch, in seconds (0 before one has started).
  double k_seconds() const { return k_; }
  // When the current congestion-avoidance epoch started (t = 0 of the cubic curve), if it has.
  std::optional<Instant> epoch_start() const { return epoch_; }
  // W_cubic(t) in bytes for the current epoch, t measured from epoch_start().
  double cubic_window(Duration t) const;
  // The Reno-friendly estimate W_est in bytes.
  double reno_estimate() const { return w_est_; }

 private:
  void start_epoch(Instant now);

  std::uint64_t mss_;
  std::uint64_t cwnd_;
  std::uint64_t ssthresh_ = std::numeric_limits<std::uint64_t>::max();
  std::optional<Instant> recovery_start_;

  // Sub-byte growth carried between ACKs so small per-ACK increments are not lost to truncation.
  double cwnd_fraction_ = 0.0;
  double w_max_ = 0.0;       // bytes, set at each reduction
  double cwnd_prior_ = 0.0;  // bytes, the window just before the last reduction
  // The current epoch: start time, K, the curve's plateau (W_max, or the window at the epoch start
  // when that is already above W_max), and the Reno-friendly estimate.
  std::optional<Instant> epoch_;
  double k_ = 0.0;
  double origin_ = 0.0;
  double w_est_ = 0.0;

  // For shifting the epoch across idle and app-limited periods (RFC 9438 section 5.8): the curve
  // keeps its shape but is moved later by the time the window was not in use.
  std::optional<Instant> last_ack_time_;
  std::optional<Instant> last_sent_time_;

  // The state just before the last reduction, for on_spurious_congestion (RFC 9438 section 4.9
  // lists cwnd, ssthresh, cwnd_prior, W_max, K and the epoch); reset once used.
  struct Saved {
    std::uint64_t cwnd;
    std::uint64_t ssthresh;
    std::optional<Instant> recovery_start;
    double cwnd_fraction, w_max, cwnd_prior;
    std::optional<Instant> epoch;
    double k, origin, w_est;
  };
  std::optional<Saved> before_reduction_;
};

}  // namespace srudp::transport
