#include "sim/network.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/scripted_node.hpp"

namespace srudp::sim {
namespace {

using namespace std::chrono_literals;

std::vector<std::uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

const SocketAddress kAlice = SocketAddress::v4(203, 0, 113, 1, 4000);
const SocketAddress kBob = SocketAddress::v4(203, 0, 113, 2, 5000);

TEST(Network, DeliversAfterTheSumOfTheLinksOnThePath) {
  Network net(test_seed(1));
  SCOPED_TRACE(net.describe());
  ScriptedNode alice(kAlice), bob(kBob);
  auto& a = net.add_host(alice, kAlice);
  auto& b = net.add_host(bob, kBob);
  a.set_access_link(LinkConfig{.delay = 5ms});
  b.set_access_link(LinkConfig{.delay = 3ms});
  net.set_link(a, b, LinkConfig{.delay = 20ms});
  alice.send(kBob, bytes("hello"));
  ASSERT_TRUE(net.run_until([&] { return !bob.received().empty(); }, 1s));
  EXPECT_EQ(bob.received()[0].at - kEpoch, 28ms);
  EXPECT_EQ(bob.received()[0].datagram, (Datagram{kAlice, kBob, bytes("hello")}));
  EXPECT_EQ(net.now() - kEpoch, 28ms);
  EXPECT_EQ(a.datagrams_sent(), 1u);
  EXPECT_EQ(b.datagrams_received(), 1u);
  EXPECT_EQ(net.path_link(a, b)->counters().delivered, 1u);
}

TEST(Network, FillsInAnUnspecifiedSourceAndDropsWhatHasNowhereToGo) {
  Network net(test_seed(2));
  ScriptedNode alice(kAlice), bob(kBob);
  net.add_host(alice, kAlice);
  auto& b = net.add_host(bob, kBob);
  b.bind(5001);
  alice.send_from(SocketAddress{}, kBob, bytes("a"));
  alice.send(SocketAddress::v4(203, 0, 113, 2, 5001), bytes("b"));  // second socket
  alice.send(SocketAddress::v4(203, 0, 113, 2, 5002), bytes("c"));  // no socket there
  alice.send(SocketAddress::v4(192, 0, 2, 9, 1), bytes("d"));       // nobody has that IP
  ASSERT_TRUE(net.run_for(1s));
  ASSERT_EQ(bob.received().size(), 2u);
  EXPECT_EQ(bob.received()[0].datagram.from, kAlice);
  EXPECT_EQ(bob.received()[1].datagram.to.port, 5001);
  EXPECT_EQ(net.drops()[DropCause::port_unreachable], 1u);
  EXPECT_EQ(net.drops()[DropCause::no_route], 1u);
  EXPECT_EQ(net.delivered(), 2u);
}

TEST(Network, RejectsTopologyMistakes) {
  Network net(test_seed(3));
  ScriptedNode alice(kAlice), twin(kAlice), bob(kBob);
  auto& a = net.add_host(alice, kAlice);
  EXPECT_THROW(net.add_host(twin, kAlice), std::invalid_argument);
  EXPECT_THROW(net.add_host(alice, kBob), std::invalid_argument);
  auto& nat = net.add_nat(NatConfig::full_cone(), ipv4(198, 51, 100, 1));
  auto& inside = net.add_host(bob, SocketAddress::v4(10, 0, 0, 2, 1), &nat);
  EXPECT_THROW(net.set_link(a, inside, LinkConfig{}), std::invalid_argument);
  EXPECT_NO_THROW(net.set_link(inside, nat, LinkConfig{}));  // the LAN hop to the gateway
  EXPECT_NO_THROW(net.set_link(a, nat, LinkConfig{}));       // across the internet
}

// A node that re-arms its timer for a fixed interval and counts how often it fires.
class Ticker final : public Node {
 public:
  explicit Ticker(Duration interval) : interval_(interval) {}
  std::vector<Instant> fired;
  void handle_datagram(Instant, const Datagram&) override {}
  std::optional<Datagram> poll_transmit(Instant) override { return std::nullopt; }
  std::optional<Instant> poll_timeout() override { return next_; }
  void handle_timeout(Instant now) override {
    if (next_ && now >= *next_) {
      fired.push_back(now);
      next_ = now + interval_;
    }
  }
  void start(Instant now) { next_ = now + interval_; }
  void stop() { next_.reset(); }

