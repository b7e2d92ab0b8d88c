#include "rdv/metrics.hpp"

namespace srudp::rdv {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, std::uint64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

std::string format_prometheus(const ServerMetrics& c, const MetricsGauges& g) {
  std::string out;
  metric(out, "rdv_lobby_waiting", "gauge", "Clients waiting in the lobby for their peer.", g.lobby_waiting);
  metric(out, "rdv_connections_active", "gauge", "TCP connections not yet paired.", g.connections_active);
  metric(out, "rdv_relays_active", "gauge", "Pairs whose relay connection is open.", g.relays_active);
  metric(out, "rdv_connections_total", "counter", "TCP connections accepted.", c.connections_total);
  metric(out, "rdv_connections_refused_total", "counter", "TCP connections closed at once over the connection caps.",
         c.connections_refused_total);
  metric(out, "rdv_connections_evicted_total", "counter",
         "Connections still sending their request head, closed to admit newcomers at the connection cap.",
         c.connections_evicted_total);
  out += "# HELP rdv_responses_total HTTP responses by status code.\n# TYPE rdv_responses_total counter\n";
  for (const auto& [code, count] : c.responses_total) {
    out += "rdv_responses_total{code=\"" + std::to_string(code) + "\"} " + std::to_string(count) + "\n";
  }
  metric(out, "rdv_pairs_total", "counter", "Pairs of DIAL and ACCEPT answered 101.", c.pairs_total);
  metric(out, "rdv_relays_total", "counter", "Pairs relayed by the server (CONTINUE).", c.relays_total);
  metric(out, "rdv_relayed_bytes_total", "counter", "Bytes relayed, both directions.", c.relayed_bytes_total);
  metric(out, "rdv_p2p_successes_total", "counter", "Pairs that went direct (OTHER).", c.p2p_successes_total);
  metric(out, "rdv_relay_protocol_errors_total", "counter", "Dialers that sent neither CONTINUE nor OTHER.",
         c.relay_protocol_errors_total);
  metric(out, "rdv_relay_idle_timeouts_total", "counter", "Relays closed for idleness.", c.relay_idle_timeouts_total);
  metric(out, "rdv_stun_requests_total", "counter", "Datagrams received on the STUN ports.", c.stun_requests_total);
  metric(out, "rdv_stun_responses_total", "counter", "STUN responses sent.", c.stun_responses_total);
  metric(out, "rdv_stun_rate_limited_total", "counter", "STUN requests dropped by the per-source rate limit.",
         c.stun_rate_limited_total);
  metric(out, "rdv_stun_unanswered_total", "counter",
         "STUN datagrams not answered: not a Binding request, a reply would be larger, or RFC 3489.",
         c.stun_unanswered_total);
  return out;
}

}  // namespace srudp::rdv
