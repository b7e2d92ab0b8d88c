#include "transport/pmtud.hpp"

#include <algorithm>

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
  config.retry_pause = std::max(config.retry_pause, Duration::zero());
  return config;
}

}  // namespace

Pmtud::Pmtud(PmtudConfig config)
    : config_(sanitized(config)),
      state_(config_.enabled ? PmtudState::base : PmtudState::disabled),
      current_(config_.base_plpmtu),
      search_low_(config_.base_plpmtu) {}

// ---- queries ------------------------------------------------------------------------------------

Pmtud::ProbeRecord* Pmtud::find_probe(std::uint64_t pn) {
  for (auto& p : probes_) {
    if (p.pn == pn) return &p;
  }
  return nullptr;
}

const Pmtud::ProbeRecord* Pmtud::find_probe(std::uint64_t pn) const {
  for (const auto& p : probes_) {
    if (p.pn == pn) return &p;
  }
  return nullptr;
}

Pmtud::ProbeRecord* Pmtud::probe_in_flight() {
  return !probes_.empty() && !probes_.back().resolved ? &probes_.back() : nullptr;
}

const Pmtud::ProbeRecord* Pmtud::probe_in_flight() const {
  return !probes_.empty() && !probes_.back().resolved ? &probes_.back() : nullptr;
}

bool Pmtud::is_probe(std::uint64_t pn) const { return find_probe(pn) != nullptr; }

bool Pmtud::search_done() const {
  if (search_low_ >= config_.max_plpmtu) return true;
  // With no failed size yet, the maximum has not been tried: not done, however close it is.
  if (!search_high_) return false;
  return *search_high_ - search_low_ <= config_.search_granularity;
}

std::size_t Pmtud::search_target() const {
  if (!search_high_) return config_.max_plpmtu;
  return search_low_ + (*search_high_ - search_low_) / 2;
}

