// NewReno congestion control as specified for QUIC in RFC 9002 section 7 and Appendix B:
// slow start, congestion avoidance (one datagram per window acknowledged), halving on loss with one
// reduction per recovery period, and collapse to the minimum window on persistent congestion.
// A reduction found spurious later is undone (as RFC 9438 section 4.9 allows for CUBIC).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

#include "transport/congestion_controller.hpp"

namespace srudp::transport {

class NewReno final : public CongestionController {
 public:
  explicit NewReno(std::uint64_t max_datagram_size);

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
  std::string_view name() const override { return "new_reno"; }

 private:
  std::uint64_t mss_;
  std::uint64_t cwnd_;
  std::uint64_t ssthresh_ = std::numeric_limits<std::uint64_t>::max();
  // Bytes acknowledged in congestion avoidance since the window last grew by one datagram.
  std::uint64_t bytes_acked_ = 0;
  std::optional<Instant> recovery_start_;

  // The state just before the last reduction, for on_spurious_congestion; reset once used.
  struct Saved {
    std::uint64_t cwnd;
    std::uint64_t ssthresh;
    std::uint64_t bytes_acked;
    std::optional<Instant> recovery_start;
  };
  std::optional<Saved> before_reduction_;
};

}  // namespace srudp::transport
