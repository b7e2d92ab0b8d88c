// Datagram Packetization Layer Path MTU Discovery (RFC 8899, DPLPMTUD) as a sans-IO state machine.
// srudp sets DF and never relies on IP fragmentation, and ICMP is not consulted (it is easily
// filtered or forged), so the only evidence about the path is which of our own packets the peer
// acknowledges. Probes are ordinary packets (a PING padded to the probe size) that the connection
// sends when probe_size() asks for one, and they are tracked by packet number like any other.
//
// States (RFC 8899 section 5.2):
//   base            confirming BASE_PLPMTU: a base-size probe (or any acknowledged packet of at
//                   least that size) moves on to searching; MAX_PROBES lost base probes -> error.
//   searching       probing upward: the maximum first (the common case: the path carries it),
//                   then a binary search between the largest acknowledged size and the smallest
//                   size that failed, until they are `search_granularity` bytes apart or closer.
//   search_complete the PLPMTU is settled; after `raise_timer` (when below the maximum) the search
//                   starts again from the current size, in case the path now carries more.
//   error           even base-size packets are not getting through (a black hole at the base).
//                   current() stays at the base (it never goes lower); a base probe is retried
//                   every `retry_pause`, and any acknowledged base-size packet ends the error.
//   disabled        no probing at all; current() is the base.
//
// Probing a size. Up to MAX_PROBES probes of the size being tried are in flight at once (one round
// trip per search step instead of MAX_PROBES). Only an acknowledged probe raises the PLPMTU. A size
// has failed after MAX_PROBES of its probes were lost with nothing else lost around them; a probe
// lost while an ordinary packet within `kProbeNeighbourhood` packet numbers was lost too is
// "excused": it says the path was lossy then, not that the size is too large, so it is retried
// instead of counted (its verdict waits until the rest of that ACK's losses are known). Excused
// losses are bounded (`max_excused_probe_losses`), so a genuinely too-large size on a very lossy
// path still fails. A probe neither acknowledged nor declared lost by its PROBE_TIMER counts as
// lost only if something sent after it has been acknowledged; if the path is silent altogether it
// keeps waiting (an outage says nothing about sizes).
//
// Black holes (RFC 8899 section 4.3): only size-specific evidence counts. A run of packets larger
// than the base (and no larger than the PLPMTU) lost, with no acknowledgement of a newer packet at
// least as large (which would prove their size still gets through), and a smaller packet sent amid
// them acknowledged (the path was up: it was the size). The run must be `black_hole_threshold`
// long, and longer on a lossy path: long enough that random loss, at the rate base-size packets
// see (no black hole touches them), makes such a run with odds below 1e-4 (3 on a clean path,
// about 8 at 30% loss). Random loss fails these conditions; an outage, where everything sent in a
// period is lost, fails the second. When every packet is full-size, the smaller packets are the PTO
// probes: the connection sends them at pto_probe_size() (the base), so a black hole shows as PTO
// probes acknowledged while the full-size packets around them are lost, and an outage as
// everything lost (RFC 8899: a PTO alone is no black hole). A connection that cannot send smaller
// PTO probes may set `black_hole_ptos` instead (a fall back after that many consecutive PTOs), at
// the price of falling back in outages too.
// A detection falls back to the base (so that packets get through) and is a suspicion
// (black_hole_suspicions()), not yet a verdict. After `research_delay`, once the base is confirmed,
// the search resumes by probing the previous PLPMTU first (verification): an acknowledged probe
// restores it at once (the losses were not about size after all); if it fails as above, the black
// hole is confirmed (black_holes_detected()) and that size caps the search until the raise timer:
// a binary search below it follows.
//
// The connection's duties:
//   - send ordinary packets of at most current() bytes (UDP payload);
//   - while probe_size(now) returns a size, send one probe (PING + PADDING) of exactly that size
//     and report it with on_probe_sent; its loss is not a congestion signal (see is_probe);
//   - report every acknowledged and every lost packet, probe or not, with its size. For the
//     packets of one ACK frame, report the acknowledged ones before the lost ones, in ascending
//     packet numbers (the order of AckOutcome), so that the ACK's evidence is known when the losses
//     are judged;
//   - send PTO probes of at most pto_probe_size() bytes, and report each PTO expiry with
//     on_pto_expired;
//   - call on_timeout(now) when now >= timeout().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/deque.hpp"
#include "common/time.hpp"

