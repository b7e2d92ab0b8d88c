// Two srudp peers in one process on loopback, each with its own UDP socket, through the public
// API (srudp::Endpoint, Connection, Stream): the authenticated handshake (a pre-shared key, or
// identity keys each side pins), one stream echoed back byte for byte, and a burst of unreliable
// datagrams. Prints what happens and the figures; exits 0 when every byte came back intact.
//
//   srudp_loopback_demo [--mode psk|identity] [--bytes N] [--datagrams N]
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double ms(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string to_string(const asio::ip::udp::endpoint& e) {
  return e.address().to_string() + ":" + std::to_string(e.port());
}

std::string short_hex(const srudp::Key& key) { return srudp::to_hex(key).substr(0, 16) + "..."; }

struct Outcome {
  bool stream_intact = false;
  std::size_t datagrams_received = 0;
};

// B: echoes the first stream back, counts datagrams until A closes.
awaitable<void> serve(srudp::Endpoint& b, Outcome& outcome) {
  srudp::Connection connection = co_await b.async_accept(use_awaitable);
  std::printf("B: accepted %s from %s\n", connection.id().c_str(),
              to_string(connection.remote_endpoint()).c_str());
  if (auto key = connection.peer_identity()) std::printf("B: the peer proved identity %s\n", short_hex(*key).c_str());
  asio::co_spawn(b.get_executor(), [connection, &outcome]() mutable -> awaitable<void> {
    std::vector<std::uint8_t> buffer(2048);
    for (;;) {
      auto [ec, n] = co_await connection.async_receive_datagram(asio::buffer(buffer), asio::as_tuple(use_awaitable));
      if (ec) co_return;
      ++outcome.datagrams_received;
    }
  }, asio::detached);
  srudp::Stream stream = co_await connection.async_accept_stream(use_awaitable);
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
    if (ec) break;  // eof: A finished sending
    co_await asio::async_write(stream, asio::buffer(buffer.data(), n), use_awaitable);
  }
  stream.shutdown_send();
}

