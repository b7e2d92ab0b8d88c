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
//                   size that failed MAX_PROBES times in a row, until they are `search_granularity`
//                   bytes apart or closer.
//   search_complete the PLPMTU is settled; after `raise_timer` (when below the maximum) the search
//                   starts again from the current size, in case the path now carries more.
//   error           even base-size packets are not getting through (a black hole at the base).
//                   current() stays at the base (it never goes lower); a base probe is retried
//                   every `retry_pause`, and any acknowledged base-size packet ends the error.
//   disabled        no probing at all; current() is the base.
//
// Black holes (RFC 8899 section 4.3): when the current PLPMTU exceeds the base and
// `black_hole_threshold` packets larger than the base (and no larger than the PLPMTU) are lost
// with no acknowledgement in between that proves their size still gets through, the PLPMTU falls
// back to the base, the smallest size lost becomes the upper bound of the search, and a new search
// starts after `retry_pause`. An ACK of a packet of size s with number q clears every counted loss
// numbered below q of size at most s; so random (congestion) loss, which loss detection reports
// only after acknowledging later packets, rarely counts, while a real black hole (every large
// packet lost, small ones still acknowledged) always does.
// Loss detection declares a packet lost only when a later one is acknowledged, so when every
// packet in flight is full-size and vanishes, no loss is ever declared. For that case the
// connection reports its expired PTOs (on_pto_expired): `black_hole_ptos` of them in a row with
// current() above the base fall back as well, with no known failed size (the new search probes the
// maximum first again).
//
// The connection's duties:
//   - send ordinary packets of at most current() bytes (UDP payload);
//   - when probe_size(now) returns a size, send one probe (PING + PADDING) of exactly that size and
//     report it with on_probe_sent; its loss is not a congestion signal (see is_probe);
//   - report every acknowledged and every lost packet, probe or not, with its size. For the
//     packets of one ACK frame, report the acknowledged ones before the lost ones (the order of
//     AckOutcome), so that the ACK's evidence is known when the losses are judged;
//   - report each PTO expiry with on_pto_expired;
//   - call on_timeout(now) when now >= timeout().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

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
  // MAX_PROBES: a size has failed after this many consecutive lost probes of it (at least 1).
  std::uint32_t max_probes = 3;
  // PROBE_TIMER fallback: a probe neither acknowledged nor declared lost this long after it was sent
  // counts as lost (e.g. 3 * PTO; the caller may update it with set_probe_timer as the RTT changes).
  Duration probe_timer = std::chrono::seconds(3);
  // PMTU_RAISE_TIMER: how long search_complete lasts before probing upward again.
  Duration raise_timer = std::chrono::seconds(600);
  // The search ends when the largest acknowledged and the smallest failed size are this close
  // (at least 1: exact).
  std::size_t search_granularity = 16;
  // Consecutive large-packet losses that make a black hole (at least 1).
  std::uint32_t black_hole_threshold = 3;
  // Consecutive PTO expirations (LossDetection::pto_count()) that make a black hole when current()
  // is above the base (0: never). A brief outage costs at most a re-search.
  std::uint32_t black_hole_ptos = 3;
  // Pause after a black hole, and between base probes in the error state, before probing again: a
  // path that just dropped packets deserves some rest before we pour probes into it.
  Duration retry_pause = std::chrono::seconds(30);
};

class Pmtud {
 public:
  // Probes remembered after their outcome, so that a late ACK of one still counts.
  static constexpr std::size_t kMaxRememberedProbes = 8;

  explicit Pmtud(PmtudConfig config = {});

  // The size of the probe to send now, or nullopt (none wanted, one already in flight, or a pause
  // is running). Sizes are UDP payload sizes in [base, max].
  std::optional<std::size_t> probe_size(Instant now) const;

  // A probe was sent. Accepted (true) only if `size` is what probe_size(now) returns and `pn` is new;
  // otherwise ignored.
  bool on_probe_sent(std::uint64_t pn, std::size_t size, Instant now);

  // Every acknowledged packet, probe or not. For a remembered probe the recorded size is used.
  void on_packet_acked(std::uint64_t pn, std::size_t size, Instant now);

  // Every packet declared lost, probe or not (ordinary losses feed black-hole detection).
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
  PmtudState state() const { return state_; }
  const PmtudConfig& config() const { return config_; }

  // Statistics.
  std::uint64_t probes_sent() const { return probes_sent_; }
  std::uint64_t black_holes_detected() const { return black_holes_; }

 private:
  struct ProbeRecord {
    std::uint64_t pn = 0;
    std::size_t size = 0;
    Instant deadline{};       // PROBE_TIMER fallback: counted as lost at this time
    std::uint64_t epoch = 0;  // results of probes from before a black hole are ignored
    bool resolved = false;    // acknowledged, or counted as lost
  };
  struct CountedLoss {
    std::uint64_t pn = 0;
    std::size_t size = 0;
  };

  ProbeRecord* find_probe(std::uint64_t pn);
  const ProbeRecord* find_probe(std::uint64_t pn) const;
  ProbeRecord* probe_in_flight();
  const ProbeRecord* probe_in_flight() const;

  bool wants_probe() const;
  bool search_done() const;
  std::size_t search_target() const;

  void on_size_confirmed(std::size_t size, Instant now);
  void on_probe_failed(const ProbeRecord& probe, Instant now);
  void on_large_packet_acked(std::uint64_t pn, std::size_t size);
  void pause(Instant now);
  void count_large_loss(std::uint64_t pn, std::size_t size, Instant now);

  void start_search(Instant now);
  void settle_if_done(Instant now);
  void enter_search_complete(Instant now);
  void enter_black_hole_fallback(std::optional<std::size_t> failed_size, Instant now);

  PmtudConfig config_;
  PmtudState state_;
  std::size_t current_;
  // Search bounds: the largest size known to get through, and the smallest known to fail
  // (nullopt: none failed; the search then probes the maximum).
  std::size_t search_low_;
  std::optional<std::size_t> search_high_;
  std::uint32_t probe_count_ = 0;  // consecutive lost probes of the size being tried
  std::uint64_t epoch_ = 0;
  std::deque<ProbeRecord> probes_;  // ascending packet numbers; only the newest may be in flight
  std::optional<Instant> next_probe_at_;  // pause: no probe before this
  std::optional<Instant> raise_at_;       // search_complete: search again at this time

  // Black-hole detection: the losses counted so far, and the evidence that clears losses: for the
  // acknowledged large packets, the Pareto front of (size, packet number): sorted by ascending size,
  // numbers descending. A loss (pn, size) is no black-hole evidence if an entry has a size at least
  // `size` and a number above pn. Bounded by kMaxAckEvidence (dropping evidence only makes the
  // detection more eager).
  static constexpr std::size_t kMaxAckEvidence = 16;
  bool cleared_by_ack(std::uint64_t pn, std::size_t size) const;
  std::vector<CountedLoss> counted_losses_;
  std::vector<CountedLoss> ack_evidence_;

  std::uint64_t probes_sent_ = 0;
  std::uint64_t black_holes_ = 0;
};

}  // namespace srudp::transport
