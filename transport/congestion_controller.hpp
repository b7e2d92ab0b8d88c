// The congestion controller interface: a sans-IO state machine that the loss-recovery code feeds
// with send, acknowledgment and congestion events, and that answers how many bytes may be in flight
// and how fast to pace them. Bytes in flight are tracked by the caller (sent_packets), not here.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/time.hpp"
#include "transport/rtt_estimator.hpp"

namespace srudp::transport {

// A delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation) for model-based controllers
// such as BBR, produced by DeliveryRateEstimator (transport/delivery_rate.hpp) when a packet is
// acknowledged. Loss-based controllers (NewReno, CUBIC) ignore it.
struct RateSample {
  std::uint64_t delivered_bytes = 0;  // bytes delivered over the sample interval
  Duration interval{};                // the longer of the send and ack intervals; never zero
  bool is_app_limited = false;        // the packet was sent while the sender was app-limited
  // The connection's delivered-bytes counter when the packet was sent and after its ACK: BBR counts
  // round trips with them (a round ends when a packet sent after the previous round ended is acked).
  std::uint64_t prior_delivered = 0;
  std::uint64_t delivered = 0;
  Duration send_elapsed{};  // the two intervals behind `interval`
  Duration ack_elapsed{};

  // delivered_bytes / interval, saturated; 0 for an empty sample.
  std::uint64_t bytes_per_second() const;
};

// One newly acknowledged packet that counted towards bytes in flight.
struct AckedPacket {
  std::uint64_t packet_number = 0;
  Instant sent_time{};
  std::uint64_t bytes = 0;
  std::optional<RateSample> rate_sample;
};

enum class CongestionAlgorithm { new_reno, cubic, bbr };

class CongestionController {
 public:
  // RFC 9002 section 7.2: the window never goes below two datagrams.
  static constexpr std::uint64_t kMinimumWindowPackets = 2;

  virtual ~CongestionController() = default;

  // A packet left: bytes_in_flight_after already includes it. Non-ack-eliciting packets (pure
  // ACKs) are not in flight and are reported only so controllers can notice idle restarts.
  virtual void on_packet_sent(Instant now, std::uint64_t bytes_in_flight_after,
                              std::uint64_t bytes, bool ack_eliciting) = 0;

  // Called once per newly acknowledged in-flight packet, after the RTT estimator has taken the
  // ACK's sample. bytes_in_flight is after removing the acked packet. app_limited: the sender has
  // not been using its window (it had nothing to send or was flow-control limited), so the window
  // must not grow (RFC 9002 section 7.8, RFC 9438 section 5.8).
  virtual void on_ack(Instant now, const AckedPacket& acked, const RttEstimator& rtt,
                      std::uint64_t bytes_in_flight, bool app_limited) = 0;
  // Every in-flight packet one ACK frame newly acknowledged, in send order. By default on_ack for
  // each; a controller whose model works per ACK (BBR, as Linux runs it) takes them as one.
  virtual void on_acks(Instant now, std::span<const AckedPacket> acked, const RttEstimator& rtt,
                       std::uint64_t bytes_in_flight, bool app_limited) {
    for (const AckedPacket& a : acked) on_ack(now, a, rtt, bytes_in_flight, app_limited);
  }

  // Loss of packets (or an ECN-CE mark) detected at `now`; sent_time_of_lost is the send time of
  // the most recently sent lost packet. Events for packets sent before the current recovery period
  // started are ignored (one reduction per round trip, RFC 9002 section 7.3.2). persistent: the
  // loss spans a persistent-congestion period (RFC 9002 section 7.6) and the window collapses to
  // the minimum.
  virtual void on_congestion_event(Instant now, Instant sent_time_of_lost, bool persistent,
                                   const RttEstimator& rtt) = 0;

  // The losses behind the most recent window reduction turned out spurious (every packet declared
  // lost since it was acknowledged after all: reordering, not congestion). Restores the window,
  // ssthresh and algorithm state saved when that reduction was made, and ends its recovery period
  // (RFC 9438 section 4.9). The window never shrinks here: growth since the reduction is kept if
  // it went beyond the saved window. Does nothing without a saved reduction (none yet, already
  // undone, or persistent congestion since); each reduction is undone at most once.
  virtual void on_spurious_congestion(Instant now) = 0;

