// The server's counters, and their Prometheus text exposition for /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace srudp::rdv {

struct ServerMetrics {
  std::uint64_t connections_total = 0;
  std::uint64_t connections_refused_total = 0;  // over the connection caps: closed at once
  std::uint64_t connections_evicted_total = 0;  // slow request heads closed to admit newcomers
  std::map<int, std::uint64_t> responses_total;  // by HTTP status, 101 included
  std::uint64_t pairs_total = 0;                // 101s sent (pairs)
  std::uint64_t relays_total = 0;               // pairs whose dialer chose the relay (CONTINUE)
  std::uint64_t relayed_bytes_total = 0;
  std::uint64_t p2p_successes_total = 0;        // pairs whose dialer went direct (OTHER)
  std::uint64_t relay_protocol_errors_total = 0;
  std::uint64_t relay_idle_timeouts_total = 0;
  std::uint64_t stun_requests_total = 0;        // datagrams received on the STUN ports
  std::uint64_t stun_responses_total = 0;
  std::uint64_t stun_rate_limited_total = 0;
  std::uint64_t stun_unanswered_total = 0;      // not STUN, too small to answer, or RFC 3489
};

struct MetricsGauges {
  std::uint64_t lobby_waiting = 0;
  std::uint64_t connections_active = 0;  // before pairing
  std::uint64_t relays_active = 0;       // pairs whose relay connection is open
};

std::string format_prometheus(const ServerMetrics& counters, const MetricsGauges& gauges);

}  // namespace srudp::rdv
