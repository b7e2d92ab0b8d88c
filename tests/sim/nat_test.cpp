#include "sim/nat.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sim/network.hpp"
#include "sim/scripted_node.hpp"

namespace srudp::sim {
namespace {

using namespace std::chrono_literals;

std::vector<std::uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

const IpAddress kNatIp = ipv4(198, 51, 100, 1);
const SocketAddress kClient = SocketAddress::v4(10, 0, 0, 2, 4000);
const SocketAddress kServer1 = SocketAddress::v4(203, 0, 113, 1, 3478);
const SocketAddress kServer1OtherPort = SocketAddress::v4(203, 0, 113, 1, 3479);
const SocketAddress kServer2 = SocketAddress::v4(203, 0, 113, 2, 3478);

// One client behind a NAT and two servers on the internet, the first with two ports.
struct NatBench {
  explicit NatBench(const NatConfig& config, std::uint64_t seed = 1)
      : net(test_seed(seed)),
        nat(net.add_nat(config, kNatIp)),
        client(kClient),
        server1(kServer1),
        server2(kServer2) {
    net.add_host(client, kClient, &nat);
    net.add_host(server1, kServer1).bind(kServer1OtherPort.port);
    net.add_host(server2, kServer2);
  }
  // Where 'server' sees the client's datagram to 'to' come from.
  SocketAddress mapped_towards(ScriptedNode& server, const SocketAddress& to) {
    server.clear_received();
    client.send(to, bytes("out"));
    EXPECT_TRUE(net.run_for(10ms));
    EXPECT_EQ(server.received().size(), 1u) << net.describe();
    return server.received().empty() ? SocketAddress{} : server.received()[0].datagram.from;
  }
  // Does a datagram from 'from' (sent by 'server') to 'to' reach the client?
  bool passes_inbound(ScriptedNode& server, const SocketAddress& from, const SocketAddress& to) {
    client.clear_received();
    server.send_from(from, to, bytes("in"));
    EXPECT_TRUE(net.run_for(10ms));
    return client.received().size() == 1 && client.received()[0].datagram.to == kClient;
  }

