// transport::Connection's streams and datagrams through the network simulator: priorities and
// round-robin, unidirectional streams, reset and STOP_SENDING both ways, the stream limit and its
// credit, datagrams under congestion, flow-control windows on a long fat path, and the return to
// the last validated path when a new one fails validation.
#include "transport/connection.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "common/sodium.hpp"
#include "sim/network.hpp"
#include "transport/test_data.hpp"
#include "transport/connection_node.hpp"

namespace srudp::transport {
namespace {

using test::pattern;
using test::sha256;

using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = ConnectionEvent::Kind;

const SocketAddress kA = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kB = SocketAddress::v4(203, 0, 113, 2, 5000);
const SocketAddress kM = SocketAddress::v4(192, 0, 2, 66, 6000);

ConnectionConfig base_config() {
  ConnectionConfig c;
  c.handshake.psk = test::psk_from(42);
  return c;
}



double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// The application on one side: writes what it is given on the streams it is given, reads every
// stream it knows of, and records events, read results and when each stream's end was read.
struct StreamApp {
  struct Outgoing {
    std::vector<std::uint8_t> data;
    std::size_t written = 0;
    bool fin = true;
    bool finished = false;
    std::optional<std::error_code> error;  // the last write error
  };

  std::optional<Connection> conn;
  bool established = false;
  std::optional<std::error_code> closed;
  std::vector<ConnectionEvent> events;
  std::set<std::uint64_t> known;  // streams to read
  std::set<std::uint64_t> ours;   // streams we opened
  std::map<std::uint64_t, Outgoing> outgoing;
  std::map<std::uint64_t, std::vector<std::uint8_t>> received;
  std::map<std::uint64_t, Instant> ended_at;
  std::map<std::uint64_t, std::error_code> read_errors;
  std::vector<std::pair<Instant, std::vector<std::uint8_t>>> datagrams;
  bool reading = true;
  bool finish_peer_streams = false;  // answer the end of a peer's bidirectional stream with ours
  std::function<void(Instant)> hook;

  Result<std::uint64_t> open(std::vector<std::uint8_t> data, StreamDirection d = StreamDirection::bidirectional,
                             bool fin = true) {
    auto id = conn->open_stream(d);
    if (!id) return id;
    outgoing[*id] = Outgoing{std::move(data), 0, fin, false, std::nullopt};
    ours.insert(*id);
    if (d == StreamDirection::bidirectional) known.insert(*id);
    return id;
  }
  bool saw(Kind kind, std::uint64_t id, std::uint64_t code = 0) const {
    for (const auto& e : events) {
      if (e.kind == kind && e.stream_id == id && e.application_error == code) return true;
    }
    return false;
  }

  void pump(Instant now) {
    if (!conn) return;
    while (auto e = conn->poll_event()) {
      if (e->kind == Kind::established) established = true;
      if (e->kind == Kind::closed) closed = e->error;
      if (e->kind == Kind::stream_opened) known.insert(e->stream_id);
      if (e->kind == Kind::datagram) {
        datagrams.emplace_back(now, std::move(e->data));
        continue;
      }
      events.push_back(std::move(*e));
    }
    if (!conn->is_established()) return;
    for (auto& [id, o] : outgoing) {
      if (o.written < o.data.size()) {
        auto n = conn->stream_write(id, std::span(o.data).subspan(o.written));
        if (n) {
          o.written += *n;
        } else {
          o.error = n.error();
        }
      }
      if (o.written == o.data.size() && o.fin && !o.finished) o.finished = !conn->stream_finish(id);
    }
    if (reading) read_all(now);
    if (hook) hook(now);
  }

