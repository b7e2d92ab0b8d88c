#include "srudp/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "io/loopback.hpp"

namespace srudp::test {
namespace {

using asio::awaitable;
using asio::use_awaitable;

TEST(Connection, DatagramsRoundTrip) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  Tasks tasks(pair.io);
  constexpr int kDatagrams = 50;
  int echoed = 0;
  // One at a time, so congestion never drops one (datagrams are unreliable by design).
  const auto server = [&]() -> awaitable<void> {
    std::array<std::uint8_t, 2048> buffer{};
    for (int i = 0; i < kDatagrams; ++i) {
      const std::size_t n = co_await pair.server_side.async_receive_datagram(asio::buffer(buffer), use_awaitable);
      check(pair.server_side.send_datagram(asio::buffer(buffer.data(), n)), "server send_datagram");
    }
  };
  const auto client = [&]() -> awaitable<void> {
    std::array<std::uint8_t, 2048> buffer{};
    for (int i = 0; i < kDatagrams; ++i) {
      const std::vector<std::uint8_t> sent = pattern(static_cast<std::size_t>(1 + i * 20), static_cast<std::uint64_t>(i));
      check(pair.client_side.send_datagram(asio::buffer(sent)), "client send_datagram");
      const std::size_t n = co_await pair.client_side.async_receive_datagram(asio::buffer(buffer), use_awaitable);
      if (std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n)) != sent) {
        throw std::runtime_error("datagram " + std::to_string(i) + " came back different");
      }
      ++echoed;
    }
  };
  tasks.spawn(server());
  tasks.spawn(client());
  EXPECT_TRUE(tasks.run(10s));
  EXPECT_EQ(echoed, kDatagrams);
}

TEST(Connection, OversizeDatagramIsAnErrorAndATruncatedOneSaysSo) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  const std::size_t max = pair.client_side.max_datagram_size();
  ASSERT_GE(max, 1000u);
  const std::vector<std::uint8_t> too_big(max + 1, 0x55), largest(max, 0x66);
  EXPECT_EQ(pair.client_side.send_datagram(asio::buffer(too_big)), asio::error::message_size);
  EXPECT_FALSE(pair.client_side.send_datagram(asio::buffer(largest)));

  std::array<std::uint8_t, 100> small{};
  boost::system::error_code ec = asio::error::would_block;
  std::size_t n = 0;
  pair.server_side.async_receive_datagram(asio::buffer(small), [&](auto e, std::size_t size) {
    ec = e;
    n = size;
  });
  ASSERT_TRUE(run_until(pair.io, [&] { return ec != asio::error::would_block; }, 5s));
  EXPECT_EQ(ec, asio::error::message_size);
  EXPECT_EQ(n, small.size());
  EXPECT_EQ(small[0], 0x66);
}

TEST(Connection, OpensBeyondTheStreamLimitAreRefusedAndAWaitingOpenCompletesWhenASlotFrees) {
  ConnectionOptions server_options = psk_options();
  server_options.max_streams = 10;  // what the client may open
  LoopbackPair pair("127.0.0.1", psk_options(), server_options);
  ASSERT_TRUE(pair.connected);

  std::vector<Stream> streams;
  for (int i = 0; i < 10; ++i) {
    boost::system::error_code ec;
    streams.push_back(pair.client_side.open_stream(ec));
    ASSERT_FALSE(ec) << i << ": " << ec.message();
  }
  const ConnectionStats before = pair.client_side.stats();
  int refused = 0;
  for (int i = 0; i < 100'000; ++i) {
    boost::system::error_code ec;
    Stream s = pair.client_side.open_stream(ec);
    refused += ec == std::error_code(errc::stream_limit_reached) && !s.is_open();
  }
  EXPECT_EQ(refused, 100'000);
  const ConnectionStats after = pair.client_side.stats();
  EXPECT_EQ(after.streams, 10u);  // nothing was kept for the refused ones
  EXPECT_EQ(after.buffered_bytes, before.buffered_bytes);

  // A waiting open: completes once the peer retires a stream and raises its limit.
  boost::system::error_code open_ec = asio::error::would_block;
  Stream opened;
  pair.client_side.async_open_stream([&](auto ec, Stream s) {
    open_ec = ec;
    opened = std::move(s);
  });
  run_until(pair.io, [] { return false; }, 100ms);
  EXPECT_EQ(open_ec, asio::error::would_block);

  // Finish stream 0 both ways: FIN from each side, each side reads the other's FIN.
  Tasks tasks(pair.io);
  const auto finish_client_side = [&]() -> awaitable<void> {
    co_await asio::async_write(streams[0], asio::buffer("bye", 3), use_awaitable);
    check(streams[0].shutdown_send(), "client shutdown_send");
    co_await read_to_end(streams[0]);
  };
  const auto finish_server_side = [&]() -> awaitable<void> {
    Stream s = co_await pair.server_side.async_accept_stream(use_awaitable);
    co_await read_to_end(s);
    check(s.shutdown_send(), "server shutdown_send");
  };
  tasks.spawn(finish_client_side());
  tasks.spawn(finish_server_side());
  ASSERT_TRUE(tasks.run(5s));
  ASSERT_TRUE(run_until(pair.io, [&] { return open_ec != asio::error::would_block; }, 5s));
  EXPECT_FALSE(open_ec) << open_ec.message();
  EXPECT_TRUE(opened.is_open());
}

TEST(Connection, CloseFailsThePeersPendingOperations) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  boost::system::error_code here = asio::error::would_block, there = asio::error::would_block;
  pair.client_side.async_accept_stream([&](auto ec, Stream) { here = ec; });
  std::array<std::uint8_t, 64> buffer{};
  pair.server_side.async_receive_datagram(asio::buffer(buffer), [&](auto ec, std::size_t) { there = ec; });
  run_until(pair.io, [] { return false; }, 20ms);
  pair.client_side.close(5, "done here");
  EXPECT_FALSE(pair.client_side.is_open());
  ASSERT_TRUE(run_until(pair.io, [&] { return here != asio::error::would_block && there != asio::error::would_block; }, 5s));
  EXPECT_EQ(here, std::error_code(errc::connection_closed));
  EXPECT_EQ(there, std::error_code(errc::connection_closed));
  EXPECT_FALSE(pair.server_side.is_open());
  EXPECT_EQ(pair.client_side.send_datagram(asio::buffer(buffer)), std::error_code(errc::connection_closed));
}