  Network net;
  Nat& nat;
  ScriptedNode client, server1, server2;
};

NatConfig with(NatMapping m, NatFiltering f) {
  NatConfig c;
  c.mapping = m;
  c.filtering = f;
  return c;
}

TEST(Nat, MappingBehaviourDecidesWhichDestinationsShareAnExternalPort) {
  struct Case {
    NatMapping mapping;
    bool same_for_other_port;  // server1:3478 vs server1:3479
    bool same_for_other_host;  // server1:3478 vs server2:3478
  };
  for (const Case c : {Case{NatMapping::endpoint_independent, true, true},
                       Case{NatMapping::address_dependent, true, false},
                       Case{NatMapping::address_and_port_dependent, false, false}}) {
    NatBench bench(with(c.mapping, NatFiltering::endpoint_independent));
    SCOPED_TRACE(bench.nat.config().describe());
    const SocketAddress first = bench.mapped_towards(bench.server1, kServer1);
    const SocketAddress other_port = bench.mapped_towards(bench.server1, kServer1OtherPort);
    const SocketAddress other_host = bench.mapped_towards(bench.server2, kServer2);
    EXPECT_EQ(first.ip, kNatIp);
    EXPECT_EQ(first.port, kClient.port);  // the source port is preserved when free
    EXPECT_EQ(first == other_port, c.same_for_other_port);
    EXPECT_EQ(first == other_host, c.same_for_other_host);
    // Repeating a destination always reuses its mapping.
    EXPECT_EQ(bench.mapped_towards(bench.server2, kServer2), other_host);
  }
}

TEST(Nat, FilteringBehaviourDecidesWhichInboundDatagramsPass) {
  struct Case {
    NatFiltering filtering;
    bool same_endpoint, same_host_other_port, other_host;
  };
  for (const Case c : {Case{NatFiltering::endpoint_independent, true, true, true},
                       Case{NatFiltering::address_dependent, true, true, false},
                       Case{NatFiltering::address_and_port_dependent, true, false, false}}) {
    NatBench bench(with(NatMapping::endpoint_independent, c.filtering));
    SCOPED_TRACE(bench.nat.config().describe());
    const SocketAddress mapped = bench.mapped_towards(bench.server1, kServer1);
    EXPECT_EQ(bench.passes_inbound(bench.server1, kServer1, mapped), c.same_endpoint);
    EXPECT_EQ(bench.passes_inbound(bench.server1, kServer1OtherPort, mapped),
              c.same_host_other_port);
    EXPECT_EQ(bench.passes_inbound(bench.server2, kServer2, mapped), c.other_host);
    // Nothing gets in where no mapping exists.
    EXPECT_FALSE(bench.passes_inbound(bench.server1, kServer1, bench.nat.public_address(9999)));
    EXPECT_GE(bench.net.drops()[DropCause::nat_no_mapping], 1u);
    const int refused = !c.same_host_other_port + !c.other_host;
    EXPECT_EQ(bench.net.drops()[DropCause::nat_filtered], static_cast<std::uint64_t>(refused));
  }
}

TEST(Nat, PresetsAreTheClassicConeAndSymmetricTypes) {
  EXPECT_EQ(NatConfig::full_cone().describe().substr(0, 7), "EIM/EIF");
  EXPECT_EQ(NatConfig::restricted_cone().describe().substr(0, 7), "EIM/ADF");
  EXPECT_EQ(NatConfig::port_restricted_cone().describe().substr(0, 8), "EIM/APDF");
  EXPECT_EQ(NatConfig::symmetric().describe().substr(0, 9), "APDM/APDF");
  EXPECT_EQ(NatConfig::udp_blocking().describe(), "UDP blocked");
}

TEST(Nat, MappingExpiresWithoutOutboundTrafficAndKeepaliveHoldsIt) {
  NatConfig config = NatConfig::port_restricted_cone();
  config.mapping_timeout = 30s;

  NatBench idle(config);
  const SocketAddress mapped = idle.mapped_towards(idle.server1, kServer1);
  idle.net.run_for(20s);
  EXPECT_TRUE(idle.passes_inbound(idle.server1, kServer1, mapped));  // inbound does not refresh
  idle.net.run_for(10s);  // 30 s since the client last sent
  EXPECT_FALSE(idle.passes_inbound(idle.server1, kServer1, mapped));
  EXPECT_EQ(idle.nat.table().live_mappings(idle.net.now()), 0u);

  NatBench kept(config);
  const SocketAddress first = kept.mapped_towards(kept.server1, kServer1);
  kept.client.send_series(kept.net.now(), 25s, 5, kServer1, 8);  // keepalive every 25 s
  kept.net.run_for(110s);
  EXPECT_TRUE(kept.passes_inbound(kept.server1, kServer1, first));
  EXPECT_EQ(kept.mapped_towards(kept.server1, kServer1), first);
  EXPECT_EQ(kept.nat.table().counters().mappings_created, 1u);

  config.inbound_refreshes = true;
  NatBench refreshed(config);
  const SocketAddress m = refreshed.mapped_towards(refreshed.server1, kServer1);
  for (int i = 0; i < 4; ++i) {
    refreshed.net.run_for(20s);
    EXPECT_TRUE(refreshed.passes_inbound(refreshed.server1, kServer1, m)) << i;
  }
}

TEST(Nat, PortAssignmentPreservesWhenFreeElseSequentialOrRandom) {
  for (const PortAssignment assignment : {PortAssignment::sequential, PortAssignment::random}) {
    NatConfig config = NatConfig::port_restricted_cone();
    config.port_assignment = assignment;
    config.port_min = 20000;
    config.port_max = 29999;
    NatTable table(config, kNatIp, Rng(5));
    const Instant now = kEpoch;
    const std::uint16_t moved = table.outbound(now, kClient, kServer1).address->port;
    EXPECT_GE(moved, 20000);  // 4000 is outside the range: not preserved
    EXPECT_LE(moved, 29999);
    const SocketAddress a = SocketAddress::v4(10, 0, 0, 3, 21000);
    const SocketAddress b = SocketAddress::v4(10, 0, 0, 4, 21000);  // same port, other host
    EXPECT_EQ(table.outbound(now, a, kServer1).address->port, 21000);
    const std::uint16_t port_b = table.outbound(now, b, kServer1).address->port;
    EXPECT_NE(port_b, 21000);
    EXPECT_GE(port_b, 20000);
    EXPECT_LE(port_b, 29999);
    if (assignment == PortAssignment::sequential) {
      EXPECT_EQ(moved, 20000);
      EXPECT_EQ(port_b, 20001);
    } else {
      EXPECT_NE(port_b, moved);
    }
    EXPECT_EQ(table.live_mappings(now), 3u);
  }
}

TEST(Nat, SymmetricNatAssignsAFreshPortPerDestination) {
  NatTable table(NatConfig::symmetric(), kNatIp, Rng(6));
  std::set<std::uint16_t> ports;
  for (std::uint16_t p = 1; p <= 50; ++p) {
    const auto v = table.outbound(kEpoch, kClient, SocketAddress::v4(203, 0, 113, 1, p));
    ASSERT_TRUE(v);
    ports.insert(v.address->port);
  }
  EXPECT_EQ(ports.size(), 50u);
  EXPECT_EQ(*ports.begin(), 1024);  // sequential from the bottom of the range, no preservation
  EXPECT_EQ(table.peek_mapping(kEpoch, kClient, SocketAddress::v4(203, 0, 113, 1, 1))->port, 1024);
  EXPECT_FALSE(table.peek_mapping(kEpoch, kClient, kServer2));
}

TEST(Nat, RunsOutOfPortsGracefully) {
  NatConfig config = NatConfig::symmetric();
  config.port_min = 5000;
  config.port_max = 5002;
  NatTable table(config, kNatIp, Rng(7));
  for (std::uint16_t p = 1; p <= 3; ++p) {
    EXPECT_TRUE(table.outbound(kEpoch, kClient, SocketAddress::v4(203, 0, 113, 1, p)));
  }
  const auto full = table.outbound(kEpoch, kClient, SocketAddress::v4(203, 0, 113, 1, 4));
  EXPECT_FALSE(full);
  EXPECT_EQ(full.cause, DropCause::nat_no_port);
  // After the timeout the ports are free again.
  EXPECT_TRUE(table.outbound(kEpoch + 121s, kClient, SocketAddress::v4(203, 0, 113, 1, 4)));
  EXPECT_EQ(table.counters().mappings_expired, 3u);
}

TEST(Nat, UdpBlockedDropsEverything) {
  NatBench bench(NatConfig::udp_blocking());
  bench.client.send(kServer1, bytes("anyone?"));
  ASSERT_TRUE(bench.net.run_for(10ms));
  EXPECT_TRUE(bench.server1.received().empty());
  EXPECT_FALSE(bench.passes_inbound(bench.server1, kServer1, bench.nat.public_address(4000)));
  EXPECT_EQ(bench.net.drops()[DropCause::nat_udp_blocked], 2u);
}

TEST(Nat, HairpinningIsOptional) {
  for (const bool hairpin : {false, true}) {
    NatConfig config = NatConfig::full_cone();
    config.hairpinning = hairpin;
    NatBench bench(config);
    const SocketAddress peer_addr = SocketAddress::v4(10, 0, 0, 3, 4001);
    ScriptedNode peer(peer_addr);
    bench.net.add_host(peer, peer_addr, &bench.nat);
    const SocketAddress peer_mapped = [&] {
      peer.send(kServer1, bytes("register"));
      EXPECT_TRUE(bench.net.run_for(10ms));
      return bench.server1.received().at(0).datagram.from;
    }();
    bench.client.send(peer_mapped, bytes("via public address"));
    bench.client.send(peer_addr, bytes("via private address"));  // same LAN: no NAT involved
    ASSERT_TRUE(bench.net.run_for(10ms));
    ASSERT_EQ(peer.received().size(), hairpin ? 2u : 1u);
    EXPECT_EQ(peer.received().back().datagram.from, kClient);
    if (hairpin) {
      // REQ-9: the hairpinned datagram comes from the sender's external address.
      EXPECT_EQ(peer.received()[0].datagram.from, bench.nat.public_address(kClient.port));
    } else {
      EXPECT_EQ(bench.net.drops()[DropCause::nat_no_hairpin], 1u);
    }
  }
}

// Two peers behind NATs learn each other's public address from a rendezvous server, then both
// send to it a few times ("both send first"). Returns how many datagrams each side received.
std::pair<std::size_t, std::size_t> hole_punch(const NatConfig& a_type, const NatConfig& b_type,
                                               std::uint64_t seed) {
  Network net(test_seed(seed));
  SCOPED_TRACE(net.describe());
  const SocketAddress a_addr = SocketAddress::v4(10, 0, 0, 2, 4000);
  const SocketAddress b_addr = SocketAddress::v4(192, 168, 1, 20, 4000);
  const SocketAddress r_addr = SocketAddress::v4(203, 0, 113, 1, 3478);
  ScriptedNode a(a_addr), b(b_addr), rendezvous(r_addr);
  auto& nat_a = net.add_nat(a_type, ipv4(198, 51, 100, 1));
  auto& nat_b = net.add_nat(b_type, ipv4(198, 51, 100, 2));
  nat_a.set_access_link(LinkConfig{.delay = 15ms, .jitter = 5ms});
  nat_b.set_access_link(LinkConfig{.delay = 25ms, .jitter = 5ms});
  net.add_host(a, a_addr, &nat_a);
  net.add_host(b, b_addr, &nat_b);
  net.add_host(rendezvous, r_addr);

  a.send(r_addr, bytes("register a"));
  b.send(r_addr, bytes("register b"));
  EXPECT_TRUE(net.run_until([&] { return rendezvous.received().size() == 2; }, 1s));
  SocketAddress a_public, b_public;
  for (const auto& r : rendezvous.received()) {
    (r.datagram.bytes == bytes("register a") ? a_public : b_public) = r.datagram.from;
  }
  a.clear_received();
  b.clear_received();
  a.send_series(net.now(), 100ms, 5, b_public, 16);
  b.send_series(net.now(), 100ms, 5, a_public, 16);
  EXPECT_TRUE(net.run_for(2s));
  return {a.received().size(), b.received().size()};
}

TEST(Nat, HolePunchingSucceedsBetweenPortRestrictedCones) {
  const auto [a_got, b_got] =
      hole_punch(NatConfig::port_restricted_cone(), NatConfig::port_restricted_cone(), 31);
  // The first datagram towards the farther NAT may arrive before that NAT opened its side.
  EXPECT_GE(a_got, 4u);
  EXPECT_GE(b_got, 4u);
}

TEST(Nat, HolePunchingFailsBetweenSymmetricAndPortRestricted) {
  const auto [a_got, b_got] =
      hole_punch(NatConfig::symmetric(), NatConfig::port_restricted_cone(), 32);
  EXPECT_EQ(a_got, 0u);
  EXPECT_EQ(b_got, 0u);
}

TEST(Nat, NestedNatsTranslateTwice) {
  Network net(test_seed(33));
  auto& cgnat = net.add_nat(NatConfig::full_cone(), ipv4(198, 51, 100, 7));
  auto& home = net.add_nat(NatConfig::full_cone(), ipv4(100, 64, 0, 9), &cgnat.inside());
  const SocketAddress inner = SocketAddress::v4(192, 168, 0, 2, 5555);
  ScriptedNode client(inner), server(kServer1);
  server.echo();
  net.add_host(client, inner, &home);
  net.add_host(server, kServer1);
  client.send(kServer1, bytes("ping"));
  ASSERT_TRUE(net.run_until([&] { return !client.received().empty(); }, 1s)) << net.describe();
  EXPECT_EQ(server.received().at(0).datagram.from, cgnat.public_address(5555));
  EXPECT_EQ(client.received()[0].datagram.from, kServer1);
  EXPECT_EQ(client.received()[0].datagram.to, inner);
}

}  // namespace
}  // namespace srudp::sim

