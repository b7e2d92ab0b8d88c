#include "srudp/message.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/message_codec.hpp"
#include "tests/io/loopback.hpp"

namespace srudp {
namespace {

namespace asio = boost::asio;
namespace beast_test = boost::beast::test;
using boost::system::error_code;
using Bytes = std::vector<std::uint8_t>;

constexpr auto kDeadline = std::chrono::seconds(10);

Bytes pattern(std::size_t n, std::uint8_t seed = 0) {
  Bytes bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 31 + seed);
  return bytes;
}

Bytes framed(const std::vector<Bytes>& messages) {
  Bytes out;
  for (const auto& m : messages) EXPECT_FALSE(stream::append_message(m, out));
  return out;
}

std::string_view as_chars(const Bytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

bool is(const error_code& ec, errc e) { return ec == error_code(make_error_code(e)); }

// Two connected TCP sockets on loopback.
struct TcpPair {
  asio::io_context io;
  asio::ip::tcp::socket a{io};
  asio::ip::tcp::socket b{io};

  TcpPair() {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
  }
};

// What one operation completed with.
struct Completion {
  std::optional<error_code> ec;
  std::size_t size = 0;
  auto handler() {
    return [this](error_code e, std::size_t n) {
      ec = e;
      size = n;
    };
  }
};

// Reads one message from `in` into a fresh vector, running `io` until it completes.
template <class Stream>
Completion read_one(asio::io_context& io, Stream& in, Bytes& message, std::size_t max_size) {
  Completion done;
  async_read_message(in, message, max_size, done.handler());
  io.restart();
  io.run_for(kDeadline);
  EXPECT_TRUE(done.ec.has_value()) << "read did not complete before the deadline";
  return done;
}

TEST(MessageTest, MessagesRoundTripOverTcp) {
  TcpPair tcp;
  const std::vector<Bytes> messages{pattern(5, 1), Bytes{}, pattern(64, 2), pattern(300'000, 3),
                                    pattern(16384, 4)};
  std::vector<Completion> writes(messages.size());
  std::function<void(std::size_t)> write_from = [&](std::size_t i) {
    if (i == messages.size()) return;
    async_write_message(tcp.a, asio::buffer(messages[i]), [&, i](error_code ec, std::size_t n) {
      writes[i].ec = ec;
      writes[i].size = n;
      if (!ec) write_from(i + 1);  // one write at a time per stream
    });
  };
  std::vector<Bytes> received;
  Bytes message;
  std::function<void()> read_next = [&] {
    async_read_message(tcp.b, message, 1 << 20, [&](error_code ec, std::size_t n) {
      ASSERT_FALSE(ec) << ec.message();
      EXPECT_EQ(n, message.size());
      received.push_back(message);
      if (received.size() < messages.size()) read_next();
    });
  };
  write_from(0);
  read_next();
  tcp.io.run_for(kDeadline);
  EXPECT_EQ(received, messages);
  for (std::size_t i = 0; i < messages.size(); ++i) {
    ASSERT_TRUE(writes[i].ec.has_value());
    EXPECT_FALSE(*writes[i].ec);
    EXPECT_EQ(writes[i].size, messages[i].size());  // the payload, not counting the prefix
  }
}

TEST(MessageTest, ReadsOneByteAtATimeStillGiveWholeMessages) {
  asio::io_context io;
  const std::vector<Bytes> messages{pattern(3, 1), pattern(64, 2), Bytes{}, pattern(20'000, 3)};
  beast_test::stream in(io, as_chars(framed(messages)));
  in.read_size(1);  // every read_some returns at most one byte
  in.close_remote();
  for (const auto& expected : messages) {
    Bytes message{9, 9, 9};  // replaced, not appended to
    const auto done = read_one(io, in, message, 1 << 20);
    ASSERT_FALSE(done.ec.value_or(asio::error::timed_out)) << done.ec->message();
    EXPECT_EQ(done.size, expected.size());
    EXPECT_EQ(message, expected);
  }
  Bytes message;
  const auto end = read_one(io, in, message, 1 << 20);
  EXPECT_EQ(end.ec, error_code(asio::error::eof));  // a clean end between messages
  // Exactly the framed bytes were read: no read-ahead past a message.
  EXPECT_EQ(in.nread_bytes(), framed(messages).size());
}

TEST(MessageTest, ADynamicBufferGetsTheMessageAppended) {
  asio::io_context io;
  beast_test::stream in(io, as_chars(framed({pattern(1000, 5)})));
  std::string text = "kept:";
  Completion done;
  async_read_message(in, asio::dynamic_buffer(text), 4096, done.handler());
  io.run_for(kDeadline);
  ASSERT_TRUE(done.ec.has_value());
  ASSERT_FALSE(*done.ec) << done.ec->message();
  EXPECT_EQ(done.size, 1000u);
  const Bytes expected = pattern(1000, 5);
  EXPECT_EQ(text, "kept:" + std::string(as_chars(expected)));
}

TEST(MessageTest, TheStreamEndingInsideAMessageIsTruncated) {
  // Inside the prefix (0x40 announces a two-byte length), and inside the payload.
  Bytes half_payload = framed({pattern(100)});
  half_payload.resize(52);
  for (const Bytes& input : {Bytes{0x40}, half_payload}) {
    asio::io_context io;
    beast_test::stream in(io, as_chars(input));
    in.close_remote();
    std::string buffer = "kept";
    Completion done;
    async_read_message(in, asio::dynamic_buffer(buffer), 4096, done.handler());
    io.run_for(kDeadline);
    ASSERT_TRUE(done.ec.has_value());
    EXPECT_TRUE(is(*done.ec, errc::truncated)) << done.ec->message();
    EXPECT_EQ(done.size, 0u);
    EXPECT_EQ(buffer, "kept");  // the buffer is as it was
  }
}

TEST(MessageTest, TheStreamEndingInsideAMessageIsTruncatedOverTcp) {
  TcpPair tcp;
  Bytes partial = framed({pattern(5000)});
  partial.resize(3000);
  asio::write(tcp.a, asio::buffer(partial));
  tcp.a.shutdown(asio::ip::tcp::socket::shutdown_send);
  Bytes message;
  const auto done = read_one(tcp.io, tcp.b, message, 1 << 20);
  ASSERT_TRUE(done.ec.has_value());
  EXPECT_TRUE(is(*done.ec, errc::truncated)) << done.ec->message();
  EXPECT_TRUE(message.empty());
}

TEST(MessageTest, ALengthAboveTheMaximumFailsWithoutReadingThePayload) {
  // Over TCP the peer sends only the prefix and keeps the connection open: the read must fail on
  // the prefix alone rather than wait for a payload it would refuse.
  TcpPair tcp;
  auto prefix = stream::encode_message_prefix(1001);
  ASSERT_TRUE(prefix);
  asio::write(tcp.a, asio::buffer(prefix->bytes.data(), prefix->size));
  Bytes message;
  const auto done = read_one(tcp.io, tcp.b, message, 1000);
  ASSERT_TRUE(done.ec.has_value());
  EXPECT_TRUE(is(*done.ec, errc::value_out_of_range)) << done.ec->message();

  // With the payload there, not one byte of it is read.
  asio::io_context io;
  const Bytes input = framed({pattern(1001)});
  beast_test::stream in(io, as_chars(input));
  const auto again = read_one(io, in, message, 1000);
  ASSERT_TRUE(again.ec.has_value());
  EXPECT_TRUE(is(*again.ec, errc::value_out_of_range));
  EXPECT_EQ(in.nread_bytes(), prefix->size);
}

TEST(MessageTest, AHugeAnnouncedLengthIsNotReservedUpFront) {
  // 2^30 - 1 bytes announced and allowed; 1000 arrive, then the stream ends.
  asio::io_context io;
  auto prefix = stream::encode_message_prefix((std::uint64_t{1} << 30) - 1);
  ASSERT_TRUE(prefix);
  Bytes input(prefix->bytes.begin(), prefix->bytes.begin() + static_cast<std::ptrdiff_t>(prefix->size));
  const Bytes some = pattern(1000);
  input.insert(input.end(), some.begin(), some.end());
  beast_test::stream in(io, as_chars(input));
  in.close_remote();
  Bytes message;
  const auto done = read_one(io, in, message, std::size_t{1} << 30);
  ASSERT_TRUE(done.ec.has_value());
  EXPECT_TRUE(is(*done.ec, errc::truncated));
  EXPECT_LE(message.capacity(), 64u * 1024u + 8u);  // the first step, not the announcement
}

TEST(MessageTest, ANonMinimalPrefixIsAnError) {
  asio::io_context io;
  beast_test::stream in(io, as_chars(Bytes{0x40, 0x03, 1, 2, 3}));
  Bytes message;
  const auto done = read_one(io, in, message, 100);
  ASSERT_TRUE(done.ec.has_value());
  EXPECT_TRUE(is(*done.ec, errc::non_minimal_varint));
}

// Beast's fail_count makes the n-th stream operation fail: every failure point of a read and of a
// write must complete with that error (and leave the read buffer as it was), until n is large
// enough for the operation to succeed.
TEST(MessageTest, EveryFailurePointCompletesWithTheError) {
  const std::vector<Bytes> messages{pattern(70'000, 1)};  // 4-byte prefix, two payload steps
  const Bytes input = framed(messages);
  std::size_t read_failures = 0;
  for (std::size_t n = 0; n < 100; ++n) {
    asio::io_context io;
    beast_test::fail_count fc(n);
    beast_test::stream in(io, fc, as_chars(input));
    in.read_size(30'000);
    std::string buffer = "kept";
    Completion done;
    async_read_message(in, asio::dynamic_buffer(buffer), 1 << 20, done.handler());
    io.run_for(kDeadline);
    ASSERT_TRUE(done.ec.has_value());
    if (!*done.ec) {
      EXPECT_EQ(buffer, "kept" + std::string(as_chars(messages[0])));
      break;
    }
    EXPECT_EQ(*done.ec, error_code(beast_test::error::test_failure)) << done.ec->message();
    EXPECT_EQ(buffer, "kept");
    ++read_failures;
  }
  EXPECT_GE(read_failures, 4u);  // first byte, rest of the prefix, and at least two payload reads

  std::size_t write_failures = 0;
  for (std::size_t n = 0; n < 100; ++n) {
    asio::io_context io;
    beast_test::fail_count fc(n);
    beast_test::stream out(io, fc);
    beast_test::stream peer(io);
    out.connect(peer);
    out.write_size(20'000);
    Completion done;
    async_write_message(out, asio::buffer(messages[0]), done.handler());
    io.run_for(kDeadline);
    ASSERT_TRUE(done.ec.has_value());
    if (!*done.ec) {
      EXPECT_EQ(done.size, messages[0].size());
      EXPECT_EQ(peer.str(), as_chars(input));
      break;
    }
    EXPECT_EQ(*done.ec, error_code(beast_test::error::test_failure));
    ++write_failures;
  }
  EXPECT_GE(write_failures, 2u);
}

TEST(MessageTest, WorksWithCoroutines) {
  TcpPair tcp;
  const Bytes hello = pattern(12'345, 7);
  Bytes echoed;
  std::exception_ptr failure;
  bool finished = false;
  asio::co_spawn(
      tcp.io,
      [&]() -> asio::awaitable<void> {
        const std::size_t written =
            co_await async_write_message(tcp.a, asio::buffer(hello), asio::use_awaitable);
        EXPECT_EQ(written, hello.size());
        Bytes received;
        co_await async_read_message(tcp.b, received, 1 << 16, asio::use_awaitable);
        co_await async_write_message(tcp.b, asio::buffer(received), asio::use_awaitable);
        co_await async_read_message(tcp.a, echoed, 1 << 16, asio::use_awaitable);
        finished = true;
      },
      [&](std::exception_ptr e) { failure = e; });
  tcp.io.run_for(kDeadline);
  EXPECT_FALSE(failure);
  EXPECT_TRUE(finished);
  EXPECT_EQ(echoed, hello);
}

// The reason for the helpers: framed messages over an srudp stream, both ways, many of them
// back to back (so reads must stop exactly at each message's end).
TEST(MessageTest, MessagesRoundTripOverAnSrudpStream) {
  test::LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  std::vector<Bytes> messages;
  for (std::size_t i = 0; i < 50; ++i) {
    messages.push_back(pattern(i * i * 37 % 70'000, static_cast<std::uint8_t>(i)));
  }
  std::vector<Bytes> echoed;
  // Named, so the lambdas (which hold the captures) outlive their coroutines.
  auto client = [&]() -> asio::awaitable<void> {  // send all, then read the echoes
    Stream stream = co_await pair.client_side.async_open_stream(asio::use_awaitable);
    for (const auto& m : messages) {
      co_await async_write_message(stream, asio::buffer(m), asio::use_awaitable);
    }
    for (std::size_t i = 0; i < messages.size(); ++i) {
      Bytes message;
      co_await async_read_message(stream, message, 1 << 20, asio::use_awaitable);
      echoed.push_back(std::move(message));
    }
  };
  auto server = [&]() -> asio::awaitable<void> {  // echo each message
    Stream stream = co_await pair.server_side.async_accept_stream(asio::use_awaitable);
    for (std::size_t i = 0; i < messages.size(); ++i) {
      Bytes message;
      co_await async_read_message(stream, message, 1 << 20, asio::use_awaitable);
      co_await async_write_message(stream, asio::buffer(message), asio::use_awaitable);
    }
  };
  test::Tasks tasks(pair.io);
  tasks.spawn(client());
  tasks.spawn(server());
  ASSERT_TRUE(tasks.run(kDeadline));
  EXPECT_EQ(echoed, messages);
}

}  // namespace
}  // namespace srudp