// A: connects, sends `bytes` on a stream and reads the echo, then a burst of datagrams.
awaitable<void> run(srudp::Endpoint& a, asio::ip::udp::endpoint to_b, srudp::ConnectionOptions options,
                    std::size_t bytes, std::size_t datagrams, Outcome& outcome) {
  const auto start = Clock::now();
  srudp::Connection connection = co_await a.async_connect(to_b, options, use_awaitable);
  std::printf("A: established %s in %.2f ms (handshake, then ESTABLISHED confirmed both ways)\n",
              connection.id().c_str(), seconds_since(start) * 1e3);
  if (auto key = connection.peer_identity()) std::printf("A: the peer proved identity %s\n", short_hex(*key).c_str());

  std::vector<std::uint8_t> data(bytes);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + (i >> 11));
  srudp::Stream stream = co_await connection.async_open_stream(use_awaitable);
  const auto transfer_start = Clock::now();
  std::vector<std::uint8_t> echoed(bytes);
  // Write and read at once: the echo comes back while we still send.
  bool written = false;
  asio::co_spawn(a.get_executor(), [&]() -> awaitable<void> {
    co_await asio::async_write(stream, asio::buffer(data), use_awaitable);
    stream.shutdown_send();
    written = true;
  }, asio::detached);
  co_await asio::async_read(stream, asio::buffer(echoed), use_awaitable);
  const double transfer = seconds_since(transfer_start);
  outcome.stream_intact = written && echoed == data;
  std::printf("A: %zu bytes sent and echoed back %s in %.3f s (%.1f MB/s each way)\n", bytes,
              outcome.stream_intact ? "intact" : "DIFFERENT", transfer,
              static_cast<double>(bytes) / transfer / 1e6);

  const std::vector<std::uint8_t> payload(std::min<std::size_t>(1000, connection.max_datagram_size()), 0x5a);
  asio::steady_timer pause(a.get_executor());
  for (std::size_t i = 0; i < datagrams; ++i) {
    connection.send_datagram(asio::buffer(payload));
    if (i % 32 == 31) {  // unreliable datagrams are dropped, not queued, when sent faster than the path
      pause.expires_after(std::chrono::milliseconds(1));
      co_await pause.async_wait(use_awaitable);
    }
  }
  pause.expires_after(std::chrono::milliseconds(100));
  co_await pause.async_wait(use_awaitable);
  std::printf("A: %zu datagrams of %zu bytes sent, B received %zu\n", datagrams, payload.size(),
              outcome.datagrams_received);

  const srudp::ConnectionStats s = connection.stats();
  std::printf("A: rtt %.3f ms (min %.3f), path MTU %llu, cwnd %llu, %llu packets sent, %llu lost, %llu "
              "bytes retransmitted\n",
              ms(s.smoothed_rtt), ms(s.min_rtt), static_cast<unsigned long long>(s.path_mtu),
              static_cast<unsigned long long>(s.congestion_window), static_cast<unsigned long long>(s.packets_sent),
              static_cast<unsigned long long>(s.packets_lost),
              static_cast<unsigned long long>(s.bytes_retransmitted));
  connection.close(0, "done");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp loopback demo: two peers, one handshake, a stream echoed and a burst of datagrams"};
  std::string mode = "psk";
  std::size_t bytes = 4 << 20, datagrams = 300;
  app.add_option("--mode", mode, "psk (Noise NNpsk0) or identity (Noise XX, keys pinned both ways)")
      ->check(CLI::IsMember({"psk", "identity"}));
  app.add_option("--bytes", bytes, "bytes sent on the stream and echoed back");
  app.add_option("--datagrams", datagrams, "unreliable datagrams sent after the stream");
  CLI11_PARSE(app, argc, argv);

  srudp::ConnectionOptions a_options, b_options;
  if (mode == "psk") {
    std::printf("mode: pre-shared key (Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b)\n");
    a_options.psk = b_options.psk = srudp::random_key();
  } else {
    std::printf("mode: identity keys, each side pins the other (Noise_XX_25519_ChaChaPoly_BLAKE2b)\n");
    a_options.identity_secret = srudp::random_key();
    b_options.identity_secret = srudp::random_key();
    a_options.pinned_peer = srudp::public_key_of(*b_options.identity_secret);
    b_options.pinned_peer = srudp::public_key_of(*a_options.identity_secret);
    std::printf("A identity %s, B identity %s\n", short_hex(*b_options.pinned_peer).c_str(),
                short_hex(*a_options.pinned_peer).c_str());
  }

  asio::io_context io;
  const asio::ip::udp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  srudp::Endpoint b(io, loopback, srudp::EndpointOptions{.accept_incoming = true, .server = b_options});
  srudp::Endpoint a(io, loopback);
  std::printf("A on %s, B on %s\n", to_string(a.local_endpoint()).c_str(), to_string(b.local_endpoint()).c_str());

  Outcome outcome;
  std::exception_ptr failure;
  auto record = [&](std::exception_ptr e) {
    if (e && !failure) failure = e;
  };
  asio::co_spawn(io, serve(b, outcome), record);
  asio::co_spawn(io, run(a, b.local_endpoint(), a_options, bytes, datagrams, outcome), [&](std::exception_ptr e) {
    record(e);
    io.stop();
  });
  asio::steady_timer deadline(io, std::chrono::seconds(60));
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec) return;
    std::printf("demo: no result within 60 s\n");
    io.stop();
  });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::printf("demo failed: %s\n", e.what());
    }
    return 1;
  }
  const bool ok = outcome.stream_intact && outcome.datagrams_received > 0;
  std::printf("%s\n", ok ? "demo: ok" : "demo: FAILED");
  return ok ? 0 : 1;
}