namespace srudp::transport {

enum class PmtudState { disabled, base, searching, search_complete, error };

const char* to_string(PmtudState state);

struct PmtudConfig {
  bool enabled = true;
  // BASE_PLPMTU: never go below it. 1200 is the smallest UDP payload every srudp path must carry.
  std::size_t base_plpmtu = 1200;
  // MAX_PLPMTU: min(local interface limit, peer's max_udp_payload_size). 1452 = Ethernet 1500 minus
  // IPv4 (20) and UDP (8) headers minus a margin of 20 for tunnels. Clamped to at least the base.
  std::size_t max_plpmtu = 1452;
  // MAX_PROBES: a size has failed after this many of its probes were lost (at least 1); also the
  // number of probes in flight at once.
  std::uint32_t max_probes = 3;
  // Lost probes excused because ordinary packets sent around them were lost too, per size, before
  // the size fails anyway (0: every lost probe counts).
  std::uint32_t max_excused_probe_losses = 6;
  // PROBE_TIMER fallback: a probe neither acknowledged nor declared lost this long after it was sent
  // counts as lost if a packet sent after it was acknowledged (e.g. 3 * PTO; the caller may update
  // it with set_probe_timer as the RTT changes).
  Duration probe_timer = std::chrono::seconds(3);
  // PMTU_RAISE_TIMER: how long search_complete lasts before probing upward again; also how long a
  // confirmed black hole caps the search.
  Duration raise_timer = std::chrono::seconds(600);
  // The search ends when the largest acknowledged and the smallest failed size are this close
  // (at least 1: exact).
  std::size_t search_granularity = 16;
  // The shortest run of uncleared large-packet losses, with a smaller packet acknowledged amid
  // them, that makes a black hole (at least 1; lossy paths need longer runs, see above).
  std::uint32_t black_hole_threshold = 3;
  // Consecutive PTO expirations (LossDetection::pto_count()) after which current(), if above the
  // base, falls back to it until verified (0: never). Off: base-size PTO probes do better (see the
  // header comment).
  std::uint32_t black_hole_ptos = 0;
  // After a fall back, the pause before the verification probe. Short: a suspicion is often an
  // outage or random loss, and the base costs throughput while it lasts.
  Duration research_delay = Duration::zero();
  // In the error state, the pause between base probes.
  Duration retry_pause = std::chrono::seconds(30);
};

class Pmtud {
 public:
  // Probes remembered after their outcome, so that a late ACK of one still counts.
  static constexpr std::size_t kMaxRememberedProbes = 32;
  // A probe lost within this many packet numbers of a lost ordinary packet is excused.
  static constexpr std::uint64_t kProbeNeighbourhood = 4;

  explicit Pmtud(PmtudConfig config = {});

  // The size of the next probe to send now, or nullopt (none wanted, enough in flight, or a pause
  // is running). Sizes are UDP payload sizes in [base, max].
  std::optional<std::size_t> probe_size(Instant now) const;

  // A probe was sent. Accepted (true) only if `size` is what probe_size(now) returns and `pn` is new;
  // otherwise ignored.
  bool on_probe_sent(std::uint64_t pn, std::size_t size, Instant now);

  // Every acknowledged packet, probe or not. For a remembered probe the recorded size is used.
  void on_packet_acked(std::uint64_t pn, std::size_t size, Instant now);

  // Every packet declared lost, probe or not (ordinary losses feed black-hole detection and excuse
  // probes lost beside them).
  void on_packet_lost(std::uint64_t pn, std::size_t size, Instant now);

  // The connection's PTO expired; `consecutive_ptos` is the count including this one (the loss
  // detection's pto_count() after its on_timeout). See the header comment.
  void on_pto_expired(std::uint32_t consecutive_ptos, Instant now);

  // When on_timeout must be called next; nullopt when nothing is timed. After on_timeout(now) it is
  // later than `now` or empty, so "while (now >= timeout()) on_timeout(now)" cannot spin.
  std::optional<Instant> timeout() const;
  void on_timeout(Instant now);

  // Updates the PROBE_TIMER fallback (applies from the next probe sent). Non-positive is ignored.
  void set_probe_timer(Duration probe_timer);

  // Whether `pn` is a remembered probe: its loss says nothing about congestion (RFC 9000 14.4) and
  // the connection should not hand it to the congestion controller as a loss.
  bool is_probe(std::uint64_t pn) const;

  // The PLPMTU: the largest UDP payload to use for ordinary packets.
  std::size_t current() const { return current_; }
  // The largest UDP payload for a PTO probe: the base, whatever the PLPMTU, so that PTO probes get
  // through an MTU black hole and their acknowledgement, amid lost full-size packets, reveals it.
  std::size_t pto_probe_size() const { return config_.base_plpmtu; }
  PmtudState state() const { return state_; }
  const PmtudConfig& config() const { return config_; }

  // Statistics.
  std::uint64_t probes_sent() const { return probes_sent_; }
  // Falls back to the base (by losses or PTOs), verified or not.
  std::uint64_t black_hole_suspicions() const { return suspicions_; }
  // Suspicions confirmed: the previous PLPMTU failed its verification.
  std::uint64_t black_holes_detected() const { return black_holes_; }

