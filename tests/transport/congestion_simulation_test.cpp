// The congestion controllers compared on bulk flows, two ways:
// 1. A crude, pure-arithmetic model: an ACK-clocked sender over a 100 Mbit/s bottleneck with a
//    20 ms base RTT, a one-BDP drop-tail queue and seeded random loss. A sanity check of the
//    window dynamics of the loss-based controllers, not a network model (no pacing, loss is
//    detected exactly when its ACK would have arrived).
// 2. Whole transport::Connections through the network simulator (pacing, delayed ACKs, loss
//    detection, rate samples): goodput on lossy links, two flows sharing a bottleneck, and the
//    queue a flow keeps in a deep buffer. Transfers are checked byte for byte (SHA-256). Figures
//    are printed for the report; assertions are lower bounds with margin.
#include "transport/congestion_controller.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "common/random.hpp"
#include "common/sodium.hpp"
#include "sim/network.hpp"
#include "transport/test_data.hpp"
#include "transport/connection.hpp"
#include "transport/connection_node.hpp"
#include "stream/stream_id.hpp"

namespace srudp::transport {
namespace {

using test::pattern;
using test::sha256;

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::uint64_t kMss = 1200;
constexpr std::uint64_t kLinkBytesPerSec = 100'000'000 / 8;
constexpr Duration kBaseRtt = milliseconds(20);
constexpr Duration kSerialization = Duration(kMss * 1'000'000'000 / kLinkBytesPerSec);  // 96 us
constexpr Duration kMaxQueueDelay = kBaseRtt;  // buffer of one bandwidth-delay product
constexpr std::uint64_t kBdpPackets = kLinkBytesPerSec * 20 / 1000 / kMss;  // 208

struct SimulationResult {
  double average_cwnd_packets = 0;
  double goodput_mbit = 0;
  std::uint64_t congestion_events = 0;
};

struct InFlight {
  std::uint64_t pn;
  Instant sent;
  Instant ack_time;
  bool lost;
};

SimulationResult simulate(CongestionAlgorithm algorithm, std::uint32_t loss_per_100k,
                          std::uint64_t seed, Duration length) {
  const auto cc = make_congestion_controller(algorithm, kMss);
  SeededRandom random(seed);
  RttEstimator rtt;
  std::deque<InFlight> flight;
  std::uint64_t in_flight_bytes = 0;
  std::uint64_t next_pn = 0;
  std::uint64_t delivered = 0;
  Instant link_free{};
  const Instant start = Instant{} + seconds(1);
  Instant now = start;
  Instant last_event = start;
  double cwnd_time_integral = 0;  // packets * seconds
  SimulationResult result;

  auto send_allowed = [&] {
    while (in_flight_bytes + kMss <= cc->congestion_window()) {
      const Instant departure = std::max(now, link_free) + kSerialization;
      const bool tail_drop = departure - now > kMaxQueueDelay;
      if (!tail_drop) link_free = departure;
      const bool random_loss = random.uniform(100'000) < loss_per_100k;
      // A tail drop is noticed when the ACK of the packet queued just before it arrives, so ACK
      // (and loss) times stay in send order and the flight is a FIFO.
      flight.push_back(InFlight{next_pn++, now, link_free + kBaseRtt, tail_drop || random_loss});
      in_flight_bytes += kMss;
      cc->on_packet_sent(now, in_flight_bytes, kMss, true);
    }
  };

  send_allowed();
  while (now < start + length && !flight.empty()) {
    const InFlight packet = flight.front();
    flight.pop_front();
    now = packet.ack_time;
    cwnd_time_integral += static_cast<double>(cc->congestion_window()) / kMss *
                          std::chrono::duration<double>(now - last_event).count();
    last_event = now;
    in_flight_bytes -= kMss;
    if (packet.lost) {
      if (!cc->in_recovery(packet.sent)) ++result.congestion_events;
      cc->on_congestion_event(now, packet.sent, false, rtt);
    } else {
      rtt.update(now - packet.sent, Duration::zero(), now, true);
      cc->on_ack(now, AckedPacket{packet.pn, packet.sent, kMss, {}}, rtt, in_flight_bytes, false);
      delivered += kMss;
    }
    send_allowed();
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  result.average_cwnd_packets = cwnd_time_integral / elapsed;
  result.goodput_mbit = static_cast<double>(delivered) * 8 / elapsed / 1e6;
  return result;
}

void report(const char* label, const SimulationResult& r) {
  std::printf("  %-9s avg cwnd %7.1f packets  goodput %6.2f Mbit/s  congestion events %llu\n", label,
              r.average_cwnd_packets, r.goodput_mbit,
              static_cast<unsigned long long>(r.congestion_events));
}

TEST(CongestionSimulation, CubicIsNotWorseThanNewRenoAtOnePercentLoss) {
  std::printf("100 Mbit/s, 20 ms, 1%% random loss, 60 s (BDP %llu packets):\n",
              static_cast<unsigned long long>(kBdpPackets));
  const SimulationResult reno = simulate(CongestionAlgorithm::new_reno, 1000, 7, seconds(60));
  const SimulationResult cubic = simulate(CongestionAlgorithm::cubic, 1000, 7, seconds(60));
  report("new_reno", reno);
  report("cubic", cubic);
  // Both are far below the BDP: loss-limited. Reno's average window at loss rate p is about
  // sqrt(3 / (2p)) = 12.2 packets; CUBIC at 20 ms sits in its Reno-friendly region, which is
  // designed to match it. The window must not collapse nor exceed the path.
  EXPECT_GT(reno.average_cwnd_packets, 6.0);
  EXPECT_LT(reno.average_cwnd_packets, 25.0);
  EXPECT_GE(cubic.average_cwnd_packets, 0.95 * reno.average_cwnd_packets);
  EXPECT_GE(cubic.goodput_mbit, 0.95 * reno.goodput_mbit);
}

TEST(CongestionSimulation, LowLossPathIsFilledByBoth) {
  std::printf("100 Mbit/s, 20 ms, 0.01%% random loss, 60 s:\n");
  const SimulationResult reno = simulate(CongestionAlgorithm::new_reno, 10, 11, seconds(60));
  const SimulationResult cubic = simulate(CongestionAlgorithm::cubic, 10, 11, seconds(60));
  report("new_reno", reno);
  report("cubic", cubic);
  EXPECT_GE(cubic.goodput_mbit, 0.95 * reno.goodput_mbit);
  EXPECT_LE(cubic.goodput_mbit, 100.0);
  EXPECT_GT(cubic.goodput_mbit, 50.0);
}

// ---------------------------------------------------------------------------------------------
// Whole connections through the network simulator.

const SocketAddress kClient = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kServer = SocketAddress::v4(203, 0, 113, 2, 5000);

const char* label(CongestionAlgorithm algorithm) {
  switch (algorithm) {
    case CongestionAlgorithm::new_reno: return "new_reno";
    case CongestionAlgorithm::cubic: return "cubic";
    case CongestionAlgorithm::bbr: return "bbr";
  }
  return "?";
}

ConnectionConfig config_for(CongestionAlgorithm algorithm) {
  ConnectionConfig c;
  c.handshake.psk = test::psk_from(42);
  c.congestion = algorithm;
  return c;
}



// One end of a bulk flow: a client with `to_send` writes it on its first stream and finishes the
// stream; a server reads that stream (id 0) into `received`. With `two_way`, an end both sends and
// reads the stream the peer opened (`receive_stream`).
struct BulkApp {
  bool two_way = false;
  std::uint64_t receive_stream = 0;
  std::optional<Connection> conn;
  bool established = false;
  std::optional<Instant> established_at;
  std::optional<std::error_code> closed;

  std::span<const std::uint8_t> to_send;
  std::optional<std::uint64_t> stream;
  std::size_t written = 0;
  bool finished = false;

  std::vector<std::uint8_t> received;
  std::optional<Instant> done_at;

  void pump(Instant now) {
    if (!conn) return;
    while (auto e = conn->poll_event()) {
      if (e->kind == ConnectionEvent::Kind::established) {
        established = true;
        established_at = now;
      } else if (e->kind == ConnectionEvent::Kind::closed) {
        closed = e->error;
      }
    }
    if (!conn->is_established()) return;
    if (!to_send.empty()) {
      if (!stream) {
        if (auto id = conn->open_stream()) stream = *id;
      }
      if (stream && written < to_send.size()) {
        if (auto n = conn->stream_write(*stream, to_send.subspan(written))) written += *n;
      }
      if (stream && written == to_send.size() && !finished) finished = !conn->stream_finish(*stream);
      if (!two_way) return;
    }
    std::array<std::uint8_t, 16384> buf{};
    for (;;) {
      auto n = conn->stream_read(receive_stream, buf);
      if (!n || *n == 0) break;
      received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    if (!done_at && conn->stream_at_end(receive_stream)) done_at = now;
  }
};

using BulkNode = test::ConnectionNode<BulkApp>;

// What arrived is exactly a prefix of what was sent.
bool is_exact_prefix(std::span<const std::uint8_t> received, std::span<const std::uint8_t> sent) {
  return received.size() <= sent.size() && sha256(received) == sha256(sent.first(received.size()));
}

// The sender's smoothed RTT, sampled every 10 ms of virtual time from `from` on (the network must
// not run again once the sampler is gone).
class RttSampler {
 public:
  RttSampler(sim::Network& net, const Connection& conn, Duration from) : net_(net), conn_(conn) {
    net_.schedule(from, [this] { sample(); });
  }
  void stop() { stopped_ = true; }
  double mean_ms() const { return count_ == 0 ? 0 : sum_ms_ / static_cast<double>(count_); }

 private:
  void sample() {
    if (stopped_) return;
    const double ms = std::chrono::duration<double, std::milli>(conn_.stats().smoothed_rtt).count();
    sum_ms_ += ms;
    ++count_;
    net_.schedule(std::chrono::milliseconds(10), [this] { sample(); });
  }
  sim::Network& net_;
  const Connection& conn_;
  bool stopped_ = false;
  double sum_ms_ = 0;
  std::uint64_t count_ = 0;
};

struct FlowOutcome {
  bool completed = false;
  double goodput_bps = 0;  // bytes of the stream over the time from establishment to the last one
  double mean_srtt_ms = 0;
  double min_rtt_ms = 0;
  std::uint64_t lost = 0, sent = 0;
};

// The client sends `bytes` to the server over `forward` (ACKs come back over `backward`), byte-exact.
// The RTT is sampled from `rtt_from` after establishment on.
FlowOutcome run_flow(CongestionAlgorithm algorithm, std::uint64_t seed, const sim::LinkConfig& forward,
                     const sim::LinkConfig& backward, std::size_t bytes, Duration limit, Duration rtt_from) {
  test::ConnectionPair<BulkNode> t(sim::test_seed(seed), kClient, kServer, forward, backward, config_for(algorithm),
                                   config_for(algorithm));
  FlowOutcome out;
  if (!t.net.run_until([&] { return t.established(); }, seconds(5))) {
    ADD_FAILURE() << "no handshake " << t.net.describe();
    return out;
  }
  const auto data = pattern(bytes, t.net.seed() ^ 0x5eed);
  t.a.app.to_send = data;
  t.net.wake(t.a);
  RttSampler rtt(t.net, t.client(), rtt_from);
  const auto r = t.net.run_until([&] { return t.b.app.done_at || t.a.app.closed || t.b.app.closed; }, limit);
  rtt.stop();
  if (!r || !t.b.app.done_at) {
    ADD_FAILURE() << label(algorithm) << " transfer did not complete: " << r << " received "
                  << t.b.app.received.size() << " of " << bytes;
    return out;
  }
  EXPECT_EQ(t.b.app.received.size(), data.size()) << t.net.describe();
  EXPECT_EQ(sha256(t.b.app.received), sha256(data)) << t.net.describe();
  out.completed = t.b.app.received.size() == data.size();
  const double secs = std::chrono::duration<double>(*t.b.app.done_at - *t.a.app.established_at).count();
  out.goodput_bps = static_cast<double>(bytes) * 8 / secs;
  out.mean_srtt_ms = rtt.mean_ms();
  const ConnectionStats stats = t.client().stats();
  out.min_rtt_ms = std::chrono::duration<double, std::milli>(stats.min_rtt).count();
  out.lost = stats.packets_lost;
  out.sent = stats.packets_sent;
  return out;
}

// A rate-limited, lossy path: `rate_bps` with a `queue_bytes` tail-drop queue, then `loss`, then
// `one_way` of delay. The reverse path only has the delay.
sim::LinkConfig bottleneck(std::uint64_t rate_bps, std::size_t queue_bytes, Duration one_way, double loss) {
  sim::LinkConfig l;
  l.rate_bps = rate_bps;
  l.queue_bytes = queue_bytes;
  l.delay = one_way;
  l.loss = loss;
  return l;
}

sim::LinkConfig delay_only(Duration one_way) {
  sim::LinkConfig l;
  l.delay = one_way;
  return l;
}

void print_flow(CongestionAlgorithm algorithm, const char* what, double link_bps, const FlowOutcome& o) {
  std::printf("  %-8s %-22s goodput %7.2f Mbit/s (%5.1f%% of the link)  srtt %6.1f ms (min %5.1f)  lost %llu/%llu\n",
              label(algorithm), what, o.goodput_bps / 1e6, 100 * o.goodput_bps / link_bps, o.mean_srtt_ms,
              o.min_rtt_ms, static_cast<unsigned long long>(o.lost), static_cast<unsigned long long>(o.sent));
}

// Issue 3: 10 Mbit/s, 20 ms RTT, 1% loss reaches 70% of the link. Loss-based control cannot do it
// reliably (CUBIC's Reno-friendly equilibrium at 1% loss is below this path's BDP); BBR must, for
// every seed. The buffer is the simulator's default 64 KiB (about 2.6 BDP).
TEST(CongestionSimulation, BbrReachesSeventyPercentOfALossyTenMegabitLink) {
  const auto forward = bottleneck(10'000'000, 64 * 1024, milliseconds(10), 0.01);
  for (std::uint64_t seed : {21u, 101u, 102u, 103u, 104u}) {
    SCOPED_TRACE(seed);
    std::printf("seed %llu, 10 Mbit/s, 20 ms RTT, 1%% loss:\n", static_cast<unsigned long long>(seed));
    for (auto algorithm : {CongestionAlgorithm::cubic, CongestionAlgorithm::bbr}) {
      const FlowOutcome o = run_flow(algorithm, seed, forward, delay_only(milliseconds(10)), 4 << 20, seconds(60),
                                     seconds(1));
      print_flow(algorithm, "", 10e6, o);
      if (algorithm == CongestionAlgorithm::bbr) {
        EXPECT_TRUE(o.completed);
        EXPECT_GE(o.goodput_bps, 0.70 * 10e6);
      }
    }
  }
}

// Both ends send 4 MiB at once through a 10 Mbit/s bottleneck each way with about 50 ms of
// buffer, like the tbf of the NAT lab's rate_10mbit: each direction's ACKs wait in the queue
// behind the other direction's data, so the RTT a flow sees is mostly the other flow's queue.
TEST(CongestionSimulation, TwoWayBulkOnATenMegabitLink) {
  const std::size_t bytes = 4 << 20;
  const auto link = bottleneck(10'000'000, 64 * 1024, std::chrono::microseconds(500), 0.0);
  for (std::uint64_t seed : {31u, 32u, 33u}) {
    SCOPED_TRACE(seed);
    std::printf("seed %llu, 10 Mbit/s each way, 1 ms RTT, 64 KiB queues, 4 MiB each way at once:\n",
                static_cast<unsigned long long>(seed));
    for (auto algorithm : {CongestionAlgorithm::cubic, CongestionAlgorithm::bbr}) {
      test::ConnectionPair<BulkNode> t(sim::test_seed(seed), kClient, kServer, link, link, config_for(algorithm),
                                       config_for(algorithm));
      ASSERT_TRUE(t.net.run_until([&] { return t.established(); }, seconds(5))) << t.net.describe();
      const auto a_data = pattern(bytes, t.net.seed() ^ 0xa);
      const auto b_data = pattern(bytes, t.net.seed() ^ 0xb);
      t.a.app.to_send = a_data;
      t.b.app.to_send = b_data;
      t.a.app.two_way = t.b.app.two_way = true;
      t.a.app.receive_stream = stream::make_stream_id(0, stream::Role::server, stream::StreamDirection::bidirectional);
      t.b.app.receive_stream = 0;
      const Instant start = t.net.now();
      t.net.wake(t.a);
      t.net.wake(t.b);
      ASSERT_TRUE(t.net.run_until([&] { return t.a.app.done_at && t.b.app.done_at; }, seconds(30)))
          << t.net.describe();
      EXPECT_EQ(sha256(t.b.app.received), sha256(a_data));
      EXPECT_EQ(sha256(t.a.app.received), sha256(b_data));
      for (const auto* end : {&t.b, &t.a}) {
        const double secs = std::chrono::duration<double>(*end->app.done_at - start).count();
        const double bps = static_cast<double>(bytes) * 8 / secs;
        const ConnectionStats stats = (end == &t.b ? t.client() : t.server()).stats();
        std::printf("  %-8s %s goodput %5.2f Mbit/s (%5.1f%% of the link)  sender srtt %5.1f ms (min %4.1f)  cwnd %llu lost %llu/%llu\n",
                    label(algorithm), end == &t.b ? "a->b" : "b->a", bps / 1e6, 100 * bps / 10e6,
                    std::chrono::duration<double, std::milli>(stats.smoothed_rtt).count(),
                    std::chrono::duration<double, std::milli>(stats.min_rtt).count(),
                    static_cast<unsigned long long>(stats.congestion_window),
                    static_cast<unsigned long long>(stats.packets_lost),
                    static_cast<unsigned long long>(stats.packets_sent));
        // Payload can use at most about 95% of the link. CUBIC fills both queues and gets that
        // each way. BBR keeps its queue short, but the RTT a flow sees is mostly the other's queue
        // (about 20 ms against a 3 ms minimum), and one direction ends 85-88% (see PERFORMANCE.md).
        EXPECT_GE(bps, (algorithm == CongestionAlgorithm::cubic ? 0.90 : 0.80) * 10e6);
      }
    }
  }
}

// Issue 7 asks for goodput above KCP and quinn at 1% loss, and at least TCP's at 5% loss, on
// 100 Mbit/s. A table of both controllers; lower bounds for BBR only (CUBIC is loss-limited far
// below the link at 1% and more). One BDP of buffer.
TEST(CongestionSimulation, HundredMegabitTableAcrossLossRates) {
  const std::size_t bdp = 100'000'000 / 8 * 20 / 1000;
  std::printf("100 Mbit/s, 20 ms RTT, %zu-byte queue, 8 MiB:\n", bdp);
  for (double loss : {0.0, 0.01, 0.05, 0.10}) {
    SCOPED_TRACE(loss);
    const auto forward = bottleneck(100'000'000, bdp, milliseconds(10), loss);
    char what[32];
    std::snprintf(what, sizeof what, "loss %4.1f%%", loss * 100);
    for (auto algorithm : {CongestionAlgorithm::cubic, CongestionAlgorithm::bbr}) {
      const FlowOutcome o = run_flow(algorithm, 22, forward, delay_only(milliseconds(10)), 8 << 20, seconds(300),
                                     milliseconds(300));
      print_flow(algorithm, what, 100e6, o);
      if (algorithm != CongestionAlgorithm::bbr) continue;
      EXPECT_TRUE(o.completed);
      // Random loss costs BBR its retransmissions, not its rate: about the loss fraction, plus
      // startup, which weighs a lot in a transfer of under a second.
      EXPECT_GE(o.goodput_bps, (0.70 - 2 * loss) * 100e6);
    }
  }
}

// BBR keeps about one BDP in flight, so a deep buffer stays nearly empty: the mean RTT after
// startup stays well below twice the propagation delay. CUBIC fills the buffer (printed only).
TEST(CongestionSimulation, BbrKeepsTheQueueShortInADeepBuffer) {
  const auto forward = bottleneck(10'000'000, 1 << 20, milliseconds(10), 0.0);  // 0.84 s of buffer
  std::printf("10 Mbit/s, 20 ms RTT, 1 MiB queue, 6 MiB:\n");
  for (auto algorithm : {CongestionAlgorithm::cubic, CongestionAlgorithm::bbr}) {
    const FlowOutcome o = run_flow(algorithm, 31, forward, delay_only(milliseconds(10)), 6 << 20, seconds(60),
                                     seconds(2));  // after startup: the queue a flow keeps, not the one it starts with
    print_flow(algorithm, "deep buffer", 10e6, o);
    if (algorithm != CongestionAlgorithm::bbr) continue;
    EXPECT_TRUE(o.completed);
    EXPECT_GT(o.mean_srtt_ms, 0);
    EXPECT_LT(o.mean_srtt_ms, 2 * o.min_rtt_ms);
    EXPECT_GE(o.goodput_bps, 0.8 * 10e6);
  }
}

// Two flows from two senders behind one router whose uplink is the bottleneck, to two receivers
// 20 ms (RTT) away. Both start together; their goodput is compared over a window after startup.
struct SharedBottleneck {
  static constexpr std::uint64_t kRateBps = 10'000'000;

  static SocketAddress sender_address(std::size_t i) {
    return SocketAddress::v4(10, 0, 0, static_cast<std::uint8_t>(2 + i), 4000);
  }
  static SocketAddress receiver_address(std::size_t i) {
    return SocketAddress::v4(203, 0, 113, static_cast<std::uint8_t>(2 + i), 5000);
  }

  SharedBottleneck(std::uint64_t seed, std::size_t queue_bytes, CongestionAlgorithm first,
                   CongestionAlgorithm second)
      : net(sim::test_seed(seed)),
        rng(net.seed()),
        senders{BulkNode(sender_address(0), rng), BulkNode(sender_address(1), rng)},
        receivers{BulkNode(receiver_address(0), rng), BulkNode(receiver_address(1), rng)} {
    auto& router = net.add_nat(sim::NatConfig::full_cone(), sim::ipv4(198, 51, 100, 1));
    sim::LinkConfig up;
    up.rate_bps = kRateBps;
    up.queue_bytes = queue_bytes;
    router.set_access_link(up, sim::LinkConfig{});
    const CongestionAlgorithm algorithms[2] = {first, second};
    for (std::size_t i = 0; i < 2; ++i) {
      net.add_host(senders[i], sender_address(i), &router);
      auto& receiver = net.add_host(receivers[i], receiver_address(i));
      net.set_link(router, receiver, delay_only(milliseconds(10)));
      receivers[i].listen(config_for(algorithms[i]));
      senders[i].connect(config_for(algorithms[i]), receiver.address(), net.now());
      data[i] = pattern(kBytesPerFlow, net.seed() + i);
    }
  }

  // Goodput of each flow in bits/s over `measure`, after `warmup` from the establishment of both.
  std::array<double, 2> run(Duration warmup, Duration measure) {
    if (!net.run_until([&] { return receivers[0].app.established && receivers[1].app.established &&
                                    senders[0].app.established && senders[1].app.established; },
                       seconds(5))) {
      ADD_FAILURE() << "no handshake " << net.describe();
      return {};
    }
    for (std::size_t i = 0; i < 2; ++i) {
      senders[i].app.to_send = data[i];
      net.wake(senders[i]);
    }
    EXPECT_TRUE(net.run_for(warmup)) << net.describe();
    const std::size_t before[2] = {receivers[0].app.received.size(), receivers[1].app.received.size()};
    EXPECT_TRUE(net.run_for(measure)) << net.describe();
    std::array<double, 2> goodput{};
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_FALSE(receivers[i].app.done_at) << "flow " << i << " ran out of data: make kBytesPerFlow larger";
      EXPECT_TRUE(is_exact_prefix(receivers[i].app.received, data[i])) << "flow " << i << " " << net.describe();
      goodput[i] = static_cast<double>(receivers[i].app.received.size() - before[i]) * 8 /
                   std::chrono::duration<double>(measure).count();
    }
    return goodput;
  }

  static constexpr std::size_t kBytesPerFlow = 28 << 20;  // more than the link carries in the test
  sim::Network net;
  SeededRandom rng;
  std::array<BulkNode, 2> senders;
  std::array<BulkNode, 2> receivers;
  std::array<std::vector<std::uint8_t>, 2> data;
};

void print_shares(const char* what, CongestionAlgorithm first, CongestionAlgorithm second,
                  const std::array<double, 2>& goodput) {
  const double link = static_cast<double>(SharedBottleneck::kRateBps);
  std::printf("  %-26s %-8s %6.2f Mbit/s (%4.1f%%)   %-8s %6.2f Mbit/s (%4.1f%%)\n", what, label(first),
              goodput[0] / 1e6, 100 * goodput[0] / link, label(second), goodput[1] / 1e6, 100 * goodput[1] / link);
}

// BBR v1 flows that fill a buffer deeper than a BDP become window-limited with a standing queue,
// and then keep whatever split they left startup with until the next probe_rtt (every 10 s)
// drains the queue and both re-measure: the window spans two of those.
TEST(CongestionSimulation, TwoBbrFlowsShareABottleneck) {
  std::printf("two flows, 10 Mbit/s bottleneck, 20 ms RTT, 64 KiB queue, 20 s after 2 s:\n");
  SharedBottleneck t(41, 64 * 1024, CongestionAlgorithm::bbr, CongestionAlgorithm::bbr);
  const auto goodput = t.run(seconds(2), seconds(20));
  print_shares("bbr + bbr", CongestionAlgorithm::bbr, CongestionAlgorithm::bbr, goodput);
  const double link = static_cast<double>(SharedBottleneck::kRateBps);
  EXPECT_GT(goodput[0], 0.25 * link);
  EXPECT_GT(goodput[1], 0.25 * link);
  EXPECT_GT(goodput[0] + goodput[1], 0.8 * link);  // and together they use the link
}

// BBR v1 ignores loss, so it does not yield to CUBIC in a shallow buffer (at 32 KiB, 1.3 BDP,
// CUBIC gets 5-8%: printed, not asserted); in the default 64 KiB buffer the shares swing with
// BBR's probe_rtt period but CUBIC keeps a real part of the link.
TEST(CongestionSimulation, BbrBesideCubicLeavesCubicAShare) {
  std::printf("two flows, 10 Mbit/s bottleneck, 20 ms RTT, 14 s after 2 s:\n");
  for (std::size_t queue : {std::size_t{32 * 1024}, std::size_t{64 * 1024}}) {
    SCOPED_TRACE(queue);
    SharedBottleneck t(42, queue, CongestionAlgorithm::bbr, CongestionAlgorithm::cubic);
    const auto goodput = t.run(seconds(2), seconds(14));
    char what[64];
    std::snprintf(what, sizeof what, "bbr + cubic, %3zu KiB queue", queue / 1024);
    print_shares(what, CongestionAlgorithm::bbr, CongestionAlgorithm::cubic, goodput);
    if (queue >= 64 * 1024) {
      EXPECT_GT(goodput[1], 0.10 * static_cast<double>(SharedBottleneck::kRateBps));
    }
  }
}

}  // namespace
}  // namespace srudp::transport
