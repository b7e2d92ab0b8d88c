#include "rendezvous/hole_puncher.hpp"

#include <algorithm>

namespace srudp::rendezvous {
namespace {

constexpr Duration kStagger = std::chrono::milliseconds(20);
constexpr Duration kFirstRetry = std::chrono::milliseconds(50);
constexpr Duration kMaxRetry = std::chrono::seconds(1);
constexpr Duration kOutstandingLifetime = std::chrono::seconds(10);

Duration retry_gap(unsigned probes_sent) {
  Duration gap = kFirstRetry;
  for (unsigned i = 1; i < probes_sent && gap < kMaxRetry; ++i) gap *= 2;
  return std::min(gap, kMaxRetry);
}

StunTransactionId transaction_id_of(const StunIdField& field) {
  StunTransactionId id{};
  std::copy(field.begin() + 4, field.end(), id.begin());
  return id;
}

}  // namespace

HolePuncher::HolePuncher(HolePuncherConfig config, RandomSource& rng) : config_(config), rng_(rng) {}

void HolePuncher::start(Instant now, std::span<const SocketAddress> candidates) {
  running_ = true;
  for (const SocketAddress& address : candidates) {
    if (candidates_.size() >= config_.max_candidates) break;
    if (find(address) != nullptr) continue;
    candidates_.push_back(Candidate{address, 0, now + kStagger * static_cast<int>(candidates_.size()), false, false});
  }
}

void HolePuncher::stop() {
  running_ = false;
  watched_.reset();
  answers_.clear();
  outstanding_.clear();
}

std::optional<SocketAddress> HolePuncher::working() const {
  if (!watched_ || dark_) return std::nullopt;
  return watched_;
}

HolePuncher::Candidate* HolePuncher::find(const SocketAddress& address) {
  for (Candidate& c : candidates_) {
    if (c.address == address) return &c;
  }
  return nullptr;
}

bool HolePuncher::probing() const {
  if (!running_ || found_) return false;
  return std::any_of(candidates_.begin(), candidates_.end(),
                     [&](const Candidate& c) { return !c.answered && c.probes < config_.max_probes; });
}

bool HolePuncher::handle_datagram(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  if (!running_) return false;
  auto check = read_path_check(datagram, config_.peer_key);
  if (!check) {
    if (check.error() != errc::decrypt_failed) return false;
    ++counters_.unauthenticated;
    return true;
  }
  if (check->kind == PathCheckMessage::Kind::request) {
    on_request(now, from, check->id_field);
  } else {
    on_response(now, from, check->id_field);
  }
  return true;
}

void HolePuncher::on_request(Instant now, const SocketAddress& from, const StunIdField& id) {
  if (answers_.size() >= kMaxQueuedAnswers) {
    ++counters_.answers_dropped;
  } else {
    answers_.emplace_back(from, id);
  }
  // A source we did not know: the peer's NAT mapped it anew. Probe it at once (it is the one
  // address its NAT is sure to let our answer and checks through from).
  if (!found_ && find(from) == nullptr && peer_reflexive_ < config_.max_peer_reflexive) {
    ++peer_reflexive_;
    candidates_.push_back(Candidate{from, 0, now, false, true});
  }
}

void HolePuncher::on_response(Instant now, const SocketAddress& from, const StunIdField& id) {
  const StunTransactionId tid = transaction_id_of(id);
  const auto it = std::find_if(outstanding_.begin(), outstanding_.end(), [&](const Outstanding& o) { return o.id == tid; });
  if (it == outstanding_.end()) return;  // not ours, answered before, or too old
  const SocketAddress probed = it->to;
  outstanding_.erase(it);
  ++counters_.responses;
  for (const SocketAddress& address : {probed, from}) {
    if (Candidate* c = find(address)) c->answered = true;
  }
  if (watched_ && (from == *watched_ || probed == *watched_)) {
    consent_answered_ = true;
    missed_ = 0;
    if (dark_) {
      dark_ = false;
      events_.push_back(PunchEvent{PunchEvent::Kind::restored, *watched_});
    }
    return;
  }
  if (found_) return;
  found_ = true;
  events_.push_back(PunchEvent{PunchEvent::Kind::found, from});
  if (config_.controlling) {
    watched_ = from;
    next_consent_ = now + config_.consent_interval;
    consent_answered_ = true;
    missed_ = 0;
  }
}

std::optional<PunchTransmit> HolePuncher::send_check(Instant now, const SocketAddress& to, std::span<std::uint8_t> out) {
  Outstanding o;
  rng_.fill(o.id);
  o.to = to;
  o.sent = now;
  auto size = write_path_check_request(o.id, config_.our_key, out);
  if (!size) return std::nullopt;
  while (!outstanding_.empty() &&
         (outstanding_.size() >= kMaxOutstanding || outstanding_.front().sent + kOutstandingLifetime < now)) {
    outstanding_.pop_front();
  }
  outstanding_.push_back(o);
  ++counters_.probes_sent;
  return PunchTransmit{to, *size};
}

void HolePuncher::check_consent(Instant) {
  if (consent_answered_) return;
  ++missed_;
  if (missed_ >= config_.consent_misses && !dark_) {
    dark_ = true;
    events_.push_back(PunchEvent{PunchEvent::Kind::lost, *watched_});
  }
}

std::optional<PunchTransmit> HolePuncher::poll_transmit(Instant now, std::span<std::uint8_t> out) {
  if (!running_) return std::nullopt;
  while (!answers_.empty()) {
    const auto [to, id] = answers_.front();
    answers_.pop_front();
    if (auto size = write_path_check_response(id, to, config_.our_key, out)) {
      ++counters_.answers_sent;
      return PunchTransmit{to, *size};
    }
  }
  if (watched_ && now >= next_consent_) {
    check_consent(now);
    next_consent_ = now + config_.consent_interval;
    consent_answered_ = false;
    return send_check(now, *watched_, out);
  }
  if (!probing()) {
    // Exhausted once the last probe had a second to be answered.
    if (!found_ && !exhausted_reported_ && !candidates_.empty() && now >= last_probe_ + kMaxRetry) {
      exhausted_reported_ = true;
      events_.push_back(PunchEvent{PunchEvent::Kind::exhausted, candidates_.back().address});
    }
    return std::nullopt;
  }
  for (Candidate& c : candidates_) {
    if (c.answered || c.probes >= config_.max_probes || c.next_probe > now) continue;
    ++c.probes;
    c.next_probe = now + retry_gap(c.probes);
    last_probe_ = now;
    return send_check(now, c.address, out);
  }
  return std::nullopt;
}

std::optional<Instant> HolePuncher::poll_timeout() const {
  if (!running_) return std::nullopt;
  std::optional<Instant> t;
  const auto take = [&t](Instant when) {
    if (!t || when < *t) t = when;
  };
  if (!answers_.empty()) take(Instant{});
  if (watched_) take(next_consent_);
  if (probing()) {
    for (const Candidate& c : candidates_) {
      if (!c.answered && c.probes < config_.max_probes) take(c.next_probe);
    }
  } else if (!found_ && !exhausted_reported_ && !candidates_.empty()) {
    take(last_probe_ + kMaxRetry);
  }
  return t;
}

std::optional<PunchEvent> HolePuncher::poll_event() {
  if (events_.empty()) return std::nullopt;
  PunchEvent e = events_.front();
  events_.pop_front();
  return e;
}

}  // namespace srudp::rendezvous