 private:
  enum class ProbeStatus {
    in_flight,
    verdict_pending,  // declared lost; excused or counted once the neighbours' fate is known
    resolved,         // acknowledged, judged, or stale (sent before a fall back)
  };
  struct ProbeRecord {
    std::uint64_t pn = 0;
    std::size_t size = 0;
    Instant deadline{};  // PROBE_TIMER fallback; for verdict_pending: when the verdict is due
    std::uint64_t epoch = 0;  // results of probes from before a fall back are ignored
    ProbeStatus status = ProbeStatus::in_flight;
  };
  struct PacketRecord {
    std::uint64_t pn = 0;
    std::size_t size = 0;
  };

  ProbeRecord* find_probe(std::uint64_t pn);
  const ProbeRecord* find_probe(std::uint64_t pn) const;
  std::size_t unresolved_probes(std::optional<std::size_t> of_size) const;

  bool wants_probe() const;
  bool search_done() const;
  std::size_t search_target() const;

  void on_size_confirmed(std::size_t size, Instant now);
  void on_probe_lost(const ProbeRecord& probe, bool excused, Instant now);
  void on_size_failed(std::size_t size, Instant now);
  void judge_pending_probes(Instant now);
  bool ordinary_loss_near(std::uint64_t pn) const;
  void reset_attempts(std::size_t size);
  void pause(Instant now, Duration length);

  void start_search(Instant now);
  void settle_if_done(Instant now);
  void enter_search_complete(Instant now);
  void fall_back(Instant now);

  void on_large_packet_acked(std::uint64_t pn, std::size_t size);
  void count_large_loss(std::uint64_t pn, std::size_t size, Instant now);
  bool cleared_by_ack(std::uint64_t pn, std::size_t size) const;
  bool smaller_packet_acked_between(std::uint64_t low_pn, std::uint64_t high_pn) const;
  void record_small_outcome(bool lost);
  std::size_t black_hole_run_needed() const;

  PmtudConfig config_;
  PmtudState state_;
  std::size_t current_;
  // Search bounds: the largest size known to get through, and the smallest known to fail
  // (nullopt: none failed; the search then probes the maximum).
  std::size_t search_low_;
  std::optional<std::size_t> search_high_;
  // After a fall back: the PLPMTU before it, the first size probed (verification).
  std::optional<std::size_t> verify_size_;
  // Attempts at the size being probed: lost probes counted as failures, and all lost probes.
  std::size_t attempt_size_ = 0;
  std::uint32_t failed_attempts_ = 0;
  std::uint32_t lost_attempts_ = 0;
  std::uint32_t base_failures_ = 0;  // consecutive lost base probes (base state)
  std::uint64_t epoch_ = 0;
  Deque<ProbeRecord> probes_;        // ascending packet numbers
  bool verdicts_pending_ = false;     // some probe in probes_ may be verdict_pending
  std::optional<Instant> next_probe_at_;  // pause: no probe before this
  std::optional<Instant> raise_at_;       // search_complete: search again at this time
  std::optional<std::uint64_t> largest_acked_;

  // The newest ordinary losses (packet numbers, ascending), to excuse probes lost beside them.
  static constexpr std::size_t kMaxRememberedLosses = 32;
  Deque<std::uint64_t> ordinary_losses_;

  // Black-hole detection: the losses counted so far; the evidence that clears losses: for the
  // acknowledged large packets, the Pareto front of (size, packet number): sorted by ascending size,
  // numbers descending (a loss (pn, size) is no black-hole evidence if an entry has a size at least
  // `size` and a number above pn); and the numbers of the newest acknowledged packets smaller than
  // the PLPMTU. All bounded (losing evidence only delays a detection or a clearing).
  static constexpr std::size_t kMaxAckEvidence = 16;
  static constexpr std::size_t kMaxSmallAcks = 32;
  static constexpr std::size_t kMaxCountedLosses = 64;
  std::vector<PacketRecord> counted_losses_;
  std::vector<PacketRecord> ack_evidence_;
  Deque<std::uint64_t> small_acks_;
  // The fate (lost: true) of the newest packets of at most the base size (no black hole touches
  // them): the random loss rate, which sets how many large-packet losses in a row make a black
  // hole (see black_hole_run_needed).
  static constexpr std::size_t kLossRateWindow = 32;
  static constexpr double kRandomRunOdds = 1e-4;
  Deque<bool> small_outcomes_;

  std::uint64_t probes_sent_ = 0;
  std::uint64_t suspicions_ = 0;
  std::uint64_t black_holes_ = 0;
};

}  // namespace srudp::transport
