// One token bucket per source (source_key(): an IPv4 address or an IPv6 /64) in a table of
// bounded size. When the table is full the least recently seen source is forgotten, so spoofed
// sources cannot grow memory; a forgotten source starts again with a full bucket, which bounds
// what any one source gets per table turnover to one burst.
#pragma once

#include <cstddef>
#include <list>
#include <unordered_map>
#include <utility>

#include "rendezvous/ip_prefix.hpp"
#include "rendezvous/token_bucket.hpp"

namespace srudp::rendezvous {

class SourceRateLimiter {
 public:
  SourceRateLimiter(RateLimit per_source, std::size_t max_sources);

  bool allow(Instant now, const IpBytes& source, double cost = 1);
  std::size_t tracked() const noexcept { return index_.size(); }

 private:
  using Entry = std::pair<IpBytes, TokenBucket>;

  RateLimit per_source_;
  std::size_t max_sources_;
  std::list<Entry> recent_;  // most recently seen first
  std::unordered_map<IpBytes, std::list<Entry>::iterator, IpBytesHash> index_;
};

}  // namespace srudp::rendezvous
