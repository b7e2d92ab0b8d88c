// Path MTU discovery inside whole connections, through the simulator: 3 MB transfers (checked
// byte for byte) over clean, lossy, blacked-out, 1280-byte-MTU and black-holed paths, asserting
// where the PLPMTU ends and that getting there costs no stall.
#include "transport/pmtud.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <optional>
#include <vector>

#include "common/random.hpp"
#include "common/sodium.hpp"
#include "sim/network.hpp"
#include "transport/test_data.hpp"
#include "transport/connection.hpp"
#include "transport/connection_node.hpp"

namespace srudp::transport {
namespace {

using test::pattern;
using test::sha256;
using test::delay_link;

using std::chrono::milliseconds;
using std::chrono::seconds;

const SocketAddress kA = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kB = SocketAddress::v4(203, 0, 113, 2, 5000);
constexpr std::size_t k3MB = 3 * 1024 * 1024;
constexpr std::uint64_t kBase = 1200;
constexpr std::uint64_t kMax = 1452;
// A 1280-byte IP MTU carries 1280 - 20 (IPv4) - 8 (UDP) bytes of UDP payload: the simulator
// counts 28 bytes of headers for IPv4 (docs/SIMULATOR.md).
constexpr std::uint64_t k1280Limit = 1280 - 28;

ConnectionConfig config() {
  ConnectionConfig c;
  std::array<std::uint8_t, 32> psk{};
  psk.fill(7);
  c.handshake.psk = crypto::PresharedKey(std::span<const std::uint8_t, 32>(psk));
  return c;
}



// One side of a bulk transfer: the client writes `to_send` on one stream and finishes it; the
// server reads whatever streams arrive.
struct BulkApp {
  std::optional<Connection> conn;
  bool established = false;
  bool closed = false;
  std::optional<Instant> established_at;

  std::vector<std::uint8_t> to_send;
  std::optional<std::uint64_t> send_stream;
  std::size_t written = 0;
  bool finished = false;

  std::vector<std::uint8_t> received;
  std::size_t expect_bytes = 0;
  std::optional<Instant> done_at;

  void pump(Instant now) {
    if (!conn) return;
    while (auto e = conn->poll_event()) {
      if (e->kind == ConnectionEvent::Kind::established) {
        established = true;
        established_at = now;
      } else if (e->kind == ConnectionEvent::Kind::closed) {
        closed = true;
      }
    }
    if (!conn->is_established()) return;
    if (!to_send.empty()) {
      if (!send_stream) {
        if (auto id = conn->open_stream()) send_stream = *id;
      }
      if (send_stream && written < to_send.size()) {
        if (auto n = conn->stream_write(*send_stream, std::span(to_send).subspan(written))) written += *n;
      }
      if (send_stream && written == to_send.size() && !finished) finished = !conn->stream_finish(*send_stream);
      return;
    }
    std::array<std::uint8_t, 16384> buf{};
    for (std::uint64_t id = 0; id < 16; id += 4) {  // client-initiated bidirectional streams
      while (true) {
        auto n = conn->stream_read(id, buf);
        if (!n || *n == 0) break;
        received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
      }
      if (!done_at && expect_bytes > 0 && received.size() >= expect_bytes && conn->stream_at_end(id)) done_at = now;
    }
  }
};

using Node = test::ConnectionNode<BulkApp>;

struct Pair : test::ConnectionPair<Node> {
  Pair(std::uint64_t seed, const sim::LinkConfig& link)
      : ConnectionPair(sim::test_seed(seed), kA, kB, link, link, config(), config()) {}
};

// The client's PLPMTU over time, sampled after every simulator event.
struct MtuTrace {
  std::uint64_t last = 0;
  Instant last_change{};
  int falls_to_base = 0;  // times it fell back from above the base to the base
  std::uint64_t peak = 0;

