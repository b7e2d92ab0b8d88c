// srudp_echo_server: accepts srudp connections and echoes every stream and every datagram.
//
//   srudp_echo_server --listen [::]:4433 --psk <64 hex digits> [--once]
//   srudp_echo_server --listen 0.0.0.0:4433 --identity server.key --pin <client public key hex>
//
// Prints "listening on <address>" once the socket is bound (port 0 picks one).
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <iostream>
#include <vector>

#include "address.hpp"
#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_result = asio::as_tuple(use_awaitable);

namespace {

awaitable<void> echo_stream(srudp::Stream stream) {
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), as_result);
    if (ec) break;  // eof: the client is done sending
    auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(buffer.data(), n), as_result);
    if (write_ec) co_return;
  }
  stream.shutdown_send();
}

awaitable<void> echo_datagrams(srudp::Connection connection) {
  std::vector<std::uint8_t> buffer(2048);
  for (;;) {
    auto [ec, n] = co_await connection.async_receive_datagram(asio::buffer(buffer), as_result);
    if (ec) co_return;  // the connection closed
    connection.send_datagram(asio::buffer(buffer.data(), n));
  }
}

awaitable<void> serve(srudp::Connection connection, bool once, asio::io_context& io) {
  std::cout << "connection " << connection.id() << " from " << connection.remote_endpoint() << std::endl;
  asio::co_spawn(io, echo_datagrams(connection), asio::detached);
  for (;;) {
    auto [ec, stream] = co_await connection.async_accept_stream(as_result);
    if (ec) {
      std::cout << "connection " << connection.id() << " closed: " << ec.message() << std::endl;
      break;
    }
    asio::co_spawn(io, echo_stream(std::move(stream)), asio::detached);
  }
  if (once) io.stop();
}

awaitable<void> accept_loop(srudp::Endpoint& endpoint, bool once, asio::io_context& io) {
  for (;;) {
    auto [ec, connection] = co_await endpoint.async_accept(as_result);
    if (ec) co_return;
    asio::co_spawn(io, serve(std::move(connection), once, io), asio::detached);
    if (once) co_return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp echo server: echoes every stream and datagram of every connection"};
  std::string listen = "[::]:4433", psk_hex, identity_file, pin_hex;
  bool once = false;
  app.add_option("--listen", listen, "address:port to bind ([::] is dual-stack; port 0 picks one)");
  app.add_option("--psk", psk_hex, "pre-shared key, 64 hex digits");
  app.add_option("--identity", identity_file, "identity key file (srudp-identity-v1, mode 0600)");
  app.add_option("--pin", pin_hex, "the client's public key, 64 hex digits");
  app.add_flag("--once", once, "exit after the first connection closes");
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
  const auto local = srudp::examples::parse_endpoint(listen);
  if (!local) return std::cerr << "--listen: host:port expected\n", 2;

  asio::io_context io;
  boost::system::error_code ec;
  srudp::Endpoint endpoint(io.get_executor(), *local,
                           srudp::EndpointOptions{.accept_incoming = true, .server = options}, ec);
  if (ec) return std::cerr << "cannot serve on " << listen << ": " << ec.message() << "\n", 1;
  std::cout << "listening on " << endpoint.local_endpoint() << std::endl;

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  asio::co_spawn(io, accept_loop(endpoint, once, io), asio::detached);
  io.run();
  return 0;
}
