// Loss detection for one packet-number space (RFC 9002 section 6): acknowledgement-based loss
// (packet and time thresholds), the probe timeout (PTO) with exponential backoff, and persistent
// congestion (section 7.6). Owns the SentPackets record; the connection reports each packet sent,
// each ACK frame received and each timer expiry, and acts on the plain results: it hands acked and
// lost packets to the congestion controller, re-queues the lost packets' frames and sends probes.
//
// The reordering tolerance adapts (RFC 9002 sections 6.1.1 and 6.1.2 allow it; Linux RACK and
// quinn do the same): a packet declared lost and acknowledged later was only reordered, so the
// packet threshold rises to the reordering distance seen and the time threshold widens from 9/8
// towards 3 RTTs. Both return half-way to the defaults after every 64 RTTs without such an event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>
#include <vector>

#include "common/deque.hpp"
#include "common/random.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "transport/rtt_estimator.hpp"
#include "transport/sent_packets.hpp"
#include "wire/frame.hpp"

namespace srudp::transport {

struct LossDetectionConfig {
  // kPacketThreshold: lost once a packet this many numbers newer is acknowledged. The starting
  // (and decay target) value when the threshold adapts.
  std::uint64_t packet_threshold = 3;
  // Adapt both thresholds to the reordering the path shows (spurious losses), see above.
  bool adaptive_reordering = true;
  // The packet threshold never adapts beyond this; deeper reordering is left to the time
  // threshold (a path reordering by more than this is reordering by time, not by a few packets).
  std::uint64_t max_packet_threshold = 64;
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
  // Packets declared lost earlier (by an ACK or the loss timer) that this ACK acknowledges after
  // all, ascending: the losses were spurious. Their frames were already queued again (the copies
  // are harmless duplicates); a connection may undo the congestion reaction to them. The size is
  // the count. Such an ACK is valid even when it acknowledges nothing else.
  std::vector<std::uint64_t> spurious_losses;
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
  // It adapts as (8 + extra) / 8 with extra in 1, 2, 4, 8, 16: doubled per spurious loss, up to
  // 3 RTTs. Not just 2: under heavy jitter the smoothed RTT is biased low (the samples come from
  // the largest acknowledged packet, which tends to be one that overtook the others), and the
  // simulated 0-50 ms jitter path kept declaring spurious losses at 2x (see tests/transport).
  static constexpr std::int64_t kTimeThresholdNum = 9;
  static constexpr std::int64_t kTimeThresholdDen = 8;
  static constexpr std::int64_t kMaxTimeThresholdNum = 24;
  // Declared-lost numbers remembered to recognise a late ACK of them; older ones are forgotten.
  static constexpr std::size_t kMaxRememberedLosses = 256;
  // After this many smoothed RTTs without a spurious loss, the excess of both thresholds over
  // their defaults is halved (and again after as many more). Slow on purpose: every spurious
  // loss costs a congestion-window reduction, a slightly late real loss only some latency.
  static constexpr std::int64_t kReorderingDecayRtts = 64;
  // kPersistentCongestionThreshold.
  static constexpr std::int64_t kPersistentCongestionThreshold = 3;

  explicit LossDetection(LossDetectionConfig config = {}, std::uint64_t first_packet_number = 0);

  // See SentPackets::next_packet_number.
  Result<std::uint64_t> next_packet_number(RandomSource& rng) {
    return sent_.next_packet_number(rng);
  }
  // Records a sent packet (its time_sent is "now") and re-arms the timer. Errors as
  // SentPackets::on_packet_sent.
  std::error_code on_packet_sent(const SentPacket& packet, const RttEstimator& rtt);

  // Processes an ACK frame: feeds the RTT sample to `rtt`, detects losses, resets the PTO backoff
  // and re-arms the timer. On persistent congestion it also resets rtt's min_rtt. A late ACK of
  // packets already declared lost is valid: they are reported in spurious_losses and widen the
  // reordering tolerance. Errors as SentPackets::on_ack_received (nothing changes then, the
  // thresholds included; the connection should close).
  Result<AckOutcome> on_ack_received(const wire::Ack& ack, Instant now, RttEstimator& rtt);
  // The same into `outcome`, which it clears first: a connection keeps one for every ACK it
  // takes, so its vectors' memory is reused (no allocation per ACK).
  std::error_code on_ack_received(const wire::Ack& ack, Instant now, RttEstimator& rtt, AckOutcome& outcome);

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

  // The sender has nothing to send: see SentPackets::on_app_limited.
  void on_app_limited() { sent_.on_app_limited(); }

  std::uint32_t pto_count() const { return pto_count_; }
  bool handshake_confirmed() const { return handshake_confirmed_; }
  const SentPackets& sent_packets() const { return sent_; }

  // The thresholds in force: packet count, and the time threshold as a multiple of
  // time_threshold_den() (9/8 by default, up to 24/8).
  std::uint64_t packet_threshold() const { return packet_threshold_; }
  std::int64_t time_threshold_num() const { return time_threshold_num_; }
  static constexpr std::int64_t time_threshold_den() { return kTimeThresholdDen; }
  // The time threshold applied to an RTT: max(threshold * max(latest, smoothed), granularity).
  Duration loss_delay(const RttEstimator& rtt) const;
  // Spurious losses found so far (all ACKs together).
  std::uint64_t spurious_loss_count() const { return spurious_loss_count_; }

 private:
  struct DetectedLosses {
    std::vector<SentPacket> lost;
    bool persistent_congestion = false;
  };
  struct DeclaredLoss {
    std::uint64_t packet_number;
    std::uint64_t largest_acked;  // when it was declared lost: at least this much reordering
  };

  DetectedLosses detect_lost_packets(Instant now, RttEstimator& rtt);
  void set_timer(Instant now, const RttEstimator& rtt);
  // Finds the remembered losses `ack` covers, removes them and adapts the thresholds.
  std::vector<std::uint64_t> find_spurious_losses(const wire::Ack& ack, Instant now);
  void decay_reordering_tolerance(Instant now, const RttEstimator& rtt);
  void remember_declared_losses(const std::vector<std::uint64_t>& lost_pns,
                                std::uint64_t largest_acked);

  LossDetectionConfig config_;
  SentPackets sent_;
  std::optional<Instant> timer_;
  std::optional<Instant> loss_time_;               // earliest time-threshold loss pending
  std::optional<Instant> last_ack_eliciting_sent_;
  std::optional<Instant> last_pto_fired_;          // re-arms from here if no probe was sent
  std::optional<Instant> first_rtt_sample_;        // persistent congestion only counts later sends
  std::uint32_t pto_count_ = 0;
  bool handshake_confirmed_ = false;

  std::uint64_t packet_threshold_;
  std::int64_t time_threshold_num_ = kTimeThresholdNum;
  Deque<DeclaredLoss> declared_lost_;  // ascending packet numbers, bounded
  std::optional<Instant> last_reordering_change_;  // last spurious loss or decay step
  std::uint64_t spurious_loss_count_ = 0;
};

}  // namespace srudp::transport