  void sample(std::uint64_t mtu, Instant now) {
    if (mtu == last) return;
    if (mtu == kBase && last > kBase) ++falls_to_base;
    last = mtu;
    last_change = now;
    peak = std::max(peak, mtu);
  }
};

struct Outcome {
  bool completed = false;
  double seconds = 0;            // establishment to the last byte read
  double settled_after = 0;      // establishment to the last PLPMTU change
  std::uint64_t final_mtu = 0;
  MtuTrace trace;
  ConnectionStats stats;
};

// Establishes, sends 3 MB from A to B within `limit`, and checks the bytes arrive exactly.
Outcome transfer_3mb(Pair& t, Duration limit) {
  Outcome out;
  if (!t.net.run_until([&] { return t.established(); }, seconds(30))) {
    ADD_FAILURE() << "not established " << t.net.describe();
    return out;
  }
  const auto data = pattern(k3MB, t.net.seed());
  t.a.app.to_send = data;
  t.b.app.expect_bytes = data.size();
  t.net.wake(t.a);
  const auto r = t.net.run_until(
      [&] {
        out.trace.sample(t.client().stats().path_mtu, t.net.now());
        return t.b.app.done_at.has_value() || t.a.app.closed || t.b.app.closed;
      },
      limit);
  out.stats = t.client().stats();
  out.final_mtu = out.stats.path_mtu;
  if (!r || !t.b.app.done_at) {
    ADD_FAILURE() << "transfer did not complete: " << r << " " << t.net.describe() << " received "
                  << t.b.app.received.size() << " mtu " << out.final_mtu;
    return out;
  }
  EXPECT_EQ(t.b.app.received.size(), data.size()) << t.net.describe();
  EXPECT_EQ(sha256(t.b.app.received), sha256(data)) << t.net.describe();
  out.completed = t.b.app.received == data;
  const Instant start = *t.a.app.established_at;
  out.seconds = std::chrono::duration<double>(*t.b.app.done_at - start).count();
  out.settled_after = std::chrono::duration<double>(out.trace.last_change - start).count();
  return out;
}

void report(const char* name, const Outcome& o) {
  std::printf("  [%-30s] %7.2f s, final PLPMTU %llu (peak %llu), last change after %6.2f s, %d falls "
              "to the base, %llu packets lost\n",
              name, o.seconds, static_cast<unsigned long long>(o.final_mtu),
              static_cast<unsigned long long>(o.trace.peak), o.settled_after, o.trace.falls_to_base,
              static_cast<unsigned long long>(o.stats.packets_lost));
}


TEST(PmtudSimulation, CleanPathEndsAtTheMaximum) {
  Pair t(31, delay_link(milliseconds(10)));
  const Outcome o = transfer_3mb(t, seconds(20));
  report("clean", o);
  ASSERT_TRUE(o.completed);
  EXPECT_EQ(o.final_mtu, kMax);
  EXPECT_EQ(o.trace.falls_to_base, 0);
}

TEST(PmtudSimulation, A1280ByteMtuLinkEndsJustBelowItsLimit) {
  auto link = delay_link(milliseconds(10));
  link.mtu = 1280;
  Pair t(32, link);
  const Outcome o = transfer_3mb(t, seconds(30));
  report("1280-byte MTU", o);
  ASSERT_TRUE(o.completed);
  EXPECT_LE(o.final_mtu, k1280Limit);
  EXPECT_GT(o.final_mtu + 16, k1280Limit) << "within 16 bytes below the largest payload carried";
  EXPECT_EQ(o.trace.falls_to_base, 0) << "probes above the limit are no black hole";
  // Settled long before the end (the transfer takes about 0.2 s; the search a few round trips).
  EXPECT_LT(o.settled_after, o.seconds);
}

TEST(PmtudSimulation, ThirtyPercentLossEndsAtOrNearTheMaximum) {
  auto link = delay_link(milliseconds(10));
  link.loss = 0.30;
  Pair t(33, link);
  const Outcome o = transfer_3mb(t, seconds(300));
  report("30% loss", o);
  ASSERT_TRUE(o.completed);
  EXPECT_GE(o.final_mtu + 16, kMax) << "random loss is no black hole";
}

TEST(PmtudSimulation, TwoSecondBlackoutsEveryFiveSecondsEndAboveTheBase) {
  auto link = delay_link(milliseconds(10));
  link.blackout = sim::BlackoutSchedule{seconds(5), seconds(2), seconds(1)};
  link.rate_bps = 4'000'000;  // slow enough that the transfer spans several blackouts
  link.queue_bytes = 64 * 1024;
  Pair t(34, link);
  const Outcome o = transfer_3mb(t, seconds(120));
  report("2 s blackouts every 5 s", o);
  ASSERT_TRUE(o.completed);
  EXPECT_GE(o.trace.peak, kMax);
  EXPECT_GT(o.final_mtu, kBase);
  EXPECT_EQ(o.final_mtu, kMax) << "each outage's fall back is undone once the path is back";
}

sim::Tap drop_above(std::size_t limit, const bool* active = nullptr) {
  return [limit, active](Instant, sim::Datagram& d) {
    const bool on = active == nullptr || *active;
    return on && d.bytes.size() > limit ? sim::TapVerdict::drop : sim::TapVerdict::pass;
  };
}

TEST(PmtudSimulation, ABlackHoleAbove1252FromTheStartCostsNoStall) {
  const auto link = delay_link(milliseconds(10));
  Pair clean(35, link);
  const Outcome reference = transfer_3mb(clean, seconds(20));
  ASSERT_TRUE(reference.completed);

  Pair t(35, link);
  t.net.add_tap(t.net.internet(), drop_above(1252));
  const Outcome o = transfer_3mb(t, seconds(20));
  report("black hole > 1252 from start", o);
  ASSERT_TRUE(o.completed);
  EXPECT_LE(o.final_mtu, 1252u);
  EXPECT_GT(o.final_mtu, kBase);
  EXPECT_LT(o.seconds, 2 * reference.seconds) << "unimpaired: " << reference.seconds << " s";
  std::printf("  unimpaired reference: %.2f s\n", reference.seconds);
}

TEST(PmtudSimulation, ABlackHoleAbove1252MidTransferIsFoundQuickly) {
  // 20 Mbit/s, so the 3 MB take over a second; the black hole opens once the PLPMTU is at the
  // maximum and a third of the data is through.
  auto link = delay_link(milliseconds(10));
  link.rate_bps = 20'000'000;
  link.queue_bytes = 64 * 1024;
  Pair clean(36, link);
  const Outcome reference = transfer_3mb(clean, seconds(20));
  ASSERT_TRUE(reference.completed);
  ASSERT_EQ(reference.final_mtu, kMax);

  Pair t(36, link);
  bool hole_open = false;
  std::optional<Instant> opened_at;
  t.net.add_tap(t.net.internet(), drop_above(1252, &hole_open));
  t.net.add_tap(t.net.internet(), [&](Instant now, sim::Datagram&) {
    if (!hole_open && t.b.app.conn && t.b.app.received.size() > k3MB / 3 && t.client().stats().path_mtu == kMax) {
      hole_open = true;
      opened_at = now;
    }
    return sim::TapVerdict::pass;
  });
  const Outcome o = transfer_3mb(t, seconds(20));
  report("black hole > 1252 mid-transfer", o);
  ASSERT_TRUE(o.completed);
  ASSERT_TRUE(opened_at.has_value());
  EXPECT_LE(o.final_mtu, 1252u);
  EXPECT_GT(o.final_mtu, kBase);
  EXPECT_LT(o.seconds, 2 * reference.seconds) << "unimpaired: " << reference.seconds << " s";
  const double found_after = std::chrono::duration<double>(o.trace.last_change - *opened_at).count();
  std::printf("  unimpaired reference: %.2f s; the hole opened at %.2f s, settled %.2f s later\n",
              reference.seconds, std::chrono::duration<double>(*opened_at - *t.a.app.established_at).count(),
              found_after);
  EXPECT_LT(found_after, 2.0) << "seconds from the black hole to the settled PLPMTU";
}

}  // namespace
}  // namespace srudp::transport
