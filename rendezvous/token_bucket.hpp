// A token bucket: `rate` tokens per second up to `burst`. Tokens are whatever the caller counts
// (STUN replies, relayed bytes). A rate of 0 or less means unlimited.
#pragma once

#include "common/time.hpp"

namespace srudp::rendezvous {

struct RateLimit {
  double per_second = 0;  // <= 0: unlimited
  double burst = 0;       // the most that can be taken at once after a quiet period
};

class TokenBucket {
 public:
  TokenBucket(RateLimit limit, Instant now);  // starts full

  bool unlimited() const noexcept { return limit_.per_second <= 0; }
  // Takes `amount` if the bucket holds it; takes nothing and returns false otherwise.
  bool try_take(Instant now, double amount);
  // Takes `amount` even into debt, and returns how long the caller must wait before acting so
  // the rate holds (zero when there was enough). For byte streams: read, take, wait, write.
  Duration take_with_debt(Instant now, double amount);
  double available(Instant now);

 private:
  void refill(Instant now);

  RateLimit limit_;
  double tokens_;
  Instant last_;
};

}  // namespace srudp::rendezvous
