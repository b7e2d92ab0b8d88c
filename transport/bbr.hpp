// BBR congestion control (version 1 as in Linux tcp_bbr.c and draft-cardwell-iccrg-bbr-congestion-
// control-00, with the gains of draft-ietf-ccwg-bbr): instead of reacting to loss, BBR models the
// path by its bottleneck bandwidth (the maximum delivery rate over the last 10 round trips, from
// the rate samples of transport/delivery_rate.hpp) and its propagation delay (the minimum RTT over
// the last 10 s), paces at gain * bandwidth and keeps at most 2 * bandwidth * min_rtt in flight.
//
//   startup    pacing gain 2.77: the sending rate doubles every round trip, until the bandwidth
//              estimate grew less than 25% over 3 rounds (the pipe is full);
//   drain      pacing gain 0.35 until what is in flight is back down to one BDP;
//   probe_bw   gain cycling over 8 phases of one min_rtt: 1.25 (probe for more bandwidth), 0.75
//              (drain the queue the probe made), then 1.0 six times; starts at a random phase
//              other than 0.75 so that flows sharing a bottleneck do not probe in lockstep;
//   probe_rtt  when the min_rtt estimate is 10 s old: at most 4 packets in flight for 200 ms and a
//              round trip, so the queue empties and the propagation delay can be measured again.
//
// Loss: BBR ignores random loss (the delivery rate already reflects it), so random loss costs
// only its retransmissions, not rate (in the simulations up to 10% loss). Persistent congestion collapses the window to
// 4 packets; it then grows back by the bytes acknowledged, up to the model's target. A loss during
// a 1.25 probing phase ends it after one min_rtt even if the extra data is not in flight yet (there
// is no room for it). Not implemented: BBRv2's loss-rate bound on inflight (so BBR does not yield
// to loss-based flows in buffers of about a BDP), policer detection.
//
// ACK aggregation (Linux's extra_acked, 2019): ACKs that come in bursts (delayed ACKs, a receiver
// or sender that handles datagrams in batches, a shared medium) deliver more than bandwidth * time
// at once and then nothing; a window of 2 BDP runs dry between the bursts, and on a path whose
// min RTT is tens of microseconds it does so at a fraction of the link. Each ACK measures how far
// the bytes acknowledged since the start of the current epoch exceed what the bandwidth estimate
// would deliver in that time (a new epoch starts whenever they do not); the largest excess of the
// last 5 to 10 rounds, at most one window and at most 100 ms of bandwidth, is added to the window
// once startup is over.
//
// The interface's loss-based notions, for callers that ask:
//   in_recovery(t)   true for packets sent up to the last congestion event (one per round trip, as
//                    RFC 9002 defines the recovery period), but the window is not reduced in it;
//   ssthresh()       UINT64_MAX during startup, afterwards the estimated BDP when startup ended
//                    (what Linux reports); nothing depends on it;
//   in_slow_start()  true exactly in startup.
// Without rate samples (AckedPacket::rate_sample empty) BBR has no bandwidth estimate: the window
// grows over the first initial window's worth of ACKs (as Linux) and then stays; pacing follows it.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>

#include "transport/congestion_controller.hpp"

namespace srudp::transport {

class Bbr final : public CongestionController {
 public:
  enum class Mode { startup, drain, probe_bw, probe_rtt };

