#include "rendezvous/token_bucket.hpp"

#include <algorithm>

namespace srudp::rendezvous {

TokenBucket::TokenBucket(RateLimit limit, Instant now)
    : limit_(limit), tokens_(limit.burst), last_(now) {}

void TokenBucket::refill(Instant now) {
  if (now <= last_) return;  // time never runs backwards here; a stale `now` adds nothing
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(limit_.burst, tokens_ + seconds * limit_.per_second);
  last_ = now;
}

bool TokenBucket::try_take(Instant now, double amount) {
  if (unlimited()) return true;
  refill(now);
  if (tokens_ < amount) return false;
  tokens_ -= amount;
  return true;
}

Duration TokenBucket::take_with_debt(Instant now, double amount) {
  if (unlimited()) return Duration::zero();
  refill(now);
  tokens_ -= amount;
  if (tokens_ >= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / limit_.per_second));
}

double TokenBucket::available(Instant now) {
  refill(now);
  return tokens_;
}

}  // namespace srudp::rendezvous