 private:
  Duration interval_;
  std::optional<Instant> next_;
};

TEST(Network, FiresTimersAtTheirDeadlinesAndHonoursRearming) {
  Network net(test_seed(4));
  Ticker ticker(100ms);
  net.add_host(ticker, kAlice);
  ticker.start(net.now());
  ASSERT_TRUE(net.run_for(1s));
  ASSERT_EQ(ticker.fired.size(), 10u);
  for (std::size_t i = 0; i < ticker.fired.size(); ++i) {
    EXPECT_EQ(ticker.fired[i] - kEpoch, (i + 1) * 100ms);
  }
  ticker.stop();  // cancelled: the next run must notice before the old deadline
  ASSERT_TRUE(net.run_for(1s));
  EXPECT_EQ(ticker.fired.size(), 10u);
  EXPECT_EQ(net.now() - kEpoch, 2s);
}

TEST(Network, RunUntilReportsWhetherTheConditionHeld) {
  Network net(test_seed(5));
  ScriptedNode alice(kAlice), bob(kBob);
  net.add_host(alice, kAlice);
  net.add_host(bob, kBob).set_access_link(LinkConfig{.delay = 50ms});
  alice.send_at(kEpoch + 100ms, kBob, bytes("x"));
  const RunResult early = net.run_until([&] { return !bob.received().empty(); }, 120ms);
  EXPECT_FALSE(early);
  EXPECT_EQ(early.stop, RunResult::Stop::time_limit);
  EXPECT_EQ(net.now() - kEpoch, 120ms);  // the clock reaches the deadline
  EXPECT_NE(early.message.find("seed=0x"), std::string::npos) << early;
  const RunResult late = net.run_until([&] { return !bob.received().empty(); }, 1s);
  EXPECT_TRUE(late) << late;
  EXPECT_EQ(late.stop, RunResult::Stop::predicate);
  EXPECT_EQ(net.now() - kEpoch, 150ms);  // stops at the event that satisfied it
}

// A broken node: always wants to be woken "now", or always has one more datagram.
class Livelock final : public Node {
 public:
  explicit Livelock(bool flood) : flood_(flood) {}
  void handle_datagram(Instant, const Datagram&) override {}
  std::optional<Datagram> poll_transmit(Instant) override {
    if (!flood_) return std::nullopt;
    return Datagram{{}, kBob, {1}};
  }
  std::optional<Instant> poll_timeout() override {
    return flood_ ? std::nullopt : std::optional(Instant{});
  }
  void handle_timeout(Instant) override {}