  static constexpr double kStartupPacingGain = 2.77;  // 4 ln 2: doubles the delivery rate per round
  static constexpr double kDrainPacingGain = 0.35;    // about 1 / 2.77: drains startup's queue in a round
  static constexpr double kCwndGain = 2.0;            // window = 2 BDP, in startup as afterwards
  static constexpr std::array<double, 8> kProbeBwGains{1.25, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
  // Pace 1% below the estimate so that a queue left by probing drains even at gain 1.
  static constexpr double kPacingMargin = 0.99;
  // The bandwidth filter spans the 8-phase cycle plus two rounds, as in Linux.
  static constexpr std::uint64_t kBandwidthWindowRounds = 10;
  static constexpr Duration kMinRttWindow = std::chrono::seconds(10);
  static constexpr Duration kProbeRttDuration = std::chrono::milliseconds(200);
  static constexpr std::uint64_t kMinPipeCwndPackets = 4;
  // Startup ends when the bandwidth grew less than this factor over kFullBandwidthRounds rounds.
  static constexpr double kFullBandwidthGrowth = 1.25;
  static constexpr std::uint64_t kFullBandwidthRounds = 3;
  // Window allowance beyond gain * BDP for the sender's and the receiver's batching (after Linux's
  // quantization budget): 3 send quanta, a quantum being what the pacing rate earns in
  // kSendQuantumTime, at least one datagram and at most kMaxSendQuantumBytes (one GSO send). Up to
  // about 100 Mbit/s that is 3 datagrams; where the sender itself is the bottleneck (loopback, 1
  // GB/s) it is 192 KiB, without which the window runs dry between batches and the sender sleeps
  // waiting for ACKs. (Linux earns its quantum in 1 ms, which here fills a one-BDP buffer at 100
  // Mbit/s during probes.)
  static constexpr std::uint64_t kSendQuanta = 3;
  static constexpr Duration kSendQuantumTime = std::chrono::microseconds(100);
  static constexpr std::uint64_t kMaxSendQuantumBytes = 64 * 1024;
  // The ACK-aggregation filter: a maximum over two buckets of this many rounds each.
  static constexpr std::uint64_t kAckAggregationBucketRounds = 5;
  static constexpr Duration kMaxAckAggregation = std::chrono::milliseconds(100);
  // An epoch that has acknowledged this many datagrams is old: start a new one (Linux: 2^20).
  static constexpr std::uint64_t kAckEpochResetPackets = std::uint64_t{1} << 20;

  explicit Bbr(std::uint64_t max_datagram_size);

  void on_packet_sent(Instant now, std::uint64_t bytes_in_flight_after, std::uint64_t bytes,
                      bool ack_eliciting) override;
  // The rate sample decides app-limitedness; the `app_limited` argument is not used.
  void on_ack(Instant now, const AckedPacket& acked, const RttEstimator& rtt, std::uint64_t bytes_in_flight,
              bool app_limited) override;
  // The model moves once per ACK, as Linux's does: on the rate sample of the most recently sent
  // packet acknowledged, the RTT of that packet, and the bytes all of them delivered.
  void on_acks(Instant now, std::span<const AckedPacket> acked, const RttEstimator& rtt,
               std::uint64_t bytes_in_flight, bool app_limited) override;
  void on_congestion_event(Instant now, Instant sent_time_of_lost, bool persistent,
                           const RttEstimator& rtt) override;
  // Nothing was reduced, so only the recovery period the event started is undone.
  void on_spurious_congestion(Instant now) override;
  void on_max_datagram_size_changed(std::uint64_t max_datagram_size) override;

  std::uint64_t congestion_window() const override { return cwnd_; }
  std::uint64_t ssthresh() const override { return ssthresh_; }
  bool in_slow_start() const override { return mode_ == Mode::startup; }
  bool in_recovery(Instant sent_time) const override;
  std::uint64_t max_datagram_size() const override { return mss_; }
  // gain * bandwidth * kPacingMargin once there is an estimate (in startup it never decreases);
  // before that kStartupPacingGain * window / smoothed RTT.
  std::uint64_t pacing_rate_bytes_per_sec(const RttEstimator& rtt) const override;
  std::string_view name() const override { return "bbr"; }

  // Introspection for tests and diagnostics.
  Mode mode() const { return mode_; }
  std::uint64_t bandwidth() const { return max_bandwidth_.best(); }  // bytes/s, 0 before a sample
  std::optional<Duration> min_rtt() const { return min_rtt_; }
  std::uint64_t round_count() const { return round_count_; }
  double pacing_gain() const { return pacing_gain_; }
  std::size_t cycle_index() const { return cycle_index_; }
  bool full_bandwidth_reached() const { return full_bandwidth_reached_; }
  // gain * bandwidth * min_rtt (+ the allowance), the window the model aims for at that gain; the
  // initial window while bandwidth or min_rtt is unknown.
  std::uint64_t target_inflight(double gain) const;
  // What the pacing rate sends in one go (see kSendQuanta); target_inflight adds 3 of them.
  std::uint64_t send_quantum() const;
  // What the window holds beyond target_inflight for bursts of ACKs: 0 until startup is over.
  std::uint64_t ack_aggregation_allowance() const;

 private:
  // Kathleen Nichols' windowed maximum (as Linux lib/win_minmax.c): the best, second and third
  // best samples of the window, so the maximum expires without storing every sample.
  class WindowedMax {
   public:
    std::uint64_t best() const { return samples_[0].value; }
    void update(std::uint64_t value, std::uint64_t time, std::uint64_t window);

   private:
    struct Sample {
      std::uint64_t value = 0;
      std::uint64_t time = 0;
    };
    std::array<Sample, 3> samples_{};
  };

  void update_round(const RateSample& rs);
  void update_bandwidth(const RateSample& rs);
  void update_cycle_phase(Instant now, std::uint64_t prior_in_flight);
  void check_full_bandwidth(const RateSample* rs);
  void check_drain(Instant now, std::uint64_t bytes_in_flight);
  void update_min_rtt(Instant now, Duration rtt_sample, std::uint64_t bytes_in_flight);
  void update_pacing_rate(const RttEstimator& rtt);
  void update_ack_aggregation(Instant now, std::uint64_t acked_bytes);
  void update_cwnd(std::uint64_t acked_bytes);
  void enter_probe_bw(Instant now);
  void advance_cycle_phase(Instant now);
  void check_probe_rtt_done(Instant now);
  std::uint64_t min_pipe_cwnd() const { return kMinPipeCwndPackets * mss_; }
  std::uint64_t save_cwnd() const;

  std::uint64_t mss_;
  std::uint64_t cwnd_;
  std::uint64_t ssthresh_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t pacing_rate_ = 0;  // bytes/s; 0 until the first ACK with an RTT sample
  Mode mode_ = Mode::startup;
  double pacing_gain_ = kStartupPacingGain;
  double cwnd_gain_ = kCwndGain;

  // The model.
  WindowedMax max_bandwidth_;
  std::optional<Duration> min_rtt_;
  Instant min_rtt_stamp_{};

  // Round trips, counted in delivered bytes: a round ends when a packet sent after the previous
  // round ended is acknowledged.
  std::uint64_t delivered_ = 0;
  std::uint64_t next_round_delivered_ = 0;
  std::uint64_t round_count_ = 0;
  bool round_start_ = false;

  // ACK aggregation: the excess of the current epoch, and the maxima of two buckets of rounds.
  std::array<std::uint64_t, 2> extra_acked_{};
  std::size_t extra_acked_bucket_ = 0;
  std::uint64_t extra_acked_bucket_rounds_ = 0;
  Instant ack_epoch_start_{};
  std::uint64_t ack_epoch_acked_ = 0;

  // Startup's exit test.
  std::uint64_t full_bandwidth_ = 0;
  std::uint64_t full_bandwidth_count_ = 0;
  bool full_bandwidth_reached_ = false;

  // probe_bw.
  std::size_t cycle_index_ = 0;
  Instant cycle_stamp_{};
  bool lost_in_phase_ = false;
  std::uint64_t random_state_ = 0x9e3779b97f4a7c15;

  // probe_rtt. Packets sent while in it (until what was in flight then is delivered) yield
  // app-limited samples: the rate is held down on purpose (Linux marks the connection app-limited).
  std::optional<Instant> probe_rtt_done_stamp_;
  bool probe_rtt_round_done_ = false;
  std::uint64_t probe_rtt_bubble_until_ = 0;  // 0: none
  std::uint64_t prior_cwnd_ = 0;  // restored when probe_rtt ends
  bool idle_restart_ = false;     // sending resumed with nothing in flight; cleared by the next ACK

  // Recovery periods, tracked only for in_recovery().
  std::optional<Instant> recovery_start_;
  std::optional<std::optional<Instant>> recovery_start_before_event_;  // for on_spurious_congestion
};

}  // namespace srudp::transport
