// Loss detection for one packet-number space (RFC 9002 section 6): acknowledgement-based loss
// (packet and time thresholds), the probe timeout (PTO) with exponential backoff, and persistent
// congestion (section 7.6). Owns the SentPackets record; the connection reports each packet sent,
// each ACK frame received and each timer expiry, and acts on the plain results: it hands acked and
// lost packets to the congestion controller, re-queues the lost packets' frames and sends probes.
#pragma once

#include <cstdint>
#include <optional>
#include <system_error>
#include <vector>

#include "common/random.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "transport/rtt_estimator.hpp"
#include "transport/sent_packets.hpp"
#include "wire/frame.hpp"

namespace srudp::transport {

struct LossDetectionConfig {
  // kPacketThreshold: lost once a packet this many numbers newer is acknowledged.
  std::uint64_t packet_threshold = 3;
  // Whether the peer already validated our address, so that with nothing in flight there is
  // nothing to probe (RFC 9002 PeerCompletedAddressValidation). A server's peer (the client) is
  // validated implicitly: true. A client sets false: until the handshake is confirmed it keeps a
  // PTO armed even with nothing in flight, so a lost server reply cannot deadlock the handshake.
  bool peer_validated_address = false;
  // Upper bound of one backed-off PTO period, so the backoff cannot run away (or overflow).
  Duration max_pto = std::chrono::seconds(60);
};

struct AckOutcome {
  std::vector<SentPacket> acked;  // newly acknowledged, ascending packet numbers
  std::vector<SentPacket> lost;   // declared lost by this ACK, ascending packet numbers
  std::optional<Duration> rtt_sample;  // the sample fed to the RTT estimator, if any
  // The losses span more than the persistent-congestion period with nothing acknowledged in
  // between: the congestion controller collapses its window to the minimum.
  bool persistent_congestion = false;
};

struct TimeoutOutcome {
  enum class Action {
    none,           // the timer had not expired (or was not armed): nothing to do
    packets_lost,   // the loss-time timer: `lost` holds the packets now declared lost
    send_probes,    // the PTO: send `probe_packets` ack-eliciting packets now, regardless of
                    // the congestion window (new data, else the oldest unacknowledged data,
                    // else a PING)
  };
  Action action = Action::none;
  std::vector<SentPacket> lost;
  bool persistent_congestion = false;
  std::uint32_t probe_packets = 0;  // 1 or 2 when action == send_probes
};

class LossDetection {
 public:
  // kTimeThreshold = 9/8: a packet sent this much of an RTT before an acknowledged one is lost.
  static constexpr std::int64_t kTimeThresholdNum = 9;
  static constexpr std::int64_t kTimeThresholdDen = 8;
  // kPersistentCongestionThreshold.
  static constexpr std::int64_t kPersistentCongestionThreshold = 3;

  explicit LossDetection(LossDetectionConfig config = {}, std::uint64_t first_packet_number = 0);

  // See SentPackets::next_packet_number.
  Result<std::uint64_t> next_packet_number(RandomSource& rng) {
    return sent_.next_packet_number(rng);
  }
  // Records a sent packet (its time_sent is "now") and re-arms the timer. Errors as
  // SentPackets::on_packet_sent.
  std::error_code on_packet_sent(SentPacket packet, const RttEstimator& rtt);

  // Processes an ACK frame: feeds the RTT sample to `rtt`, detects losses, resets the PTO backoff
  // and re-arms the timer. On persistent congestion it also resets rtt's min_rtt. Errors as
  // SentPackets::on_ack_received (nothing changes then; the connection should close).
  Result<AckOutcome> on_ack_received(const wire::Ack& ack, Instant now, RttEstimator& rtt);

  // Handles the timer; call when now >= timeout(). Afterwards timeout() is later than `now` or
  // empty, so a caller that loops "while (now >= timeout()) on_timeout(now)" cannot spin.
  TimeoutOutcome on_timeout(Instant now, RttEstimator& rtt);

  // From now on the PTO includes the peer's max_ack_delay, and the anti-deadlock PTO stops.
  void on_handshake_confirmed(Instant now, const RttEstimator& rtt);

  // When on_timeout must be called next; nullopt when nothing is to be timed.
  std::optional<Instant> timeout() const { return timer_; }

  // The PTO period before backoff: smoothed + max(4 rttvar, 1 ms) (+ max_ack_delay once the
  // handshake is confirmed).
  Duration pto_period(const RttEstimator& rtt) const;
  // (smoothed + max(4 rttvar, 1 ms) + max_ack_delay) * kPersistentCongestionThreshold.
  static Duration persistent_congestion_period(const RttEstimator& rtt);

  std::uint32_t pto_count() const { return pto_count_; }
  bool handshake_confirmed() const { return handshake_confirmed_; }
  const SentPackets& sent_packets() const { return sent_; }

 private:
  struct DetectedLosses {
    std::vector<SentPacket> lost;
    bool persistent_congestion = false;
  };

  DetectedLosses detect_lost_packets(Instant now, RttEstimator& rtt);
  void set_timer(Instant now, const RttEstimator& rtt);

  LossDetectionConfig config_;
  SentPackets sent_;
  std::optional<Instant> timer_;
  std::optional<Instant> loss_time_;               // earliest time-threshold loss pending
  std::optional<Instant> last_ack_eliciting_sent_;
  std::optional<Instant> last_pto_fired_;          // re-arms from here if no probe was sent
  std::optional<Instant> first_rtt_sample_;        // persistent congestion only counts later sends
  std::uint32_t pto_count_ = 0;
  bool handshake_confirmed_ = false;
};

}  // namespace srudp::transport