 private:
  bool flood_;
};

TEST(Network, LivelockHitsTheEventBoundAndTheMessageNamesTheSeed) {
  for (const bool flood : {false, true}) {
    Network net(0xfeedbeef12345678ULL);
    net.set_event_limit(20000);
    Livelock node(flood);
    ScriptedNode bob(kBob);
    net.add_host(node, kAlice);
    net.add_host(bob, kBob);
    const RunResult r = net.run_for(1s);
    EXPECT_FALSE(r);
    EXPECT_EQ(r.stop, RunResult::Stop::event_limit);
    EXPECT_NE(r.message.find("0xfeedbeef12345678"), std::string::npos) << r;
    EXPECT_NE(net.describe().find("0xfeedbeef12345678"), std::string::npos);
    std::ostringstream printed;
    printed << r;
    EXPECT_EQ(printed.str(), r.message);
    EXPECT_EQ(net.now(), kEpoch);  // time never moved: everything happened "now"
  }
}

// Many hosts and NATs exchanging over impaired links: a fingerprint of everything delivered.
std::uint64_t busy_run(std::uint64_t seed, std::uint64_t* delivered = nullptr) {
  Network net(seed);
  const LinkConfig rough{
      .delay = 10ms, .jitter = 8ms, .loss = 0.1, .duplicate = 0.05, .corrupt = 0.02};
  auto& nat = net.add_nat(NatConfig::full_cone(), ipv4(198, 51, 100, 1));
  nat.set_access_link(rough);
  const SocketAddress server_addr = SocketAddress::v4(203, 0, 113, 10, 7);
  ScriptedNode server(server_addr);
  server.echo();
  net.add_host(server, server_addr);
  std::vector<std::unique_ptr<ScriptedNode>> clients;
  for (std::uint8_t i = 0; i < 4; ++i) {
    const SocketAddress addr = SocketAddress::v4(10, 0, 0, static_cast<std::uint8_t>(2 + i), 4000);
    clients.push_back(std::make_unique<ScriptedNode>(addr));
    net.add_host(*clients.back(), addr, &nat).set_access_link(LinkConfig{.jitter = 3ms});
    clients.back()->send_series(kEpoch, 7ms, 200, server_addr, 64 + i);
  }
  EXPECT_TRUE(net.run_for(5s));
  if (delivered != nullptr) *delivered = net.delivered();
  return net.trace_hash();
}

TEST(Network, SameSeedReplaysIdenticallyAndOtherSeedsDiffer) {
  std::uint64_t delivered = 0;
  const std::uint64_t first = busy_run(11, &delivered);
  EXPECT_GT(delivered, 1000u);
  EXPECT_LT(delivered, 1600u);  // 800 sent, most echoed, some lost or duplicated
  EXPECT_EQ(busy_run(11), first);
  EXPECT_NE(busy_run(12), first);
  EXPECT_NE(busy_run(13), first);
}

TEST(Network, TestSeedComesFromTheEnvironmentWhenSet) {
  ::setenv("SRUDP_SIM_SEED", "0x2a", 1);
  EXPECT_EQ(test_seed(7), 42u);
  ::setenv("SRUDP_SIM_SEED", "not a number", 1);
  EXPECT_EQ(test_seed(7), 7u);
  ::unsetenv("SRUDP_SIM_SEED");
  EXPECT_EQ(test_seed(7), 7u);
}

TEST(Network, TapsCanModifyAndDropAndInjectionSpoofsSources) {
  Network net(test_seed(6));
  ScriptedNode alice(kAlice), bob(kBob);
  net.add_host(alice, kAlice);
  net.add_host(bob, kBob);
  const TapId mitm = net.add_tap(net.internet(), [](Instant, Datagram& d) {
    if (d.bytes == bytes("drop me")) return TapVerdict::drop;
    if (!d.bytes.empty()) d.bytes[0] = 'X';
    return TapVerdict::pass;
  });
  alice.send(kBob, bytes("hello"));
  alice.send(kBob, bytes("drop me"));
  ASSERT_TRUE(net.run_for(10ms));
  ASSERT_EQ(bob.received().size(), 1u);
  EXPECT_EQ(bob.received()[0].datagram.bytes, bytes("Xello"));
  EXPECT_EQ(net.drops()[DropCause::tap], 1u);

  net.remove_tap(mitm);
  const SocketAddress forged = SocketAddress::v4(192, 0, 2, 66, 53);
  net.inject(net.internet(), Datagram{forged, kBob, bytes("spoof")}, 5ms);
  ASSERT_TRUE(net.run_for(10ms));
  ASSERT_EQ(bob.received().size(), 2u);
  EXPECT_EQ(bob.received()[1].datagram.from, forged);
  EXPECT_EQ(bob.received()[1].datagram.bytes, bytes("spoof"));
  EXPECT_EQ(bob.received()[1].at - kEpoch, 15ms);
}

TEST(Network, WakeAndScheduleLetTestsActMidRun) {
  Network net(test_seed(7));
  ScriptedNode alice(kAlice), bob(kBob);
  net.add_host(alice, kAlice);
  net.add_host(bob, kBob);
  net.schedule(30ms, [&] {
    alice.send(kBob, bytes("late"));
    net.wake(alice);
  });
  ASSERT_TRUE(net.run_for(100ms));
  ASSERT_EQ(bob.received().size(), 1u);
  EXPECT_EQ(bob.received()[0].at - kEpoch, 30ms);
}

TEST(Network, TraceSinkSeesSendsDeliveriesAndDrops) {
  Network net(test_seed(8));
  ScriptedNode alice(kAlice), bob(kBob);
  net.add_host(alice, kAlice);
  net.add_host(bob, kBob).set_access_link(LinkConfig{.mtu = 100});
  std::vector<std::string> lines;
  net.set_trace([&](const TraceEvent& e) { lines.push_back(format(e)); });
  alice.send(kBob, bytes("ok"));
  alice.send(kBob, std::vector<std::uint8_t>(200, 0));
  ASSERT_TRUE(net.run_for(1ms));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("sent"), std::string::npos);
  EXPECT_NE(lines[2].find("dropped"), std::string::npos);
  EXPECT_NE(lines[2].find("too_big"), std::string::npos);
  EXPECT_NE(lines[3].find("delivered"), std::string::npos);
  EXPECT_NE(lines[3].find("203.0.113.1:4000 -> 203.0.113.2:5000 2B"), std::string::npos)
      << lines[3];
}

TEST(Network, EveryDropCauseHasItsOwnName) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kDropCauseCount; ++i) {
    const std::string_view name = to_string(static_cast<DropCause>(i));
    EXPECT_FALSE(name.empty());
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kDropCauseCount);
}

TEST(Network, RateLimitedPathDeliversAtLineRate) {
  Network net(test_seed(9));
  ScriptedNode alice(kAlice), bob(kBob);
  auto& a = net.add_host(alice, kAlice);
  net.add_host(bob, kBob);
  a.set_access_link(LinkConfig{.delay = 10ms}, LinkConfig{});
  net.set_link(a, *net.find_host(bob),
               LinkConfig{.rate_bps = 10'000'000, .queue_bytes = 20 * 1228});
  for (int i = 0; i < 30; ++i) alice.send(kBob, std::vector<std::uint8_t>(1200, 7));
  ASSERT_TRUE(net.run_for(1s));
  ASSERT_EQ(bob.received().size(), 20u);  // the queue holds 20 of the burst of 30
  for (std::size_t i = 0; i < bob.received().size(); ++i) {
    EXPECT_EQ(bob.received()[i].at - kEpoch, 10ms + static_cast<int>(i + 1) * 982'400ns);
  }
  EXPECT_EQ(net.drops()[DropCause::queue_overflow], 10u);
}

}  // namespace
}  // namespace srudp::sim
