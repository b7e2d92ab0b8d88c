#include "sim/nat.hpp"

#include <utility>
#include <vector>

namespace srudp::sim {
namespace {

std::string_view name(NatMapping m) {
  switch (m) {
    case NatMapping::endpoint_independent:
      return "EIM";
    case NatMapping::address_dependent:
      return "ADM";
    case NatMapping::address_and_port_dependent:
      return "APDM";
  }
  return "?";
}

std::string_view name(NatFiltering f) {
  switch (f) {
    case NatFiltering::endpoint_independent:
      return "EIF";
    case NatFiltering::address_dependent:
      return "ADF";
    case NatFiltering::address_and_port_dependent:
      return "APDF";
  }
  return "?";
}

}  // namespace

NatConfig NatConfig::full_cone() {
  NatConfig c;
  c.mapping = NatMapping::endpoint_independent;
  c.filtering = NatFiltering::endpoint_independent;
  return c;
}

NatConfig NatConfig::restricted_cone() {
  NatConfig c;
  c.mapping = NatMapping::endpoint_independent;
  c.filtering = NatFiltering::address_dependent;
  return c;
}

NatConfig NatConfig::port_restricted_cone() {
  NatConfig c;
  c.mapping = NatMapping::endpoint_independent;
  c.filtering = NatFiltering::address_and_port_dependent;
  return c;
}

NatConfig NatConfig::symmetric() {
  NatConfig c;
  c.mapping = NatMapping::address_and_port_dependent;
  c.filtering = NatFiltering::address_and_port_dependent;
  c.preserve_port = false;
  return c;
}

NatConfig NatConfig::udp_blocking() {
  NatConfig c = port_restricted_cone();
  c.udp_blocked = true;
  return c;
}

NatConfig NatConfig::bare_masquerade() {
  NatConfig c;
  c.conntrack_collisions = true;
  return c;
}

std::string NatConfig::describe() const {
  if (udp_blocked) return "UDP blocked";
  if (conntrack_collisions) return "bare masquerade (conntrack port collisions)";
  std::string s;
  s += name(mapping);
  s += '/';
  s += name(filtering);
  s += preserve_port ? " preserve" : "";
  s += port_assignment == PortAssignment::sequential ? " sequential" : " random";
  s += " timeout=" +
       std::to_string(
           std::chrono::duration_cast<std::chrono::milliseconds>(mapping_timeout).count()) +
       "ms";
  if (inbound_refreshes) s += " inbound-refresh";
  if (hairpinning) s += " hairpin";
  return s;
}

NatTable::NatTable(NatConfig config, IpAddress public_ip, Rng rng)
    : config_(std::move(config)), public_ip_(public_ip), rng_(rng) {
  if (config_.port_max < config_.port_min) std::swap(config_.port_min, config_.port_max);
}

NatTable::Verdict NatTable::drop(DropCause cause) {
  ++counters_.dropped[cause];
  return Verdict{std::nullopt, cause};
}

NatTable::Key NatTable::key_for(const SocketAddress& internal, const SocketAddress& remote) const {
  Key key{internal, {}, 0};
  if (config_.mapping != NatMapping::endpoint_independent) key.remote_ip = remote.ip;
  if (config_.mapping == NatMapping::address_and_port_dependent) key.remote_port = remote.port;
  return key;
}

bool NatTable::alive(const Mapping& m, Instant now) const noexcept {
  return now - m.last_used < config_.mapping_timeout;
}

bool NatTable::permits(const Mapping& m, const SocketAddress& remote, Instant now) const {
  const auto fresh = [&](Instant t) { return now - t < config_.mapping_timeout; };
  switch (config_.filtering) {
    case NatFiltering::endpoint_independent:
      return true;
    case NatFiltering::address_dependent:
      for (const auto& [addr, t] : m.contacted) {
        if (addr.ip == remote.ip && fresh(t)) return true;
      }
      return false;
    case NatFiltering::address_and_port_dependent: {
      const auto it = m.contacted.find(remote);
      return it != m.contacted.end() && fresh(it->second);
    }
  }
  return false;
}

void NatTable::expire_all(Instant now) {
  for (auto it = by_port_.begin(); it != by_port_.end();) {
    if (alive(it->second, now)) {
      ++it;
      continue;
    }
    port_by_key_.erase(it->second.key);
    it = by_port_.erase(it);
    ++counters_.mappings_expired;
  }
}

std::optional<std::uint16_t> NatTable::allocate_port(std::uint16_t wanted) {
  const auto free = [&](std::uint32_t p) {
    return by_port_.find(static_cast<std::uint16_t>(p)) == by_port_.end();
  };
  const std::uint32_t lo = config_.port_min;
  const std::uint32_t range = std::uint32_t{config_.port_max} - lo + 1;
  if (config_.preserve_port && wanted >= config_.port_min && wanted <= config_.port_max &&
      free(wanted)) {
    return wanted;
  }
  std::uint32_t start = next_sequential_ % range;
  if (config_.port_assignment == PortAssignment::random) {
    for (int attempt = 0; attempt < 32; ++attempt) {
      const auto p = lo + static_cast<std::uint32_t>(rng_.uniform(range));
      if (free(p)) return static_cast<std::uint16_t>(p);
    }
    start = static_cast<std::uint32_t>(rng_.uniform(range));  // nearly full: scan from anywhere
  }
  for (std::uint32_t i = 0; i < range; ++i) {
    const std::uint32_t offset = (start + i) % range;
    if (free(lo + offset)) {
      if (config_.port_assignment == PortAssignment::sequential) next_sequential_ = offset + 1;
      return static_cast<std::uint16_t>(lo + offset);
    }
  }
  return std::nullopt;
}

NatTable::Verdict NatTable::conntrack_outbound(Instant now, const SocketAddress& internal,
                                               const SocketAddress& remote) {
  const auto fresh = [&](Instant t) { return now - t < config_.mapping_timeout; };
  const auto flow_key = std::pair{internal, remote};
  auto it = flows_.find(flow_key);
  if (it != flows_.end() && !fresh(it->second.last_used)) {
    flows_.erase(it);
    it = flows_.end();
  }
  if (it == flows_.end()) {
    const auto tuple_free = [&](std::uint16_t port) {
      const auto u = unsolicited_.find({port, remote});
      if (u != unsolicited_.end() && fresh(u->second)) return false;
      for (const auto& [key, flow] : flows_) {
        if (flow.port == port && key.second == remote && fresh(flow.last_used)) return false;
      }
      return true;
    };
    std::uint16_t port = internal.port;
    for (std::uint32_t p = config_.port_min; !tuple_free(port) && p <= config_.port_max; ++p) {
      port = static_cast<std::uint16_t>(p);
    }
    if (!tuple_free(port)) return drop(DropCause::nat_no_port);
    it = flows_.emplace(flow_key, Flow{port, now}).first;
    ++counters_.mappings_created;
  }
  it->second.last_used = now;
  ++counters_.outbound;
  return Verdict{at_port(public_ip_, it->second.port), DropCause::count_};
}

NatTable::Verdict NatTable::conntrack_inbound(Instant now, const SocketAddress& remote, const SocketAddress& external) {
  if (external.ip == public_ip_) {
    for (auto& [key, flow] : flows_) {
      if (flow.port != external.port || key.second != remote || now - flow.last_used >= config_.mapping_timeout) continue;
      if (config_.inbound_refreshes) flow.last_used = now;
      ++counters_.inbound;
      return Verdict{key.first, DropCause::count_};
    }
    unsolicited_[{external.port, remote}] = now;  // nothing listens, but conntrack remembers it
  }
  return drop(DropCause::nat_filtered);
}

NatTable::Verdict NatTable::outbound(Instant now, const SocketAddress& internal,
                                     const SocketAddress& remote) {
  if (config_.udp_blocked) return drop(DropCause::nat_udp_blocked);
  if (config_.conntrack_collisions) return conntrack_outbound(now, internal, remote);
  const Key key = key_for(internal, remote);
  auto found = port_by_key_.find(key);
  if (found != port_by_key_.end() && !alive(by_port_.at(found->second), now)) {
    expire_all(now);
    found = port_by_key_.end();
  }
  std::uint16_t port = 0;
  if (found != port_by_key_.end()) {
    port = found->second;
  } else {
    expire_all(now);  // frees the ports of dead mappings before choosing one
    const auto allocated = allocate_port(internal.port);
    if (!allocated) return drop(DropCause::nat_no_port);
    port = *allocated;
    port_by_key_.emplace(key, port);
    by_port_.emplace(port, Mapping{key, now, {}});
    ++counters_.mappings_created;
  }
  Mapping& m = by_port_.at(port);
  m.last_used = now;
  m.contacted[remote] = now;
  if (m.contacted.size() > 4096) {  // a scan of many remotes: forget the stale permissions
    std::erase_if(m.contacted,
                  [&](const auto& entry) { return now - entry.second >= config_.mapping_timeout; });
  }
  ++counters_.outbound;
  return Verdict{at_port(public_ip_, port), DropCause::count_};
}

NatTable::Verdict NatTable::inbound(Instant now, const SocketAddress& remote,
                                    const SocketAddress& external) {
  if (config_.udp_blocked) return drop(DropCause::nat_udp_blocked);
  if (config_.conntrack_collisions) return conntrack_inbound(now, remote, external);
  const auto it = external.ip == public_ip_ ? by_port_.find(external.port) : by_port_.end();
  if (it == by_port_.end() || !alive(it->second, now)) return drop(DropCause::nat_no_mapping);
  Mapping& m = it->second;
  if (!permits(m, remote, now)) return drop(DropCause::nat_filtered);
  if (config_.inbound_refreshes) {
    m.last_used = now;
    const auto c = m.contacted.find(remote);
    if (c != m.contacted.end()) c->second = now;
  }
  ++counters_.inbound;
  return Verdict{m.key.internal, DropCause::count_};
}

std::optional<SocketAddress> NatTable::peek_mapping(Instant now, const SocketAddress& internal,
                                                    const SocketAddress& remote) const {
  if (config_.conntrack_collisions) {
    const auto flow = flows_.find({internal, remote});
    if (flow == flows_.end() || now - flow->second.last_used >= config_.mapping_timeout) return std::nullopt;
    return at_port(public_ip_, flow->second.port);
  }
  const auto found = port_by_key_.find(key_for(internal, remote));
  if (found == port_by_key_.end() || !alive(by_port_.at(found->second), now)) return std::nullopt;
  return at_port(public_ip_, found->second);
}

std::size_t NatTable::live_mappings(Instant now) const {
  std::size_t n = 0;
  for (const auto& [key, flow] : flows_)
    if (now - flow.last_used < config_.mapping_timeout) ++n;
  for (const auto& [port, m] : by_port_)
    if (alive(m, now)) ++n;
  return n;
}

}  // namespace srudp::sim