TEST(Connection, DroppingTheLastHandleClosesTheConnection) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  boost::system::error_code there = asio::error::would_block;
  pair.server_side.async_accept_stream([&](auto ec, Stream) { there = ec; });
  {
    Connection copy = pair.client_side;  // copies share: dropping one keeps it open
    EXPECT_TRUE(copy == pair.client_side);
  }
  run_until(pair.io, [] { return false; }, 50ms);
  EXPECT_EQ(there, asio::error::would_block);
  pair.client_side = Connection();
  ASSERT_TRUE(run_until(pair.io, [&] { return there != asio::error::would_block; }, 5s));
  EXPECT_EQ(there, std::error_code(errc::connection_closed));
}

// As with TCP's close(): an application that writes, half-closes and drops every handle at once
// still gets its bytes delivered. The connection lingers until they are acknowledged, then closes.
TEST(Connection, DroppingEveryHandleRightAfterWritingStillDeliversTheData) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  const auto data = pattern(4 << 20, 31);
  Tasks tasks(pair.io);
  std::size_t received = 0;
  std::array<std::uint8_t, 32> hash{};
  boost::system::error_code after = asio::error::would_block;
  const auto client = [&]() -> awaitable<void> {
    Stream stream = co_await pair.client_side.async_open_stream(use_awaitable);
    co_await asio::async_write(stream, asio::buffer(data), use_awaitable);  // queued, mostly unsent
    check(stream.shutdown_send(), "shutdown_send");
    pair.client_side = Connection();  // and the stream handle goes at the end of this scope
  };
  const auto server = [&]() -> awaitable<void> {
    Stream stream = co_await pair.server_side.async_accept_stream(use_awaitable);
    std::tie(received, hash) = co_await read_to_end(stream);
    std::array<std::uint8_t, 1> more{};
    auto [ec, n] = co_await pair.server_side.async_receive_datagram(asio::buffer(more), asio::as_tuple(use_awaitable));
    after = ec;  // the client closes once everything is acknowledged
  };
  tasks.spawn(client());
  tasks.spawn(server());
  ASSERT_TRUE(tasks.run(20s));
  EXPECT_EQ(received, data.size());
  EXPECT_EQ(hash, Sha256::of(data));
  EXPECT_EQ(after, std::error_code(errc::connection_closed));
}

TEST(Connection, AStreamHandleKeepsItsConnectionOpen) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  Tasks tasks(pair.io);
  std::string reply;
  const auto client = [&]() -> awaitable<void> {
    Stream stream = co_await pair.client_side.async_open_stream(use_awaitable);
    pair.client_side = Connection();  // only the stream holds the connection now
    asio::steady_timer wait(co_await asio::this_coro::executor, 50ms);
    co_await wait.async_wait(use_awaitable);
    co_await asio::async_write(stream, asio::buffer("ping", 4), use_awaitable);
    std::array<char, 4> answer{};
    co_await asio::async_read(stream, asio::buffer(answer), use_awaitable);
    reply.assign(answer.data(), answer.size());
  };
  const auto server = [&]() -> awaitable<void> {
    Stream stream = co_await pair.server_side.async_accept_stream(use_awaitable);
    std::array<char, 4> ping{};
    co_await asio::async_read(stream, asio::buffer(ping), use_awaitable);
    co_await asio::async_write(stream, asio::buffer("pong", 4), use_awaitable);
  };
  tasks.spawn(client());
  tasks.spawn(server());
  EXPECT_TRUE(tasks.run(5s));
  EXPECT_EQ(reply, "pong");
}

TEST(Connection, StatsCountTheTransfer) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  Tasks tasks(pair.io);
  const std::vector<std::uint8_t> data = pattern(2 << 20, 9);
  const auto client = [&]() -> awaitable<void> {
    Stream stream = co_await pair.client_side.async_open_stream(use_awaitable);
    co_await asio::async_write(stream, asio::buffer(data), use_awaitable);
    check(stream.shutdown_send(), "shutdown_send");
    co_await read_to_end(stream);
  };
  const auto server = [&]() -> awaitable<void> {
    Stream stream = co_await pair.server_side.async_accept_stream(use_awaitable);
    co_await read_to_end(stream);
    check(stream.shutdown_send(), "shutdown_send");
  };
  tasks.spawn(client());
  tasks.spawn(server());
  ASSERT_TRUE(tasks.run(10s));
  const ConnectionStats stats = pair.client_side.stats();
  EXPECT_GT(stats.bytes_sent, data.size());
  EXPECT_GT(stats.packets_sent, data.size() / 1500);
  EXPECT_GT(stats.smoothed_rtt, std::chrono::nanoseconds::zero());
  EXPECT_GE(stats.path_mtu, 1200u);
  EXPECT_GT(stats.congestion_window, 0u);
  EXPECT_EQ(stats.path, pair.server.local_endpoint());
  EXPECT_GE(stats.loss_rate(), 0.0);
  EXPECT_GT(pair.server_side.stats().bytes_received, data.size());
}

}  // namespace
}  // namespace srudp::test
