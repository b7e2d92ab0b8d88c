// Boost.Beast over srudp streams, unchanged: a WebSocket echo (websocket::stream<srudp::Stream>)
// and an HTTP request/response.
#include "srudp/beast.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <string>
#include <vector>

#include "io/loopback.hpp"

namespace srudp::test {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;

static_assert(beast::is_async_stream<Stream>::value);

awaitable<void> websocket_echo_server(Connection connection, int& messages_echoed, bool& saw_close) {
  websocket::stream<Stream> ws(co_await connection.async_accept_stream(use_awaitable));
  co_await ws.async_accept(use_awaitable);
  for (;;) {
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(use_awaitable));
    if (ec == websocket::error::closed) {
      saw_close = true;
      co_return;
    }
    check(ec, "websocket read");
    ws.text(ws.got_text());
    co_await ws.async_write(buffer.data(), use_awaitable);
    ++messages_echoed;
  }
}

TEST(Beast, WebSocketEchoOverAnSrudpStream) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  Tasks tasks(pair.io);
  int messages_echoed = 0;
  bool saw_close = false;
  std::vector<std::string> replies;
  std::vector<std::string> messages = {"hello", "", std::string(300'000, 'b'), "{\"json\": true}"};
  tasks.spawn(websocket_echo_server(pair.server_side, messages_echoed, saw_close));
  const auto client = [&]() -> awaitable<void> {
    websocket::stream<Stream> ws(co_await pair.client_side.async_open_stream(use_awaitable));
    co_await ws.async_handshake("srudp.test", "/echo", use_awaitable);
    for (const std::string& m : messages) {
      ws.binary(m.size() > 1000);
      co_await ws.async_write(asio::buffer(m), use_awaitable);
      beast::flat_buffer buffer;
      co_await ws.async_read(buffer, use_awaitable);
      replies.push_back(beast::buffers_to_string(buffer.data()));
    }
    co_await ws.async_close(websocket::close_code::normal, use_awaitable);
  };
  tasks.spawn(client());
  EXPECT_TRUE(tasks.run(20s));
  EXPECT_EQ(replies, messages);
  EXPECT_EQ(messages_echoed, static_cast<int>(messages.size()));
  EXPECT_TRUE(saw_close);
}

TEST(Beast, HttpRequestAndResponseOverAnSrudpStream) {
  LoopbackPair pair;
  ASSERT_TRUE(pair.connected);
  Tasks tasks(pair.io);
  std::string target_seen, body_received;
  const auto server = [&]() -> awaitable<void> {
    Stream stream = co_await pair.server_side.async_accept_stream(use_awaitable);
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    co_await http::async_read(stream, buffer, request, use_awaitable);
    target_seen = std::string(request.target());
    http::response<http::string_body> response(http::status::ok, request.version());
    response.body() = std::string(50'000, 'r');
    response.prepare_payload();
    co_await http::async_write(stream, response, use_awaitable);
  };
  const auto client = [&]() -> awaitable<void> {
    Stream stream = co_await pair.client_side.async_open_stream(use_awaitable);
    http::request<http::string_body> request(http::verb::get, "/index.html", 11);
    request.set(http::field::host, "srudp.test");
    co_await http::async_write(stream, request, use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, use_awaitable);
    body_received = response.body();
  };
  tasks.spawn(server());
  tasks.spawn(client());
  EXPECT_TRUE(tasks.run(10s));
  EXPECT_EQ(target_seen, "/index.html");
  EXPECT_EQ(body_received, std::string(50'000, 'r'));
}

}  // namespace
}  // namespace srudp::test
