#include "transport/pmtud.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace srudp::transport {

const char* to_string(PmtudState state) {
  switch (state) {
    case PmtudState::disabled: return "disabled";
    case PmtudState::base: return "base";
    case PmtudState::searching: return "searching";
    case PmtudState::search_complete: return "search_complete";
    case PmtudState::error: return "error";
  }
  return "unknown";
}

namespace {

PmtudConfig sanitized(PmtudConfig config) {
  config.max_plpmtu = std::max(config.max_plpmtu, config.base_plpmtu);
  config.max_probes = std::max<std::uint32_t>(config.max_probes, 1);
  config.search_granularity = std::max<std::size_t>(config.search_granularity, 1);
  config.black_hole_threshold = std::max<std::uint32_t>(config.black_hole_threshold, 1);
  // Timers must lie strictly in the future, or timeout() could stay at `now` after on_timeout.
  if (config.probe_timer <= Duration::zero()) config.probe_timer = std::chrono::seconds(3);
  if (config.raise_timer <= Duration::zero()) config.raise_timer = std::chrono::seconds(600);
  config.research_delay = std::max(config.research_delay, Duration::zero());
  config.retry_pause = std::max(config.retry_pause, Duration::zero());
  return config;
}

std::uint64_t distance(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

Pmtud::Pmtud(PmtudConfig config)
    : config_(sanitized(config)),
      state_(config_.enabled ? PmtudState::base : PmtudState::disabled),
      current_(config_.base_plpmtu),
      search_low_(config_.base_plpmtu) {}

// ---- queries ------------------------------------------------------------------------------------

Pmtud::ProbeRecord* Pmtud::find_probe(std::uint64_t pn) {
  return const_cast<ProbeRecord*>(std::as_const(*this).find_probe(pn));
}

const Pmtud::ProbeRecord* Pmtud::find_probe(std::uint64_t pn) const {
  // Asked for every packet acknowledged or lost; almost all are newer than the last probe.
  if (probes_.empty() || pn > probes_.back().pn || pn < probes_.front().pn) return nullptr;
  const auto it = std::lower_bound(probes_.begin(), probes_.end(), pn,
                                   [](const ProbeRecord& p, std::uint64_t n) { return p.pn < n; });
  return it != probes_.end() && it->pn == pn ? &*it : nullptr;
}

std::size_t Pmtud::unresolved_probes(std::optional<std::size_t> of_size) const {
  return static_cast<std::size_t>(std::count_if(probes_.begin(), probes_.end(), [&](const ProbeRecord& p) {
    return p.status != ProbeStatus::resolved && (!of_size || p.size == *of_size);
  }));
}

bool Pmtud::is_probe(std::uint64_t pn) const { return find_probe(pn) != nullptr; }

bool Pmtud::search_done() const {
  if (verify_size_) return false;  // the previous PLPMTU is still to be verified
  if (search_low_ >= config_.max_plpmtu) return true;
  // With no failed size yet, the maximum has not been tried: not done, however close it is.
  if (!search_high_) return false;
  return *search_high_ - search_low_ <= config_.search_granularity;
}

std::size_t Pmtud::search_target() const {
  if (verify_size_) return *verify_size_;
  if (!search_high_) return config_.max_plpmtu;
  return search_low_ + (*search_high_ - search_low_) / 2;
}

bool Pmtud::wants_probe() const {
  switch (state_) {
    case PmtudState::base:
    case PmtudState::error: return unresolved_probes(std::nullopt) == 0;
    case PmtudState::searching: {
      if (search_done()) return false;
      // Up to MAX_PROBES probes in flight, and no more of the target than it may still lose.
      if (unresolved_probes(std::nullopt) >= config_.max_probes) return false;
      const std::size_t target = search_target();
      const std::size_t in_flight = unresolved_probes(target);
      const bool same = attempt_size_ == target;
      const std::size_t failed = same ? failed_attempts_ : 0;
      const std::size_t lost = same ? lost_attempts_ : 0;
      return in_flight + failed < config_.max_probes &&
             in_flight + lost < std::size_t{config_.max_probes} + config_.max_excused_probe_losses;
    }
    case PmtudState::disabled:
    case PmtudState::search_complete: return false;
  }
  return false;
}

std::optional<std::size_t> Pmtud::probe_size(Instant now) const {
  if (!wants_probe()) return std::nullopt;
  if (next_probe_at_ && now < *next_probe_at_) return std::nullopt;
  if (state_ == PmtudState::searching) return search_target();
  return config_.base_plpmtu;  // base or error: confirm the base
}

std::optional<Instant> Pmtud::timeout() const {
  std::optional<Instant> t;
  const auto consider = [&t](Instant candidate) {
    if (!t || candidate < *t) t = candidate;
  };
  for (const auto& p : probes_) {
    if (p.status != ProbeStatus::resolved) consider(p.deadline);
  }
  if (next_probe_at_ && wants_probe()) consider(*next_probe_at_);
  if (raise_at_) consider(*raise_at_);
  return t;
}

// ---- events -------------------------------------------------------------------------------------

bool Pmtud::on_probe_sent(std::uint64_t pn, std::size_t size, Instant now) {
  if (probe_size(now) != size) return false;
  if (!probes_.empty() && pn <= probes_.back().pn) return false;  // numbers only ever grow
  if (state_ == PmtudState::searching && attempt_size_ != size) reset_attempts(size);
  probes_.push_back(ProbeRecord{.pn = pn,
                                .size = size,
                                .deadline = now + config_.probe_timer,
                                .epoch = epoch_,
                                .status = ProbeStatus::in_flight});
  // At most MAX_PROBES are unresolved, so the records dropped here are (almost always) settled;
  // forgetting an unresolved one only loses its result.
  while (probes_.size() > kMaxRememberedProbes) probes_.pop_front();
  ++probes_sent_;
  return true;
}

void Pmtud::on_packet_acked(std::uint64_t pn, std::size_t size, Instant now) {
  if (state_ == PmtudState::disabled) return;
  // A new ACK: the losses of the previous one are all known, so their probes can be judged.
  judge_pending_probes(now);
  largest_acked_ = std::max(largest_acked_.value_or(0), pn);
  if (auto* probe = find_probe(pn)) {
    const bool stale = probe->epoch != epoch_;
    probe->status = ProbeStatus::resolved;
    // A probe sent before a fall back says nothing about the path as it is now.
    if (stale) return;
    if (probe->size > config_.base_plpmtu) on_large_packet_acked(pn, probe->size);
    // Even if it was already counted as lost (PROBE_TIMER), a late ACK still proves its size.
    on_size_confirmed(probe->size, now);
    return;
  }
  if (size > config_.base_plpmtu) on_large_packet_acked(pn, size);
  if (size < current_) {
    small_acks_.insert(std::upper_bound(small_acks_.begin(), small_acks_.end(), pn), pn);
    if (small_acks_.size() > kMaxSmallAcks) small_acks_.pop_front();
  }
  if (size <= config_.base_plpmtu) record_small_outcome(false);
  // An ordinary packet never raises the PLPMTU (it may be a leftover from before a fall back,
  // larger than the current size); it can only confirm the base.
  if (size >= config_.base_plpmtu) on_size_confirmed(std::min(size, current_), now);
}

void Pmtud::on_packet_lost(std::uint64_t pn, std::size_t size, Instant now) {
  if (state_ == PmtudState::disabled) return;
  if (auto* probe = find_probe(pn)) {
    if (probe->status != ProbeStatus::in_flight || probe->epoch != epoch_) return;  // counted, or stale
    // Judged once the other losses of this ACK are known (the next event, or on_timeout now).
    probe->status = ProbeStatus::verdict_pending;
    verdicts_pending_ = true;
    probe->deadline = now;
    return;
  }
  ordinary_losses_.insert(std::upper_bound(ordinary_losses_.begin(), ordinary_losses_.end(), pn), pn);
  if (ordinary_losses_.size() > kMaxRememberedLosses) ordinary_losses_.pop_front();
  if (size <= config_.base_plpmtu) record_small_outcome(true);
  count_large_loss(pn, size, now);
}

void Pmtud::on_timeout(Instant now) {
  judge_pending_probes(now);
  for (auto& probe : probes_) {
    if (probe.status != ProbeStatus::in_flight || now < probe.deadline) continue;
    // PROBE_TIMER: neither acknowledged nor declared lost in time.
    const bool base_probe = state_ == PmtudState::base || state_ == PmtudState::error;
    const bool later_acked = largest_acked_ && *largest_acked_ > probe.pn;
    if (!base_probe && !later_acked) {
      // Nothing sent since has got through: an outage, or an idle path. Keep waiting.
      probe.deadline = now + config_.probe_timer;
      continue;
    }
    // Counted as lost; remembered, so that a late ACK still counts and a later loss report is not
    // counted twice.
    probe.status = ProbeStatus::resolved;
    const ProbeRecord judged = probe;
    on_probe_lost(judged, !base_probe && ordinary_loss_near(judged.pn), now);
  }
  if (next_probe_at_ && now >= *next_probe_at_) next_probe_at_.reset();
  if (raise_at_ && now >= *raise_at_) {
    raise_at_.reset();
    if (state_ == PmtudState::search_complete) {
      // PMTU_RAISE_TIMER: the path may carry more by now. Search upward from the current size,
      // forgetting the old failures, the maximum first.
      state_ = PmtudState::searching;
      search_high_.reset();
      reset_attempts(0);
      settle_if_done(now);
    }
  }
}

void Pmtud::on_pto_expired(std::uint32_t consecutive_ptos, Instant now) {
  judge_pending_probes(now);
  if (config_.black_hole_ptos == 0 || consecutive_ptos < config_.black_hole_ptos) return;
  if (state_ != PmtudState::searching && state_ != PmtudState::search_complete) return;
  if (current_ <= config_.base_plpmtu) return;
  // Nothing at all acknowledged for several PTOs: an outage, or every full-size packet vanishing.
  // Only smaller packets can tell which; send them. The verification probe restores the PLPMTU as
  // soon as the path carries it again.
  fall_back(now);
}

void Pmtud::set_probe_timer(Duration probe_timer) {
  if (probe_timer > Duration::zero()) config_.probe_timer = probe_timer;
}

// ---- probe verdicts -----------------------------------------------------------------------------

bool Pmtud::ordinary_loss_near(std::uint64_t pn) const {
  return std::any_of(ordinary_losses_.begin(), ordinary_losses_.end(),
                     [&](std::uint64_t lost) { return distance(lost, pn) <= kProbeNeighbourhood; });
}

void Pmtud::judge_pending_probes(Instant now) {
  if (!verdicts_pending_) return;  // the usual case: called for every acknowledged packet
  verdicts_pending_ = false;
  for (auto& probe : probes_) {
    if (probe.status != ProbeStatus::verdict_pending) continue;
    probe.status = ProbeStatus::resolved;
    const ProbeRecord judged = probe;  // on_probe_lost may not touch probes_, but be safe
    on_probe_lost(judged, ordinary_loss_near(judged.pn), now);
  }
}

void Pmtud::reset_attempts(std::size_t size) {
  attempt_size_ = size;
  failed_attempts_ = 0;
  lost_attempts_ = 0;
}

void Pmtud::on_probe_lost(const ProbeRecord& probe, bool excused, Instant now) {
  if (probe.epoch != epoch_) return;
  switch (state_) {
    case PmtudState::base:
      if (++base_failures_ >= config_.max_probes) {
        // Not even the base gets through (RFC 8899: BASE_PLPMTU confirmation failed). Report it;
        // keep using the base (srudp never goes lower) and retry now and then.
        state_ = PmtudState::error;
        base_failures_ = 0;
        pause(now, config_.retry_pause);
      }
      return;
    case PmtudState::error: pause(now, config_.retry_pause); return;
    case PmtudState::searching:
      // Results of probes the search has moved past (an ACK raised the low bound meanwhile, or a
      // failure lowered the target) carry no information about the size being tried now.
      if (probe.size != search_target() || probe.size != attempt_size_ || probe.size <= search_low_) return;
      ++lost_attempts_;
      if (!excused) ++failed_attempts_;
      if (failed_attempts_ >= config_.max_probes ||
          lost_attempts_ >= config_.max_probes + config_.max_excused_probe_losses) {
        on_size_failed(probe.size, now);
      }
      return;
    case PmtudState::search_complete:
    case PmtudState::disabled: return;
  }
}

void Pmtud::on_size_failed(std::size_t size, Instant now) {
  if (verify_size_ && *verify_size_ == size) {
    // The PLPMTU in use before the fall back fails now too: a black hole after all. It caps the
    // search until the raise timer; the binary search below it follows.
    verify_size_.reset();
    ++black_holes_;
  }
  search_high_ = size;
  reset_attempts(0);
  settle_if_done(now);
}

// ---- state machine ------------------------------------------------------------------------------

void Pmtud::pause(Instant now, Duration length) {
  if (length > Duration::zero()) {
    next_probe_at_ = now + length;
  } else {
    next_probe_at_.reset();
  }
}

void Pmtud::on_size_confirmed(std::size_t size, Instant now) {
  switch (state_) {
    case PmtudState::base:
    case PmtudState::error:
      if (size >= config_.base_plpmtu) start_search(now);
      return;
    case PmtudState::searching:
    case PmtudState::search_complete:
      if (verify_size_ && size >= *verify_size_) verify_size_.reset();  // the suspicion was wrong
      if (size <= search_low_) return;
      search_low_ = size;
      current_ = size;
      reset_attempts(0);
      // A size above the smallest "failed" one got through: that failure was loss, or the path
      // changed. Either way it no longer bounds the search.
      if (search_high_ && *search_high_ <= size) search_high_.reset();
      if (state_ == PmtudState::search_complete && !search_done()) {
        state_ = PmtudState::searching;
        raise_at_.reset();
      }
      settle_if_done(now);
      return;
    case PmtudState::disabled: return;
  }
}

void Pmtud::start_search(Instant now) {
  // The error state's retry pause ends with the error; a research delay after a fall back stays.
  if (state_ == PmtudState::error) next_probe_at_.reset();
  state_ = PmtudState::searching;
  current_ = config_.base_plpmtu;
  search_low_ = config_.base_plpmtu;
  base_failures_ = 0;
  reset_attempts(0);
  settle_if_done(now);
}

void Pmtud::settle_if_done(Instant now) {
  if (state_ == PmtudState::searching && search_done()) enter_search_complete(now);
}

void Pmtud::enter_search_complete(Instant now) {
  state_ = PmtudState::search_complete;
  reset_attempts(0);
  next_probe_at_.reset();
  if (current_ < config_.max_plpmtu) {
    raise_at_ = now + config_.raise_timer;
  } else {
    raise_at_.reset();  // nothing above the maximum to look for
  }
}

void Pmtud::fall_back(Instant now) {
  ++suspicions_;
  ++epoch_;  // results of earlier probes are now meaningless
  for (auto& p : probes_) p.status = ProbeStatus::resolved;
  // Verified first when the search resumes; search_high_ (a size that failed before) stays.
  verify_size_ = current_;
  state_ = PmtudState::base;
  current_ = config_.base_plpmtu;
  search_low_ = config_.base_plpmtu;
  base_failures_ = 0;
  reset_attempts(0);
  counted_losses_.clear();
  ack_evidence_.clear();
  small_acks_.clear();
  raise_at_.reset();
  pause(now, config_.research_delay);
}

// ---- black-hole detection -----------------------------------------------------------------------

bool Pmtud::cleared_by_ack(std::uint64_t pn, std::size_t size) const {
  return std::any_of(ack_evidence_.begin(), ack_evidence_.end(),
                     [&](const PacketRecord& e) { return e.size >= size && e.pn > pn; });
}

void Pmtud::record_small_outcome(bool lost) {
  small_outcomes_.push_back(lost);
  if (small_outcomes_.size() > kLossRateWindow) small_outcomes_.pop_front();
}

std::size_t Pmtud::black_hole_run_needed() const {
  // The random loss rate, as the smaller packets see it (they are not affected by an MTU black
  // hole), with a prior of one loss in two outcomes so that a few samples do not make it zero.
  const auto lost = static_cast<double>(std::count(small_outcomes_.begin(), small_outcomes_.end(), true));
  const double rate = (lost + 1) / (static_cast<double>(small_outcomes_.size()) + 2);
  // Random loss alone makes a run of k losses with probability rate^k: require k large enough that
  // this is below kRandomRunOdds.
  const double k = std::ceil(std::log(kRandomRunOdds) / std::log(rate));
  const auto needed = static_cast<std::size_t>(std::clamp(k, 1.0, static_cast<double>(kMaxCountedLosses) + 1));
  return std::max<std::size_t>(needed, config_.black_hole_threshold);
}

bool Pmtud::smaller_packet_acked_between(std::uint64_t low_pn, std::uint64_t high_pn) const {
  const auto it = std::upper_bound(small_acks_.begin(), small_acks_.end(), low_pn);
  return it != small_acks_.end() && *it < high_pn;
}

void Pmtud::on_large_packet_acked(std::uint64_t pn, std::size_t size) {
  if (!counted_losses_.empty()) {
    std::erase_if(counted_losses_, [&](const PacketRecord& l) { return l.pn < pn && l.size <= size; });
  }

  // The usual case, once for every acknowledged packet: it is newer than all the evidence (the
  // front's newest entry is its first, the smallest size), so it replaces the entries of its size
  // and below, which are a prefix of the front, and is dominated by none.
  if (!ack_evidence_.empty() && pn > ack_evidence_.front().pn && ack_evidence_.front().size <= size) {
    const auto prefix_end = std::find_if(ack_evidence_.begin(), ack_evidence_.end(),
                                         [&](const PacketRecord& e) { return e.size > size; });
    ack_evidence_.front() = PacketRecord{.pn = pn, .size = size};
    ack_evidence_.erase(ack_evidence_.begin() + 1, prefix_end);
    return;
  }

  // Maintain the Pareto front of (size, pn).
  const bool dominated = std::any_of(ack_evidence_.begin(), ack_evidence_.end(),
                                     [&](const PacketRecord& e) { return e.size >= size && e.pn >= pn; });
  if (dominated) return;
  std::erase_if(ack_evidence_, [&](const PacketRecord& e) { return e.size <= size && e.pn <= pn; });
  const auto at = std::lower_bound(ack_evidence_.begin(), ack_evidence_.end(), size,
                                   [](const PacketRecord& e, std::size_t s) { return e.size < s; });
  ack_evidence_.insert(at, PacketRecord{.pn = pn, .size = size});
  if (ack_evidence_.size() > kMaxAckEvidence) {
    const auto oldest = std::min_element(ack_evidence_.begin(), ack_evidence_.end(),
                                         [](const PacketRecord& a, const PacketRecord& b) { return a.pn < b.pn; });
    ack_evidence_.erase(oldest);
  }
}

void Pmtud::count_large_loss(std::uint64_t pn, std::size_t size, Instant now) {
  if (state_ != PmtudState::searching && state_ != PmtudState::search_complete) return;
  if (current_ <= config_.base_plpmtu) return;  // nothing to fall back from
  // Base-size packets are never black-hole evidence; larger than current() means sent under an
  // older, larger PLPMTU (before a fall back): already dealt with.
  if (size <= config_.base_plpmtu || size > current_) return;
  if (cleared_by_ack(pn, size)) return;  // a newer packet at least as large got through
  if (std::any_of(counted_losses_.begin(), counted_losses_.end(),
                  [&](const PacketRecord& l) { return l.pn == pn; })) {
    return;
  }
  counted_losses_.push_back(PacketRecord{.pn = pn, .size = size});
  if (counted_losses_.size() > kMaxCountedLosses) {
    counted_losses_.erase(std::min_element(counted_losses_.begin(), counted_losses_.end(),
                                           [](const PacketRecord& a, const PacketRecord& b) { return a.pn < b.pn; }));
  }
  if (counted_losses_.size() < black_hole_run_needed()) return;
  const auto [first, last] = std::minmax_element(
      counted_losses_.begin(), counted_losses_.end(),
      [](const PacketRecord& a, const PacketRecord& b) { return a.pn < b.pn; });
  // Size-specific only if a smaller packet sent amid the losses got through.
  if (!smaller_packet_acked_between(first->pn, last->pn)) return;
  fall_back(now);
}

}  // namespace srudp::transport
