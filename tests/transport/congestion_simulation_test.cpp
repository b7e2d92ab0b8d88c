// A crude, pure-arithmetic comparison of the congestion controllers on one bulk flow: an
// ACK-clocked sender over a 100 Mbit/s bottleneck with a 20 ms base RTT, a one-BDP drop-tail queue
// and seeded random loss. No sockets, no real time: a sanity check of the window dynamics, not a
// network model (no pacing, loss is detected exactly when its ACK would have arrived).
#include "transport/congestion_controller.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <deque>

#include "common/random.hpp"

namespace srudp::transport {
namespace {

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

}  // namespace
}  // namespace srudp::transport