  // The path's maximum datagram size changed (PMTU discovery). The minimum window follows it and
  // the window is raised to the new minimum if needed (RFC 9002 section 7.2).
  virtual void on_max_datagram_size_changed(std::uint64_t max_datagram_size) = 0;

  virtual std::uint64_t congestion_window() const = 0;
  // UINT64_MAX until the first congestion event.
  virtual std::uint64_t ssthresh() const = 0;
  virtual bool in_slow_start() const { return congestion_window() < ssthresh(); }
  // True while acknowledgments of packets sent at `sent_time` belong to the current recovery period.
  virtual bool in_recovery(Instant sent_time) const = 0;
  virtual std::uint64_t max_datagram_size() const = 0;

  // The rate the pacer should spread the window over: N * cwnd / smoothed_rtt with N = 2 in slow
  // start (so pacing does not hold back the doubling) and 1.25 afterwards (Linux and quinn use the
  // same factors). Saturates instead of overflowing; never 0.
  virtual std::uint64_t pacing_rate_bytes_per_sec(const RttEstimator& rtt) const;

  virtual std::string_view name() const = 0;

  // RFC 9002 section 7.2: min(10 * mss, max(14720, 2 * mss)).
  static std::uint64_t initial_window(std::uint64_t max_datagram_size);
  static std::uint64_t minimum_window(std::uint64_t max_datagram_size) {
    return kMinimumWindowPackets * max_datagram_size;
  }

  // Bounds that keep window arithmetic far from overflow whatever the caller passes: the largest
  // UDP payload, and a window (1 TiB) far above any real bandwidth-delay product.
  static constexpr std::uint64_t kMaxDatagramSizeLimit = 65527;
  static constexpr std::uint64_t kMaximumWindow = std::uint64_t{1} << 40;

 protected:
  static std::uint64_t sanitize_max_datagram_size(std::uint64_t max_datagram_size) {
    return std::clamp<std::uint64_t>(max_datagram_size, 1, kMaxDatagramSizeLimit);
  }
  static std::uint64_t grow_window(std::uint64_t cwnd, std::uint64_t bytes) {
    const std::uint64_t current = std::min(cwnd, kMaximumWindow);
    return current + std::min(bytes, kMaximumWindow - current);
  }
};

// Decides when a window reduction may be undone, for the connection: the reduction is spurious
// once every in-flight packet declared lost from the congestion event that caused it onwards has
// been acknowledged after all. A real loss during that time, persistent congestion, or more losses
// than can be tracked make the reduction stand. Bounded memory: at most kMaxTracked numbers.
class SpuriousCongestionTracker {
 public:
  static constexpr std::size_t kMaxTracked = 64;

  // Packets (in flight, counting for congestion control) declared lost together; reduced: this
  // event made the controller reduce its window (it was not already in recovery).
  void on_packets_lost(const std::vector<std::uint64_t>& packet_numbers, bool reduced, bool persistent);
  // Packets reported lost earlier and acknowledged since. True when the reduction they caused is
  // now known to be spurious: the caller then calls CongestionController::on_spurious_congestion.
  bool on_spurious_losses(const std::vector<std::uint64_t>& packet_numbers);

  // The packet number that triggered the reduction being watched (the newest lost in its event).
  std::optional<std::uint64_t> trigger() const { return trigger_; }
  std::size_t pending() const { return pending_.size(); }

 private:
  void give_up();

  std::optional<std::uint64_t> trigger_;  // set while the last reduction may still be undone
  std::vector<std::uint64_t> pending_;     // declared lost since, not yet acknowledged; ascending
};

// BBR (transport/bbr.hpp) is the default: it needs the rate samples, and it keeps its rate under
// random loss, where CUBIC and NewReno back off at every loss (docs/PERFORMANCE.md: 1% loss
// between namespaces, 405 MB/s against CUBIC's 160; 20 ms RTT with 1% loss, 11 against 0.9).
// max_datagram_size is clamped to [1, kMaxDatagramSizeLimit].
std::unique_ptr<CongestionController> make_congestion_controller(
    CongestionAlgorithm algorithm, std::uint64_t max_datagram_size);

inline constexpr CongestionAlgorithm kDefaultCongestionAlgorithm = CongestionAlgorithm::bbr;

}  // namespace srudp::transport