namespace srudp::sim {
namespace {

// The port-collision note of ../shared/natlab.md, on the table itself.
TEST(Nat, BareMasqueradeMovesAFlowAfterAnUnsolicitedInboundFromItsRemote) {
  NatTable table(NatConfig::bare_masquerade(), kNatIp, Rng(1));
  const Instant t0 = kEpoch;
  // A flow to the STUN server keeps the source port.
  EXPECT_EQ(table.outbound(t0, kClient, kServer1).address, SocketAddress::v4(198, 51, 100, 1, 4000));
  // The peer (kServer2) punches first: nothing lets it in, but conntrack keeps its tuple.
  EXPECT_FALSE(table.inbound(t0, kServer2, SocketAddress::v4(198, 51, 100, 1, 4000)));
  // Our own flow to the peer can no longer have port 4000: the router picks another.
  const auto towards_peer = table.outbound(t0 + std::chrono::milliseconds(5), kClient, kServer2);
  ASSERT_TRUE(towards_peer);
  EXPECT_NE(towards_peer.address->port, 4000);
  EXPECT_EQ(table.peek_mapping(t0, kClient, kServer2), towards_peer.address);
  // Only the flow's remote may answer, on the flow's port.
  EXPECT_EQ(table.inbound(t0, kServer2, *towards_peer.address).address, kClient);
  EXPECT_FALSE(table.inbound(t0, kServer1OtherPort, *towards_peer.address));
  EXPECT_EQ(table.live_mappings(t0), 2u);
  // Another remote meets no collision: port 4000 again.
  EXPECT_EQ(table.outbound(t0, kClient, kServer1OtherPort).address->port, 4000);
}

}  // namespace
}  // namespace srudp::sim
