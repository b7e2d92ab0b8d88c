// Uses an installed srudp through its public headers only, as an application would: a server and
// a client endpoint on loopback, one connection (pre-shared key), one stream, and a framed message
// sent and echoed back (srudp/message.hpp); and the rdv client (srudp/rdv_client.hpp) linked and
// answering. Exits 0 when the echo came back intact.
#include <srudp/message.hpp>
#include <srudp/rdv_client.hpp>
#include <srudp/srudp.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::udp;

int main() {
  asio::io_context io;
  srudp::ConnectionOptions options;
  options.psk = srudp::Key{};
  for (std::size_t i = 0; i < options.psk->size(); ++i) (*options.psk)[i] = static_cast<std::uint8_t>(i + 1);
  const auto loopback = asio::ip::make_address("127.0.0.1");
  srudp::Endpoint server(io, udp::endpoint(loopback, 0),
                         srudp::EndpointOptions{.accept_incoming = true, .server = options});
  srudp::Endpoint client(io, udp::endpoint(loopback, 0));

  const std::string hello = "hello from an installed srudp";
  std::string echoed;
  int finished = 0;
  std::exception_ptr failure;
  const auto done = [&](std::exception_ptr e) {
    ++finished;
    if (e && !failure) failure = e;
  };
  // Named, so the lambdas (and their captures) outlive the coroutines.
  auto serve = [&]() -> asio::awaitable<void> {
    srudp::Connection connection = co_await server.async_accept(asio::use_awaitable);
    srudp::Stream stream = co_await connection.async_accept_stream(asio::use_awaitable);
    std::vector<std::uint8_t> message;
    co_await srudp::async_read_message(stream, message, 1024, asio::use_awaitable);
    co_await srudp::async_write_message(stream, asio::buffer(message), asio::use_awaitable);
  };
  auto talk = [&]() -> asio::awaitable<void> {
    srudp::Connection connection =
        co_await client.async_connect(server.local_endpoint(), options, asio::use_awaitable);
    srudp::Stream stream = co_await connection.async_open_stream(asio::use_awaitable);
    co_await srudp::async_write_message(stream, asio::buffer(hello), asio::use_awaitable);
    std::vector<std::uint8_t> message;
    co_await srudp::async_read_message(stream, message, 1024, asio::use_awaitable);
    echoed.assign(message.begin(), message.end());
  };
  asio::co_spawn(io, serve(), done);
  asio::co_spawn(io, talk(), done);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (finished < 2 && !failure && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(10));
  }

  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::cerr << "consumer: " << e.what() << "\n";
    }
    return 1;
  }
  if (echoed != hello) {
    std::cerr << "consumer: " << (finished < 2 ? "timed out" : "wrong echo '" + echoed + "'") << "\n";
    return 1;
  }
  std::cout << "consumer: echoed '" << echoed << "' over srudp\n";

  // The rdv client links too: a URL it cannot use fails at once with invalid_argument.
  srudp::rdv::Client rdv_client(io.get_executor());
  boost::system::error_code rdv_ec;
  bool rdv_done = false;
  rdv_client.async_dial("ftp://nowhere", "token", [&](boost::system::error_code ec, srudp::Connection) {
    rdv_ec = ec;
    rdv_done = true;
  });
  while (!rdv_done && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(5)) {
    io.run_one_for(std::chrono::milliseconds(10));
  }
  if (rdv_ec != std::error_code(srudp::errc::invalid_argument)) {
    std::cerr << "consumer: rdv client: " << rdv_ec.message() << "\n";
    return 1;
  }
  std::cout << "consumer: rdv client refused a bad URL: " << rdv_ec.message() << "\n";
  return 0;
}
