#include "sim/packet_capture.hpp"

#include <gtest/gtest.h>

#include "sim/scripted_node.hpp"

namespace srudp::sim {
namespace {

using namespace std::chrono_literals;

TEST(PacketCapture, RecordsWhatCrossesASiteAndReplaysIt) {
  Network net(test_seed(21));
  const SocketAddress client_addr = SocketAddress::v4(10, 0, 0, 2, 4000);
  const SocketAddress server_addr = SocketAddress::v4(203, 0, 113, 1, 443);
  ScriptedNode client(client_addr), server(server_addr);
  auto& nat = net.add_nat(NatConfig::port_restricted_cone(), ipv4(198, 51, 100, 1));
  net.add_host(client, client_addr, &nat);
  net.add_host(server, server_addr).set_access_link(LinkConfig{.delay = 5ms});
  PacketCapture wire(net, net.internet());
  PacketCapture filtered(net, net.internet(), [](const Datagram& d) { return d.bytes.size() > 3; });

  client.send(server_addr, {1, 2, 3});
  client.send(server_addr, {4, 5, 6, 7});
  ASSERT_TRUE(net.run_for(50ms));
  ASSERT_EQ(wire.packets().size(), 2u);
  EXPECT_EQ(filtered.packets().size(), 1u);
  // On the internet the capture sees the NAT's public address, not the private one.
  EXPECT_EQ(wire.packets()[0].datagram.from, nat.public_address(4000));
  EXPECT_EQ(wire.packets()[0].at, kEpoch);

  wire.replay(0, 100ms);  // an attacker on the path re-sends the first datagram
  ASSERT_TRUE(net.run_for(200ms));
  ASSERT_EQ(server.received().size(), 3u);
  EXPECT_EQ(server.received()[2].datagram, server.received()[0].datagram);
  EXPECT_EQ(server.received()[2].at - kEpoch, 155ms);
  EXPECT_EQ(wire.packets().size(), 3u);  // the replay crossed the internet too
  EXPECT_THROW(wire.replay(99), std::out_of_range);
}

}  // namespace
}  // namespace srudp::sim
