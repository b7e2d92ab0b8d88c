// The same echo through every kind of completion token: callbacks, use_future (with the
// io_context on another thread), use_awaitable, and deferred.
#include "srudp/srudp.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "io/loopback.hpp"

namespace srudp::test {
namespace {

using asio::awaitable;
using asio::use_awaitable;

// The server's half for every test: echo each accepted stream once, then FIN.
awaitable<void> echo_streams(Connection connection) {
  for (;;) {
    auto [accept_ec, stream] = co_await connection.async_accept_stream(asio::as_tuple(use_awaitable));
    if (accept_ec) co_return;  // the connection closed
    std::vector<std::uint8_t> buffer(16 * 1024);
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
      if (ec) break;
      co_await asio::async_write(stream, asio::buffer(buffer.data(), n), use_awaitable);
    }
    stream.shutdown_send();
  }
}

TEST(CompletionTokens, CallbacksCompleteAnEcho) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  asio::co_spawn(pair.io, echo_streams(pair.server_side), asio::detached);

  const std::string message = "hello through callbacks";
  std::string reply(message.size(), '\0');
  boost::system::error_code result = asio::error::would_block;
  auto stream = std::make_shared<Stream>();
  pair.client_side.async_open_stream([&, stream](boost::system::error_code ec, Stream s) {
    if (ec) {
      result = ec;
      return;
    }
    *stream = std::move(s);
    asio::async_write(*stream, asio::buffer(message), [&, stream](boost::system::error_code wec, std::size_t) {
      if (wec) {
        result = wec;
        return;
      }
      asio::async_read(*stream, asio::buffer(reply), [&](boost::system::error_code rec, std::size_t) { result = rec; });
    });
  });
  ASSERT_TRUE(run_until(pair.io, [&] { return result != asio::error::would_block; }, 5s));
  EXPECT_FALSE(result) << result.message();
  EXPECT_EQ(reply, message);
}

TEST(CompletionTokens, UseFutureCompletesAnEchoWithTheIoContextOnAnotherThread) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  asio::co_spawn(pair.io, echo_streams(pair.server_side), asio::detached);
  auto work = asio::make_work_guard(pair.io);
  std::thread io_thread([&] { pair.io.run(); });

  std::string reply;
  {
    // Everything from this thread goes through futures; the operations hop to the io thread.
    Stream stream = pair.client_side.async_open_stream(asio::use_future).get();
    const std::string message(100'000, 'f');
    EXPECT_EQ(asio::async_write(stream, asio::buffer(message), asio::use_future).get(), message.size());
    reply.resize(message.size());
    auto read = asio::async_read(stream, asio::buffer(reply), asio::use_future);
    ASSERT_EQ(read.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(read.get(), message.size());
    EXPECT_EQ(reply, message);
    // Errors arrive as exceptions.
    Stream empty;
    std::array<char, 1> one{};
    EXPECT_THROW(empty.async_read_some(asio::buffer(one), asio::use_future).get(), boost::system::system_error);
  }  // the stream handle is dropped on this thread: its close runs on the io thread

  work.reset();
  pair.io.stop();
  io_thread.join();
}

TEST(CompletionTokens, UseAwaitableCompletesAnEcho) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  asio::co_spawn(pair.io, echo_streams(pair.server_side), asio::detached);
  Tasks tasks(pair.io);
  std::string reply;
  const auto client = [&]() -> awaitable<void> {
    Stream stream = co_await pair.client_side.async_open_stream(use_awaitable);
    const std::string message = "hello through co_await";
    co_await asio::async_write(stream, asio::buffer(message), use_awaitable);
    reply.resize(message.size());
    co_await asio::async_read(stream, asio::buffer(reply), use_awaitable);
  };
  tasks.spawn(client());
  EXPECT_TRUE(tasks.run(5s));
  EXPECT_EQ(reply, "hello through co_await");
}

TEST(CompletionTokens, DeferredOperationsStartWhenInvoked) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  asio::co_spawn(pair.io, echo_streams(pair.server_side), asio::detached);
  auto open = pair.client_side.async_open_stream(asio::deferred);
  Stream stream;
  boost::system::error_code open_ec = asio::error::would_block;
  std::move(open)([&](boost::system::error_code ec, Stream s) {
    open_ec = ec;
    stream = std::move(s);
  });
  ASSERT_TRUE(run_until(pair.io, [&] { return open_ec != asio::error::would_block; }, 5s));
  ASSERT_FALSE(open_ec);
  std::array<char, 3> reply{};
  auto write_then_read = asio::async_write(stream, asio::buffer("abc", 3), asio::deferred);
  boost::system::error_code ec = asio::error::would_block;
  std::move(write_then_read)([&](boost::system::error_code wec, std::size_t) {
    if (wec) {
      ec = wec;
      return;
    }
    asio::async_read(stream, asio::buffer(reply), [&](boost::system::error_code rec, std::size_t) { ec = rec; });
  });
  ASSERT_TRUE(run_until(pair.io, [&] { return ec != asio::error::would_block; }, 5s));
  EXPECT_FALSE(ec);
  EXPECT_EQ(std::string(reply.data(), reply.size()), "abc");
}

}  // namespace
}  // namespace srudp::test