bool Pmtud::wants_probe() const {
  if (probe_in_flight() != nullptr) return false;
  switch (state_) {
    case PmtudState::base:
    case PmtudState::error: return true;
    case PmtudState::searching: return !search_done();
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
  if (const auto* p = probe_in_flight()) consider(p->deadline);
  if (next_probe_at_ && wants_probe()) consider(*next_probe_at_);
  if (raise_at_) consider(*raise_at_);
  return t;
}

// ---- events -------------------------------------------------------------------------------------

bool Pmtud::on_probe_sent(std::uint64_t pn, std::size_t size, Instant now) {
  if (probe_size(now) != size) return false;
  if (!probes_.empty() && pn <= probes_.back().pn) return false;  // numbers only ever grow
  probes_.push_back(ProbeRecord{.pn = pn,
                                .size = size,
                                .deadline = now + config_.probe_timer,
                                .epoch = epoch_,
                                .resolved = false});
  // Only the newest record can be unresolved, so the ones dropped here are all settled.
  while (probes_.size() > kMaxRememberedProbes) probes_.pop_front();
  ++probes_sent_;
  return true;
}

void Pmtud::on_packet_acked(std::uint64_t pn, std::size_t size, Instant now) {
  if (state_ == PmtudState::disabled) return;
  if (auto* probe = find_probe(pn)) {
    const bool stale = probe->epoch != epoch_;
    probe->resolved = true;
    // A probe sent before a black hole says nothing about the path as it is now.
    if (stale) return;
    if (probe->size > config_.base_plpmtu) on_large_packet_acked(pn, probe->size);
    // Even if it was already counted as lost (PROBE_TIMER), a late ACK still proves its size.
    on_size_confirmed(probe->size, now);
    return;
  }
  if (size > config_.base_plpmtu) on_large_packet_acked(pn, size);
  // An ordinary packet never raises the PLPMTU (it may be a leftover from before a black hole,
  // larger than the current size); it can only confirm the base.
  if (size >= config_.base_plpmtu) on_size_confirmed(std::min(size, current_), now);
}

void Pmtud::on_packet_lost(std::uint64_t pn, std::size_t size, Instant now) {
  if (state_ == PmtudState::disabled) return;
  if (auto* probe = find_probe(pn)) {
    if (probe->resolved || probe->epoch != epoch_) return;  // already counted, or stale
    probe->resolved = true;
    on_probe_failed(*probe, now);
    return;
  }
  count_large_loss(pn, size, now);
}

void Pmtud::on_timeout(Instant now) {
  if (auto* probe = probe_in_flight(); probe != nullptr && now >= probe->deadline) {
    // PROBE_TIMER: neither acknowledged nor declared lost in time. Remembered, so that a late ACK
    // still counts and a later loss report is not counted twice.
    probe->resolved = true;
    on_probe_failed(*probe, now);
  }
  if (next_probe_at_ && now >= *next_probe_at_) next_probe_at_.reset();
  if (raise_at_ && now >= *raise_at_) {
    raise_at_.reset();
    if (state_ == PmtudState::search_complete) {
      // PMTU_RAISE_TIMER: the path may carry more by now. Search upward from the current size,
      // forgetting the old failures, the maximum first.
      state_ = PmtudState::searching;
      search_high_.reset();
      probe_count_ = 0;
      settle_if_done(now);
    }
  }
}

void Pmtud::on_pto_expired(std::uint32_t consecutive_ptos, Instant now) {
  if (config_.black_hole_ptos == 0 || consecutive_ptos < config_.black_hole_ptos) return;
  if (state_ != PmtudState::searching && state_ != PmtudState::search_complete) return;
  if (current_ <= config_.base_plpmtu) return;
  // Nothing at all has been acknowledged for several PTOs: perhaps an outage, perhaps every
  // full-size packet vanishing. Falling back costs little in the first case and is the only way
  // out of the second. Which size failed is unknown, so the search bound is left open.
  enter_black_hole_fallback(std::nullopt, now);
}

void Pmtud::set_probe_timer(Duration probe_timer) {
  if (probe_timer > Duration::zero()) config_.probe_timer = probe_timer;
}

// ---- state machine ------------------------------------------------------------------------------

void Pmtud::pause(Instant now) {
  if (config_.retry_pause > Duration::zero()) {
    next_probe_at_ = now + config_.retry_pause;
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
      if (size <= search_low_) return;
      search_low_ = size;
      current_ = size;
      probe_count_ = 0;
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

void Pmtud::on_probe_failed(const ProbeRecord& probe, Instant now) {
  switch (state_) {
    case PmtudState::base:
      if (++probe_count_ >= config_.max_probes) {
        // Not even the base gets through (RFC 8899: BASE_PLPMTU confirmation failed). Report it;
        // keep using the base (srudp never goes lower) and retry now and then.
        state_ = PmtudState::error;
        probe_count_ = 0;
        pause(now);
      }
      return;
    case PmtudState::error: pause(now); return;
    case PmtudState::searching:
      // Results of probes the search has moved past (a late ACK raised the low bound meanwhile)
      // carry no information about the size being tried now.
      if (probe.size != search_target() || probe.size <= search_low_) return;
      if (++probe_count_ >= config_.max_probes) {
        search_high_ = probe.size;
        probe_count_ = 0;
        settle_if_done(now);
      }
      return;
    case PmtudState::search_complete:
    case PmtudState::disabled: return;
  }
}

void Pmtud::start_search(Instant now) {
  state_ = PmtudState::searching;
  current_ = config_.base_plpmtu;
  search_low_ = config_.base_plpmtu;
  probe_count_ = 0;
  settle_if_done(now);
}

void Pmtud::settle_if_done(Instant now) {
  if (state_ == PmtudState::searching && search_done()) enter_search_complete(now);
}

void Pmtud::enter_search_complete(Instant now) {
  state_ = PmtudState::search_complete;
  probe_count_ = 0;
  next_probe_at_.reset();
  if (current_ < config_.max_plpmtu) {
    raise_at_ = now + config_.raise_timer;
  } else {
    raise_at_.reset();  // nothing above the maximum to look for
  }
}

// ---- black-hole detection -----------------------------------------------------------------------

bool Pmtud::cleared_by_ack(std::uint64_t pn, std::size_t size) const {
  return std::any_of(ack_evidence_.begin(), ack_evidence_.end(),
                     [&](const CountedLoss& e) { return e.size >= size && e.pn > pn; });
}

void Pmtud::on_large_packet_acked(std::uint64_t pn, std::size_t size) {
  std::erase_if(counted_losses_,
                [&](const CountedLoss& l) { return l.pn < pn && l.size <= size; });

  // Maintain the Pareto front of (size, pn).
  const bool dominated = std::any_of(ack_evidence_.begin(), ack_evidence_.end(),
                                     [&](const CountedLoss& e) { return e.size >= size && e.pn >= pn; });
  if (dominated) return;
  std::erase_if(ack_evidence_, [&](const CountedLoss& e) { return e.size <= size && e.pn <= pn; });
  const auto at = std::lower_bound(
      ack_evidence_.begin(), ack_evidence_.end(), size,
      [](const CountedLoss& e, std::size_t s) { return e.size < s; });
  ack_evidence_.insert(at, CountedLoss{.pn = pn, .size = size});
  if (ack_evidence_.size() > kMaxAckEvidence) {
    const auto oldest = std::min_element(
        ack_evidence_.begin(), ack_evidence_.end(),
        [](const CountedLoss& a, const CountedLoss& b) { return a.pn < b.pn; });
    ack_evidence_.erase(oldest);
  }
}

void Pmtud::count_large_loss(std::uint64_t pn, std::size_t size, Instant now) {
  if (state_ != PmtudState::searching && state_ != PmtudState::search_complete) return;
  if (current_ <= config_.base_plpmtu) return;  // nothing to fall back from
  // Base-size packets are never black-hole evidence; larger than current() means sent under an
  // older, larger PLPMTU (before a fallback): already dealt with.
  if (size <= config_.base_plpmtu || size > current_) return;
  if (cleared_by_ack(pn, size)) return;  // a newer packet at least as large got through
  if (std::any_of(counted_losses_.begin(), counted_losses_.end(),
                  [&](const CountedLoss& l) { return l.pn == pn; })) {
    return;
  }
  counted_losses_.push_back(CountedLoss{.pn = pn, .size = size});
  if (counted_losses_.size() < config_.black_hole_threshold) return;

  const auto smallest = std::min_element(
      counted_losses_.begin(), counted_losses_.end(),
      [](const CountedLoss& a, const CountedLoss& b) { return a.size < b.size; });
  enter_black_hole_fallback(smallest->size, now);
}

void Pmtud::enter_black_hole_fallback(std::optional<std::size_t> failed_size, Instant now) {
  ++black_holes_;
  ++epoch_;  // results of earlier probes are now meaningless
  for (auto& p : probes_) p.resolved = true;
  state_ = PmtudState::base;
  current_ = config_.base_plpmtu;
  search_low_ = config_.base_plpmtu;
  // Packets of this size just failed repeatedly: the new search looks below it (the raise timer
  // will look above again later). Unknown (PTO-triggered): the search starts from the maximum.
  search_high_ = failed_size;
  probe_count_ = 0;
  counted_losses_.clear();
  ack_evidence_.clear();
  raise_at_.reset();
  pause(now);
}

}  // namespace srudp::transport
