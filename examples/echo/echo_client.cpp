// srudp_echo_client: connects to srudp_echo_server, sends streams and datagrams, and checks that
// exactly the same bytes come back. Exit status 0 when they all do.
//
//   srudp_echo_client --connect 127.0.0.1:4433 --psk <64 hex digits> [--streams 8] [--bytes 1000000]
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <variant>
#include <vector>

#include "address.hpp"
#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> bytes(n);
  randombytes_buf(bytes.data(), bytes.size());
  return bytes;
}

// Sends `data` on a new stream and reads the echo; true when it is byte for byte the same.
awaitable<bool> echo_stream(srudp::Connection connection, std::vector<std::uint8_t> data) {
  srudp::Stream stream = co_await connection.async_open_stream(use_awaitable);
  std::vector<std::uint8_t> echoed;
  std::vector<std::uint8_t> buffer(64 * 1024);
  std::size_t sent = 0;
  // Write and read in turns so neither side's buffers have to hold everything.
  while (sent < data.size()) {
    const std::size_t n = std::min<std::size_t>(256 * 1024, data.size() - sent);
    co_await asio::async_write(stream, asio::buffer(data.data() + sent, n), use_awaitable);
    sent += n;
    while (echoed.size() + buffer.size() <= sent) {
      const std::size_t got = co_await stream.async_read_some(asio::buffer(buffer), use_awaitable);
      echoed.insert(echoed.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(got));
    }
  }
  stream.shutdown_send();
  for (;;) {
    auto [ec, got] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
    if (ec == asio::error::eof) break;
    if (ec) throw boost::system::system_error(ec, "read");
    echoed.insert(echoed.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(got));
  }
  co_return echoed == data;
}

awaitable<int> run(srudp::Endpoint& endpoint, asio::ip::udp::endpoint server, srudp::ConnectionOptions options,
                   int streams, std::size_t bytes, int datagrams) {
  const auto start = std::chrono::steady_clock::now();
  srudp::Connection connection = co_await endpoint.async_connect(server, options, use_awaitable);
  std::cout << "connected to " << connection.remote_endpoint() << " as " << connection.id() << std::endl;

  int failures = 0;
  // The streams run concurrently: start them all, then collect.
  int running = streams;
  asio::steady_timer all_done(endpoint.get_executor(), asio::steady_timer::time_point::max());
  for (int i = 0; i < streams; ++i) {
    asio::co_spawn(endpoint.get_executor(), echo_stream(connection, random_bytes(bytes)),
                   [&](std::exception_ptr e, bool same) {
                     failures += e || !same;
                     if (--running == 0) all_done.cancel();
                   });
  }
  if (running > 0) co_await all_done.async_wait(asio::as_tuple(use_awaitable));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d stream(s) x %zu bytes echoed in %.2f s: %d identical, %d different\n", streams, bytes, seconds,
              streams - failures, failures);

  // Datagrams are unreliable: each gets a second to come back.
  int datagrams_back = 0;
  std::vector<std::uint8_t> buffer(2048);
  for (int i = 0; i < datagrams; ++i) {
    const auto sent = random_bytes(100);
    connection.send_datagram(asio::buffer(sent));
    asio::steady_timer timeout(endpoint.get_executor(), std::chrono::seconds(1));
    // Whichever finishes first cancels the other (through its cancellation slot).
    auto first = co_await (connection.async_receive_datagram(asio::buffer(buffer), use_awaitable) ||
                           timeout.async_wait(use_awaitable));
    if (first.index() != 0) continue;  // lost
    const std::size_t n = std::get<0>(first);
    datagrams_back += std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n)) == sent;
  }
  std::printf("%d of %d datagram(s) echoed\n", datagrams_back, datagrams);

  const srudp::ConnectionStats stats = connection.stats();
  std::printf("rtt %.3f ms, %llu packets sent, %llu lost, path MTU %llu\n",
              std::chrono::duration<double, std::milli>(stats.smoothed_rtt).count(),
              static_cast<unsigned long long>(stats.packets_sent), static_cast<unsigned long long>(stats.packets_lost),
              static_cast<unsigned long long>(stats.path_mtu));
  connection.close();
  const bool echoed = failures == 0 && (datagrams == 0 || datagrams_back > 0);
  co_return echoed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp echo client: sends streams and datagrams, checks the echo"};
  std::string connect, psk_hex, identity_file, pin_hex;
  int streams = 8, datagrams = 10;
  std::size_t bytes = 1'000'000;
  app.add_option("--connect", connect, "the server's address:port")->required();
  app.add_option("--psk", psk_hex, "pre-shared key, 64 hex digits");
  app.add_option("--identity", identity_file, "identity key file (srudp-identity-v1, mode 0600)");
  app.add_option("--pin", pin_hex, "the server's public key, 64 hex digits");
  app.add_option("--streams", streams, "concurrent streams")->check(CLI::Range(0, 100));
  app.add_option("--bytes", bytes, "bytes per stream");
  app.add_option("--datagrams", datagrams, "datagrams to echo")->check(CLI::Range(0, 100000));
  CLI11_PARSE(app, argc, argv);

  srudp::ConnectionOptions options;
  if (!psk_hex.empty()) {
    options.psk = srudp::key_from_hex(psk_hex);
    if (!options.psk) return std::cerr << "--psk: 64 hex digits expected\n", 2;
  }
  options.identity_file = identity_file;
  if (!pin_hex.empty()) {
    options.pinned_peer = srudp::key_from_hex(pin_hex);
    if (!options.pinned_peer) return std::cerr << "--pin: 64 hex digits expected\n", 2;
  }
  options.handshake_timeout = std::chrono::seconds(5);
  const auto server = srudp::examples::parse_endpoint(connect);
  if (!server) return std::cerr << "--connect: host:port expected\n", 2;

  asio::io_context io;
  // A dual-stack socket reaches IPv4 and IPv6 servers alike.
  srudp::Endpoint endpoint(io, asio::ip::udp::endpoint(server->address().is_v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), 0));
  int status = 1;
  asio::co_spawn(io, run(endpoint, *server, options, streams, bytes, datagrams), [&](std::exception_ptr e, int s) {
    status = s;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& error) {
        std::cerr << "echo failed: " << error.what() << "\n";
      }
      status = 1;
    }
    endpoint.close();
  });
  io.run_for(std::chrono::seconds(60));  // bounded: a silent server must not hang a script
  return status;
}