  void read_all(Instant now) {
    std::array<std::uint8_t, 16384> buf{};
    for (std::uint64_t id : known) {
      bool failed = false;
      while (true) {
        auto n = conn->stream_read(id, buf);
        if (!n) {
          read_errors[id] = n.error();
          failed = true;
          break;
        }
        if (*n == 0) break;
        auto& r = received[id];
        r.insert(r.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
      }
      const bool at_end = conn->stream_at_end(id);
      if (at_end && !failed && !ended_at.count(id)) ended_at[id] = now;
      // The peer's half is over (ended, reset, or stopped by us): close ours too, so it retires.
      if ((at_end || failed) && finish_peer_streams && !ours.count(id) && !outgoing.count(id) && (id & 2) == 0) {
        outgoing[id] = Outgoing{{}, 0, true, false, std::nullopt};
      }
    }
  }
};

using Node = test::ConnectionNode<StreamApp>;

struct Pair : test::ConnectionPair<Node> {
  Pair(std::uint64_t seed, const sim::LinkConfig& a_to_b, const sim::LinkConfig& b_to_a,
       ConnectionConfig a_config = base_config(), ConnectionConfig b_config = base_config())
      : ConnectionPair(sim::test_seed(seed), kA, kB, a_to_b, b_to_a, std::move(a_config), std::move(b_config)) {}
  void establish() {
    auto r = net.run_until([&] { return established(); }, seconds(5));
    ASSERT_TRUE(r) << r;
  }
  void wake() {
    net.wake(a);
    net.wake(b);
  }
};

sim::LinkConfig link(Duration one_way, std::uint64_t rate_bps = 0, std::size_t queue = 64 * 1024) {
  sim::LinkConfig l;
  l.delay = one_way;
  l.rate_bps = rate_bps;
  l.queue_bytes = queue;
  return l;
}

TEST(StreamsOverConnection, UrgentMessageOvertakesABulkTransfer) {
  // 10 Mbit/s, 20 ms RTT, 64 KiB of bottleneck buffer (52 ms): 2 MB take about 1.7 s.
  Pair t(101, link(milliseconds(10), 10'000'000), link(milliseconds(10)));
  SCOPED_TRACE(t.net.describe());
  t.establish();
  const auto bulk = pattern(2 << 20, 1);
  const std::uint64_t bulk_id = *t.a.app.open(bulk);
  ASSERT_TRUE(t.net.run_for(milliseconds(300)));
  ASSERT_FALSE(t.b.app.ended_at.count(bulk_id));
  const Instant written = t.net.now();
  const auto message = pattern(200, 2);
  const std::uint64_t urgent = *t.a.app.open(message);
  ASSERT_FALSE(t.client().set_stream_priority(urgent, 0));
  t.wake();
  auto r = t.net.run_until([&] { return t.b.app.ended_at.count(bulk_id) > 0; }, seconds(30));
  ASSERT_TRUE(r) << r;
  ASSERT_TRUE(t.b.app.ended_at.count(urgent));
  const Duration latency = t.b.app.ended_at[urgent] - written;
  const Duration bulk_rest = t.b.app.ended_at[bulk_id] - written;
  std::printf("  urgent 200 B during a 2 MB transfer: %.1f ms (srtt %.1f ms); bulk finished %.1f ms later\n",
              ms(latency), ms(t.client().stats().smoothed_rtt), ms(bulk_rest));
  EXPECT_EQ(t.b.app.received[urgent], message);
  EXPECT_EQ(sha256(t.b.app.received[bulk_id]), sha256(bulk));
  // A few RTTs: one-way delay plus the bottleneck queue the bulk keeps full, far from the bulk's end.
  EXPECT_LT(latency, milliseconds(200));
  EXPECT_LT(latency * 5, bulk_rest);
}

TEST(StreamsOverConnection, LowerUrgencyValueIsServedFirst) {
  Pair t(102, link(milliseconds(10), 10'000'000), link(milliseconds(10)));
  t.establish();
  const auto low = pattern(1 << 20, 3), high = pattern(1 << 20, 4);
  const std::uint64_t low_id = *t.a.app.open(low);
  const std::uint64_t high_id = *t.a.app.open(high);
  ASSERT_FALSE(t.client().set_stream_priority(low_id, 7));
  ASSERT_FALSE(t.client().set_stream_priority(high_id, 0));
  EXPECT_EQ(t.client().set_stream_priority(high_id, 8), errc::invalid_argument);
  std::size_t low_when_high_done = 0;
  t.b.app.hook = [&](Instant) {
    if (t.b.app.ended_at.count(high_id) && low_when_high_done == 0) {
      low_when_high_done = t.b.app.received[low_id].size() + 1;
    }
  };
  t.wake();
  auto r = t.net.run_until([&] { return t.b.app.ended_at.count(low_id) > 0; }, seconds(30));
  ASSERT_TRUE(r) << r;
  EXPECT_EQ(sha256(t.b.app.received[low_id]), sha256(low));
  EXPECT_EQ(sha256(t.b.app.received[high_id]), sha256(high));
  EXPECT_LT(t.b.app.ended_at[high_id], t.b.app.ended_at[low_id]);
  std::printf("  urgency 7 stream had %zu of 1 MiB when the urgency 0 one completed\n", low_when_high_done - 1);
  // Only what was sent after the urgent stream ran dry (about one window in flight) got through.
  EXPECT_LT(low_when_high_done, std::size_t{200 * 1024});
}

TEST(StreamsOverConnection, EqualUrgencyStreamsProgressTogether) {
  Pair t(103, link(milliseconds(10), 10'000'000), link(milliseconds(10)));
  t.establish();
  const auto one = pattern(1 << 20, 5), two = pattern(1 << 20, 6);
  const std::uint64_t id1 = *t.a.app.open(one);
  const std::uint64_t id2 = *t.a.app.open(two);
  std::optional<std::size_t> other_at_first_end;
  t.b.app.hook = [&](Instant) {
    if (!other_at_first_end && (t.b.app.ended_at.count(id1) || t.b.app.ended_at.count(id2))) {
      other_at_first_end = std::min(t.b.app.received[id1].size(), t.b.app.received[id2].size());
    }
  };
  t.wake();
  auto r = t.net.run_until([&] { return t.b.app.ended_at.count(id1) && t.b.app.ended_at.count(id2); }, seconds(30));
  ASSERT_TRUE(r) << r;
  EXPECT_EQ(sha256(t.b.app.received[id1]), sha256(one));
  EXPECT_EQ(sha256(t.b.app.received[id2]), sha256(two));
  ASSERT_TRUE(other_at_first_end);
  std::printf("  when the first of two 1 MiB streams ended, the other had %zu bytes\n", *other_at_first_end);
  EXPECT_GT(*other_at_first_end, std::size_t{900 * 1024});
}

TEST(StreamsOverConnection, UnidirectionalStreamsBothWays) {
  Pair t(104, link(milliseconds(10)), link(milliseconds(10)));
  t.establish();
  const auto up = pattern(300'000, 7), down = pattern(200'000, 8);
  const std::uint64_t up_id = *t.a.app.open(up, StreamDirection::unidirectional);
  const std::uint64_t down_id = *t.b.app.open(down, StreamDirection::unidirectional);
  EXPECT_EQ(up_id, 2u);    // client, unidirectional
  EXPECT_EQ(down_id, 3u);  // server, unidirectional
  t.wake();
  auto r = t.net.run_until([&] { return t.b.app.ended_at.count(up_id) && t.a.app.ended_at.count(down_id); },
                           seconds(10));
  ASSERT_TRUE(r) << r;
  EXPECT_EQ(sha256(t.b.app.received[up_id]), sha256(up));
  EXPECT_EQ(sha256(t.a.app.received[down_id]), sha256(down));
  EXPECT_TRUE(t.b.app.saw(Kind::stream_opened, up_id));
  // Only the opener writes, only the peer reads.
  std::array<std::uint8_t, 8> buf{};
  EXPECT_EQ(t.server().stream_write(up_id, buf).error(), errc::invalid_state);
  EXPECT_EQ(t.client().stream_read(up_id, buf).error(), errc::invalid_state);
  EXPECT_EQ(t.client().stream_write(down_id, buf).error(), errc::invalid_state);
  EXPECT_EQ(t.server().stream_read(down_id, buf).error(), errc::invalid_state);
  ASSERT_TRUE(t.net.run_for(milliseconds(200)));  // the last acknowledgements
  EXPECT_EQ(t.client().stats().open_streams, 0u);
  EXPECT_EQ(t.server().stats().open_streams, 0u);
}

// `sender` opens two streams to `receiver` and resets one; `receiver` stops a third one.
void reset_and_stop_sending(Pair& t, Node& sender, Node& receiver) {
  const auto fine = pattern(100'000, 9);
  const std::uint64_t doomed = *sender.app.open(pattern(1 << 20, 10));
  const std::uint64_t ok = *sender.app.open(fine);
  const std::uint64_t stopped = *sender.app.open(pattern(1 << 20, 11));
  receiver.app.finish_peer_streams = true;
  sender.app.finish_peer_streams = true;
  t.wake();
  ASSERT_TRUE(t.net.run_for(milliseconds(100)));
  Connection& s = *sender.app.conn;
  Connection& r = *receiver.app.conn;
  ASSERT_FALSE(s.stream_reset(doomed, 7));
  EXPECT_EQ(s.stream_write(doomed, fine).error(), errc::stream_stopped);
  ASSERT_FALSE(r.stream_stop_sending(stopped, 9));
  std::array<std::uint8_t, 8> buf{};
  EXPECT_EQ(r.stream_read(stopped, buf).error(), errc::stream_stopped);
  t.wake();
  auto run = t.net.run_until(
      [&] { return receiver.app.saw(Kind::stream_reset, doomed, 7) && sender.app.saw(Kind::stream_stopped, stopped, 9) &&
                   receiver.app.ended_at.count(ok); },
      seconds(10));
  ASSERT_TRUE(run) << run;
  EXPECT_EQ(receiver.app.read_errors[doomed], errc::stream_reset);
  EXPECT_EQ(s.stream_write(stopped, fine).error(), errc::stream_stopped);
  EXPECT_EQ(sha256(receiver.app.received[ok]), sha256(fine));  // the other stream is unaffected
  EXPECT_LT(receiver.app.received[doomed].size(), std::size_t{1} << 20);
  // Everyone finishes their remaining halves: all streams retire, the connection stays up.
  ASSERT_TRUE(t.net.run_for(seconds(1)));
  EXPECT_TRUE(s.is_established());
  EXPECT_TRUE(r.is_established());
  EXPECT_EQ(s.stats().open_streams, 0u);
  EXPECT_EQ(r.stats().open_streams, 0u);
  const auto after = pattern(5000, 12);
  const std::uint64_t again = *sender.app.open(after);
  t.wake();
  ASSERT_TRUE(t.net.run_until([&] { return receiver.app.ended_at.count(again) > 0; }, seconds(2)));
  EXPECT_EQ(receiver.app.received[again], after);
}

TEST(StreamsOverConnection, ResetAndStopSendingFromTheClient) {
  Pair t(105, link(milliseconds(10), 20'000'000), link(milliseconds(10)));
  t.establish();
  reset_and_stop_sending(t, t.a, t.b);
}

TEST(StreamsOverConnection, ResetAndStopSendingFromTheServer) {
  Pair t(106, link(milliseconds(10)), link(milliseconds(10), 20'000'000));
  t.establish();
  reset_and_stop_sending(t, t.b, t.a);
}

TEST(StreamsOverConnection, StreamLimitRefusesCheaplyAndFinishedStreamsReturnCredit) {
  ConnectionConfig b = base_config();
  b.max_streams = 4;
  Pair t(107, link(milliseconds(10)), link(milliseconds(10)), base_config(), std::move(b));
  t.establish();
  t.b.app.finish_peer_streams = true;
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(*t.a.app.open(pattern(1000, 20 + static_cast<std::uint64_t>(i)), StreamDirection::bidirectional, false));
  EXPECT_EQ(t.client().open_stream().error(), errc::stream_limit_reached);
  const auto before = t.client().stats();
  for (int i = 0; i < 100'000; ++i) {
    ASSERT_EQ(t.client().open_stream().error(), errc::stream_limit_reached);
  }
  const auto after = t.client().stats();
  EXPECT_EQ(after.open_streams, 4u);
  EXPECT_EQ(after.buffered_bytes, before.buffered_bytes);
  EXPECT_EQ(after.open_streams, before.open_streams);
  // Unidirectional streams have their own limit.
  EXPECT_TRUE(t.client().open_stream(StreamDirection::unidirectional));
  t.wake();
  ASSERT_TRUE(t.net.run_for(milliseconds(200)));
  EXPECT_FALSE(t.a.app.saw(Kind::streams_available, 0));  // nothing finished yet
  // Finishing two streams (both sides) returns two slots.
  for (int i = 0; i < 2; ++i) t.a.app.outgoing[ids[static_cast<std::size_t>(i)]].fin = true;
  t.wake();
  auto r = t.net.run_until([&] { return t.a.app.saw(Kind::streams_available, 0); }, seconds(5));
  ASSERT_TRUE(r) << r;
  EXPECT_TRUE(t.client().open_stream());
  EXPECT_TRUE(t.client().open_stream());
  EXPECT_EQ(t.client().open_stream().error(), errc::stream_limit_reached);
  EXPECT_EQ(t.server().stats().open_streams, 2u);  // the unfinished ones (the unidirectional one carried nothing)
}

TEST(StreamsOverConnection, DatagramsUnderCongestionAreDroppedNotQueued) {
  // 4 Mbit/s of 1000-byte datagrams into a 1 Mbit/s bottleneck for 3 s.
  Pair t(108, link(milliseconds(10), 1'000'000, 16 * 1024), link(milliseconds(10)));
  SCOPED_TRACE(t.net.describe());
  t.establish();
  constexpr int kCount = 1500;
  int offered = 0;
  std::size_t max_queued = 0;
  std::function<void()> send_one = [&] {
    std::vector<std::uint8_t> d(1000, 0);
    const std::uint32_t seq = static_cast<std::uint32_t>(offered);
    const std::int64_t sent_ns = t.net.now().time_since_epoch().count();
    std::memcpy(d.data(), &seq, sizeof seq);
    std::memcpy(d.data() + 4, &sent_ns, sizeof sent_ns);
    ASSERT_FALSE(t.client().send_datagram(d));
    ++offered;
    max_queued = std::max<std::size_t>(max_queued, t.client().stats().datagrams_queued);
    t.net.wake(t.a);
    if (offered < kCount) t.net.schedule(milliseconds(2), send_one);
  };
  send_one();
  ASSERT_TRUE(t.net.run_for(seconds(4)));
  const auto stats = t.client().stats();
  std::set<std::uint32_t> seen;
  Duration oldest{};
  for (const auto& [at, d] : t.b.app.datagrams) {
    std::uint32_t seq = 0;
    std::int64_t sent_ns = 0;
    std::memcpy(&seq, d.data(), sizeof seq);
    std::memcpy(&sent_ns, d.data() + 4, sizeof sent_ns);
    EXPECT_TRUE(seen.insert(seq).second) << "datagram " << seq << " delivered twice";
    oldest = std::max(oldest, at.time_since_epoch() - Duration(sent_ns));
  }
  std::printf("  datagrams: %d offered, %llu sent, %llu dropped, %zu delivered, oldest delivered %.1f ms, queue max %zu\n",
              offered, static_cast<unsigned long long>(stats.datagrams_sent),
              static_cast<unsigned long long>(stats.datagrams_dropped), t.b.app.datagrams.size(), ms(oldest), max_queued);
  EXPECT_EQ(offered, kCount);
  EXPECT_EQ(stats.datagrams_sent + stats.datagrams_dropped + stats.datagrams_queued, std::uint64_t{kCount});
  EXPECT_GT(stats.datagrams_dropped, std::uint64_t{kCount} / 2);  // the link carries about a quarter
  EXPECT_LE(max_queued, ConnectionConfig{}.max_queued_datagrams);
  EXPECT_LE(t.b.app.datagrams.size(), stats.datagrams_sent);
  EXPECT_GT(t.b.app.datagrams.size(), std::size_t{200});
  // Fresh: at most about one RTT in our queue plus the path (its 16 KiB buffer is 131 ms).
  EXPECT_LT(oldest, milliseconds(400));
  EXPECT_TRUE(t.client().is_established());
}

TEST(StreamsOverConnection, DatagramsAreNeverRetransmitted) {
  sim::LinkConfig lossy = link(milliseconds(10));
  lossy.loss = 0.2;
  Pair t(109, lossy, link(milliseconds(10)));
  t.establish();
  constexpr int kCount = 300;
  int offered = 0;
  std::function<void()> send_one = [&] {
    std::vector<std::uint8_t> d(100, static_cast<std::uint8_t>(offered));
    ASSERT_FALSE(t.client().send_datagram(d));
    ++offered;
    t.net.wake(t.a);
    if (offered < kCount) t.net.schedule(milliseconds(5), send_one);
  };
  send_one();
  ASSERT_TRUE(t.net.run_for(seconds(3)));
  const auto stats = t.client().stats();
  EXPECT_EQ(stats.datagrams_sent, std::uint64_t{kCount});
  EXPECT_EQ(stats.datagrams_dropped, 0u);
  // About 80% arrive; a retransmitting sender would deliver nearly all.
  EXPECT_LT(t.b.app.datagrams.size(), std::size_t{kCount} * 9 / 10);
  EXPECT_GT(t.b.app.datagrams.size(), std::size_t{kCount} * 6 / 10);
}

TEST(StreamsOverConnection, DatagramSizeFollowsThePathMtu) {
  Pair t(110, link(milliseconds(10)), link(milliseconds(10)));
  t.establish();
  const std::size_t at_start = t.client().max_datagram_payload();
  ASSERT_TRUE(t.a.app.open(pattern(1 << 20, 13)));  // a transfer lets path MTU discovery probe upwards
  t.wake();
  ASSERT_TRUE(t.net.run_for(seconds(2)));
  ASSERT_EQ(t.client().stats().path_mtu, 1452u);
  const std::size_t discovered = t.client().max_datagram_payload();
  EXPECT_EQ(discovered, at_start + (1452 - 1200));
  const auto big = pattern(discovered, 14);
  ASSERT_FALSE(t.client().send_datagram(big));
  EXPECT_EQ(t.client().send_datagram(pattern(discovered + 1, 15)), errc::invalid_argument);
  t.wake();
  ASSERT_TRUE(t.net.run_until([&] { return !t.b.app.datagrams.empty(); }, seconds(1)))
      << "sent " << t.client().stats().datagrams_sent << " dropped " << t.client().stats().datagrams_dropped
      << " mtu " << t.client().stats().path_mtu;
  EXPECT_EQ(t.b.app.datagrams.front().second, big);
}

TEST(StreamsOverConnection, ReceiveWindowsGrowOnALongFatPath) {
  ConnectionConfig b = base_config();
  b.stream_receive_window = 64 * 1024;
  b.connection_receive_window = 128 * 1024;
  // 100 Mbit/s with 80 ms RTT: a 1 MB bandwidth-delay product, 16 times the first window.
  Pair t(111, link(milliseconds(40), 100'000'000, 1 << 20), link(milliseconds(40)), base_config(), std::move(b));
  t.establish();
  const auto data = pattern(6 << 20, 16);
  const std::uint64_t id = *t.a.app.open(data);
  t.wake();
  auto r = t.net.run_until([&] { return t.b.app.ended_at.count(id) > 0; }, seconds(30));
  ASSERT_TRUE(r) << r;
  EXPECT_EQ(sha256(t.b.app.received[id]), sha256(data));
  const auto stats = t.server().stats();
  std::printf("  stream receive window grew from 64 KiB to %llu KiB\n",
              static_cast<unsigned long long>(stats.stream_receive_window / 1024));
  EXPECT_GE(stats.stream_receive_window, std::uint64_t{1} << 20);
}

TEST(StreamsOverConnection, FailedPathValidationReturnsToTheLastValidatedPath) {
  Pair t(112, link(milliseconds(10)), link(milliseconds(10)));
  SCOPED_TRACE(t.net.describe());
  t.establish();
  ASSERT_TRUE(t.net.run_for(milliseconds(200)));
  // From now on A's uplink is dead, but an attacker (or a broken NAT) delivers A's next packet
  // from another address, where nothing answers.
  enum class Phase { normal, diverted, uplink_dead } phase = Phase::diverted;
  t.net.add_tap(t.net.internet(), [&](Instant, sim::Datagram& d) {
    if (d.to == kM) return sim::TapVerdict::drop;
    if (d.from != kA || phase == Phase::normal) return sim::TapVerdict::pass;
    if (phase == Phase::diverted) {
      d.from = kM;
      phase = Phase::uplink_dead;
      return sim::TapVerdict::pass;
    }
    return sim::TapVerdict::drop;
  });
  const auto hello = pattern(100, 17);
  const std::uint64_t from_a = *t.a.app.open(hello);
  t.wake();
  auto moved = t.net.run_until([&] { return t.server().peer_address() == kM; }, seconds(1));
  ASSERT_TRUE(moved) << moved;
  const Instant moved_at = t.net.now();
  auto back = t.net.run_until([&] { return t.server().stats().path_validation_failures > 0; }, seconds(10));
  ASSERT_TRUE(back) << back;
  const Duration validation = t.net.now() - moved_at;
  std::printf("  new path abandoned after %.0f ms\n", ms(validation));
  EXPECT_EQ(t.server().peer_address(), kA);
  EXPECT_LE(validation, milliseconds(3500));  // 3 x max(PTO, PTO of a fresh path)
  // Back on the old path: the server reaches A again even though A's packets still do not get through.
  const auto reply = pattern(2000, 18);
  const std::uint64_t from_b = *t.b.app.open(reply);
  t.wake();
  auto reached = t.net.run_until([&] { return t.a.app.ended_at.count(from_b) > 0; }, seconds(2));
  ASSERT_TRUE(reached) << reached;
  EXPECT_EQ(t.a.app.received[from_b], reply);
  // The uplink heals: everything completes and the connection is fine.
  phase = Phase::normal;
  auto healed = t.net.run_until([&] { return t.b.app.ended_at.count(from_a) > 0; }, seconds(10));
  ASSERT_TRUE(healed) << healed;
  EXPECT_EQ(t.b.app.received[from_a], hello);
  EXPECT_TRUE(t.client().is_established());
  EXPECT_TRUE(t.server().is_established());
  EXPECT_EQ(t.server().peer_address(), kA);
}

}  // namespace
}  // namespace srudp::transport
