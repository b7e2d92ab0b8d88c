#include "rendezvous/source_rate_limiter.hpp"

namespace srudp::rendezvous {

SourceRateLimiter::SourceRateLimiter(RateLimit per_source, std::size_t max_sources)
    : per_source_(per_source), max_sources_(max_sources > 0 ? max_sources : 1) {}

bool SourceRateLimiter::allow(Instant now, const IpBytes& source, double cost) {
  const IpBytes key = source_key(source);
  auto it = index_.find(key);
  if (it != index_.end()) {
    recent_.splice(recent_.begin(), recent_, it->second);
  } else {
    if (index_.size() >= max_sources_) {
      index_.erase(recent_.back().first);
      recent_.pop_back();
    }
    recent_.emplace_front(key, TokenBucket(per_source_, now));
    it = index_.emplace(key, recent_.begin()).first;
  }
  return it->second->second.try_take(now, cost);
}

}  // namespace srudp::rendezvous
