// The relay after the 101: CONTINUE, byte-exact copying both ways with half-close, OTHER,
// protocol errors, the idle timeout, the byte rate limit, and draining at shutdown.
#include "rdv/server.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "rdv/raw_http_client.hpp"
#include "rdv/rdv_request_builder.hpp"
#include "rdv/test_server.hpp"

namespace srudp::test {
namespace {

using namespace std::chrono_literals;

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

bool has_metric(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

struct Pair {
  explicit Pair(TestServer& server, const std::string& token = "/tok")
      : dialer(server.endpoint()), acceptor(server.endpoint()) {
    dialer.send(rdv_request("DIAL", token));
    acceptor.send(rdv_request("ACCEPT", token));
    paired = status_of(dialer.read_head()) == 101 && status_of(acceptor.read_head()) == 101;
  }
  RawHttpClient dialer;
  RawHttpClient acceptor;
  bool paired = false;
};

TEST(RdvRelay, ContinueThenBytesBothWaysWithHalfClose) {
  TestServer server;
  Pair pair(server);
  ASSERT_TRUE(pair.paired);
  const auto up = random_bytes(1 << 20, 1);
  const auto down = random_bytes(1 << 20, 2);
  // CONTINUE and the first bytes in one segment: both reach the acceptor.
  ASSERT_TRUE(pair.dialer.send("CONTINUE\n" + up.substr(0, 1000)));
  EXPECT_EQ(pair.acceptor.read_exact(9), "CONTINUE\n");
  std::thread sender([&] {
    pair.dialer.send(std::string_view(up).substr(1000));
    pair.dialer.shutdown_write();
  });
  std::thread back([&] {
    pair.acceptor.send(down);
    pair.acceptor.shutdown_write();
  });
  const auto received_up = pair.acceptor.read_to_end();
  const auto received_down = pair.dialer.read_to_end();
  sender.join();
  back.join();
  ASSERT_TRUE(received_up && received_down);
  EXPECT_TRUE(*received_up == up) << received_up->size();
  EXPECT_TRUE(*received_down == down) << received_down->size();

  const auto metrics = metrics_of(server);
  EXPECT_TRUE(has_metric(metrics, "rdv_pairs_total 1")) << metrics;
  EXPECT_TRUE(has_metric(metrics, "rdv_relays_total 1"));
  EXPECT_TRUE(has_metric(metrics, "rdv_relayed_bytes_total " + std::to_string(up.size() + down.size())));
  EXPECT_TRUE(has_metric(metrics, "rdv_relays_active 0"));
}

TEST(RdvRelay, OtherCountsADirectConnectionAndClosesBoth) {
  TestServer server;
  Pair pair(server);
  ASSERT_TRUE(pair.paired);
  pair.dialer.send("OTHER 192.168.1.20:41234\n");
  EXPECT_EQ(pair.acceptor.read_to_end(), "");
  EXPECT_EQ(pair.dialer.read_to_end(), "");
  EXPECT_TRUE(has_metric(metrics_of(server), "rdv_p2p_successes_total 1"));
}

TEST(RdvRelay, AnythingElseIsAProtocolError) {
  TestServer server;
  Pair pair(server);
  ASSERT_TRUE(pair.paired);
  pair.dialer.send("HELLO\n");
  EXPECT_EQ(pair.acceptor.read_to_end(), "");
  const auto metrics = metrics_of(server);
  EXPECT_TRUE(has_metric(metrics, "rdv_relay_protocol_errors_total 1"));
  EXPECT_TRUE(has_metric(metrics, "rdv_relays_total 0"));
}

TEST(RdvRelay, IdleRelayIsClosed) {
  auto config = loopback_config();
  config.relay_idle_timeout = 300ms;
  TestServer server(config);
  Pair pair(server);
  ASSERT_TRUE(pair.paired);
  pair.dialer.send("CONTINUE\n");
  EXPECT_EQ(pair.acceptor.read_exact(9), "CONTINUE\n");
  pair.acceptor.send("ping");
  EXPECT_EQ(pair.dialer.read_exact(4), "ping");
  // Then silence: both are closed.
  EXPECT_EQ(pair.dialer.read_to_end(), "");
  EXPECT_EQ(pair.acceptor.read_to_end(), "");
  EXPECT_TRUE(has_metric(metrics_of(server), "rdv_relay_idle_timeouts_total 1"));
  // The wait for the dialer's command is bounded the same way.
  Pair silent(server, "/silent");
  ASSERT_TRUE(silent.paired);
  EXPECT_EQ(silent.dialer.read_to_end(), "");
}

TEST(RdvRelay, ByteRateIsLimitedPerDirection) {
  auto config = loopback_config();
  config.relay_rate = {.per_second = 1024 * 1024, .burst = 64 * 1024};
  TestServer server(config);
  Pair pair(server);
  ASSERT_TRUE(pair.paired);
  const auto data = random_bytes(512 * 1024, 3);
  pair.dialer.send("CONTINUE\n");
  EXPECT_EQ(pair.acceptor.read_exact(9), "CONTINUE\n");
  const auto start = std::chrono::steady_clock::now();
  std::thread sender([&] { pair.dialer.send(data); });
  const auto received = pair.acceptor.read_exact(data.size());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  sender.join();
  EXPECT_TRUE(received == data);
  // 512 KiB at 1 MiB/s with a 64 KiB burst cannot arrive in under ~0.44 s (a lower bound only).
  EXPECT_GE(elapsed, 400ms);
}

TEST(RdvRelay, RelaysDrainAfterStop) {
  TestServer server;
  Pair pair(server);
  ASSERT_TRUE(pair.paired);
  pair.dialer.send("CONTINUE\n");
  EXPECT_EQ(pair.acceptor.read_exact(9), "CONTINUE\n");
  server.server().stop();
  std::this_thread::sleep_for(100ms);
  // Still relaying after stop()...
  pair.dialer.send("after stop");
  EXPECT_EQ(pair.acceptor.read_exact(10), "after stop");
  // ...while newcomers are refused.
  RawHttpClient late(server.endpoint());
  EXPECT_FALSE(late.connected());
  EXPECT_FALSE(server.finished_within(100ms));
  pair.dialer.shutdown_write();
  pair.acceptor.shutdown_write();
  EXPECT_EQ(pair.acceptor.read_to_end(), "");
  EXPECT_TRUE(server.finished_within(5s));
}

TEST(RdvRelay, DrainDeadlineClosesWhatIsLeft) {
  auto config = loopback_config();
  config.drain_timeout = 300ms;
  TestServer server(config);
  Pair pair(server);
  ASSERT_TRUE(pair.paired);
  pair.dialer.send("CONTINUE\n");
  EXPECT_EQ(pair.acceptor.read_exact(9), "CONTINUE\n");
  server.server().stop();
  EXPECT_EQ(pair.acceptor.read_to_end(), "");
  EXPECT_TRUE(server.finished_within(5s));
}

}  // namespace
}  // namespace srudp::test
