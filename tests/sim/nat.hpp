// A NAT's translation logic per RFC 4787 (behavioural requirements for unicast UDP NAT): mapping
// behaviour (which outbound flows share one external port), filtering behaviour (which inbound
// datagrams a mapping lets in), port assignment, mapping timeout and hairpinning. Pure state: the
// Network calls it with the current time; it owns no links and schedules nothing.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/address.hpp"
#include "common/time.hpp"
#include "sim/drop_cause.hpp"
#include "sim/ip.hpp"
#include "sim/rng.hpp"

namespace srudp::sim {

// RFC 4787 section 4.1: what makes two outbound flows from one internal endpoint reuse a mapping.
enum class NatMapping : std::uint8_t {
  endpoint_independent,        // any destination
  address_dependent,           // same destination IP
  address_and_port_dependent,  // same destination IP and port ("symmetric")
};

// RFC 4787 section 5: which inbound datagrams a mapping accepts.
enum class NatFiltering : std::uint8_t {
  endpoint_independent,        // from anyone ("full cone")
  address_dependent,           // from an IP the internal endpoint has sent to
  address_and_port_dependent,  // from an IP:port the internal endpoint has sent to
};

// How a new mapping's external port is chosen when the source port cannot be preserved.
enum class PortAssignment : std::uint8_t { sequential, random };

struct NatConfig {
  NatMapping mapping = NatMapping::endpoint_independent;
  NatFiltering filtering = NatFiltering::address_and_port_dependent;
  bool preserve_port = true;  // try the internal source port first
  PortAssignment port_assignment = PortAssignment::sequential;
  std::uint16_t port_min = 1024;  // external port range (inclusive)
  std::uint16_t port_max = 65535;
  Duration mapping_timeout{std::chrono::seconds(120)};  // RFC 4787 REQ-5: at least 2 minutes
  bool inbound_refreshes = false;  // REQ-6: outbound always refreshes; inbound only if set
  bool hairpinning = false;        // REQ-9: internal hosts may reach each other's mappings
  bool udp_blocked = false;        // drop every UDP datagram, both directions
  // Linux `masquerade` with no input-drop rule (../shared/natlab.md, the port-collision note):
  // each (internal, remote) flow is a conntrack entry that keeps the source port when the tuple
  // (public ip:port, remote) is free; only the flow's remote may answer; and an unsolicited
  // inbound datagram leaves an entry of its own that occupies (port, remote) for mapping_timeout,
  // so a flow opened to that remote afterwards gets another port. The other settings but
  // mapping_timeout, inbound_refreshes and port_min/max are ignored.
  bool conntrack_collisions = false;

  static NatConfig full_cone();             // EIM / EIF
  static NatConfig restricted_cone();       // EIM / ADF
  static NatConfig port_restricted_cone();  // EIM / APDF
  static NatConfig symmetric();             // APDM / APDF
  static NatConfig udp_blocking();          // a firewall that drops all UDP
  static NatConfig bare_masquerade();       // conntrack_collisions

  std::string describe() const;
};

struct NatCounters {
  std::uint64_t outbound = 0;  // datagrams translated on the way out
  std::uint64_t inbound = 0;   // datagrams translated on the way in
  std::uint64_t mappings_created = 0;
  std::uint64_t mappings_expired = 0;
  DropCounts dropped;
};

class NatTable {
 public:
  NatTable(NatConfig config, IpAddress public_ip, Rng rng);

  struct Verdict {
    std::optional<SocketAddress> address;  // the translated address, or nullopt when dropped
    DropCause cause = DropCause::count_;   // why it was dropped
    explicit operator bool() const noexcept { return address.has_value(); }
  };

  // 'internal' sends to 'remote': the external address the datagram leaves with. Creates or
  // refreshes a mapping and records 'remote' as a permitted source for filtering.
  Verdict outbound(Instant now, const SocketAddress& internal, const SocketAddress& remote);
  // 'remote' sends to 'external' (an address on this NAT): the internal endpoint to deliver to.
  Verdict inbound(Instant now, const SocketAddress& remote, const SocketAddress& external);

  // The external address 'internal' would use towards 'remote' now, without creating anything.
  std::optional<SocketAddress> peek_mapping(Instant now, const SocketAddress& internal,
                                            const SocketAddress& remote) const;
  std::size_t live_mappings(Instant now) const;

  const NatConfig& config() const noexcept { return config_; }
  const IpAddress& public_ip() const noexcept { return public_ip_; }
  const NatCounters& counters() const noexcept { return counters_; }

 private:
  struct Key {
    SocketAddress internal;
    IpAddress remote_ip{};          // zero unless the mapping depends on the address
    std::uint16_t remote_port = 0;  // zero unless it depends on the port
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  struct Mapping {
    Key key;
    Instant last_used;
    std::map<SocketAddress, Instant> contacted;  // remote -> last outbound to it (filtering)
  };

  Key key_for(const SocketAddress& internal, const SocketAddress& remote) const;
  bool alive(const Mapping& m, Instant now) const noexcept;
  bool permits(const Mapping& m, const SocketAddress& remote, Instant now) const;
  void expire_all(Instant now);
  std::optional<std::uint16_t> allocate_port(std::uint16_t wanted);
  Verdict drop(DropCause cause);

  // conntrack_collisions: flows by (internal, remote), and the (port, remote) tuples in use.
  struct Flow {
    std::uint16_t port = 0;
    Instant last_used{};
  };
  Verdict conntrack_outbound(Instant now, const SocketAddress& internal, const SocketAddress& remote);
  Verdict conntrack_inbound(Instant now, const SocketAddress& remote, const SocketAddress& external);
  std::map<std::pair<SocketAddress, SocketAddress>, Flow> flows_;
  std::map<std::pair<std::uint16_t, SocketAddress>, Instant> unsolicited_;  // (port, remote) -> when

  NatConfig config_;
  IpAddress public_ip_;
  Rng rng_;
  std::map<Key, std::uint16_t> port_by_key_;
  std::map<std::uint16_t, Mapping> by_port_;
  std::uint32_t next_sequential_ = 0;  // offset into the port range
  NatCounters counters_;
};

}  // namespace srudp::sim
