// srudp_bench_vs_tcp: the smallest side-by-side of srudp and kernel TCP on this machine. Both run
// over loopback in this one process, on one thread, through the same generic code (an srudp
// Stream and a TCP socket are both Asio byte streams): connection set-up time, one bulk transfer,
// and 64-byte ping-pong round trips (TCP with TCP_NODELAY). bench/ and ./scripts/bench measure
// more carefully; this shows how to get the numbers for your own machine in a few lines.
//
//   srudp_bench_vs_tcp [--mib 256] [--pings 10000]
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

namespace {

struct Figures {
  double setup_us = 0, bulk_mb_s = 0, rtt_p50_us = 0, rtt_p99_us = 0;
};

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

void finish_sending(srudp::Stream& s) { (void)s.shutdown_send(); }
void finish_sending(tcp::socket& s) { s.shutdown(tcp::socket::shutdown_send); }

template <class AsyncStream>
awaitable<void> send_bytes(AsyncStream& stream, std::size_t bytes) {
  const std::vector<char> chunk(256 * 1024, 'x');
  for (std::size_t sent = 0; sent < bytes; sent += chunk.size()) {
    co_await asio::async_write(stream, asio::buffer(chunk.data(), std::min(chunk.size(), bytes - sent)), use_awaitable);
  }
  finish_sending(stream);
}

template <class AsyncStream>
awaitable<void> read_to_end(AsyncStream& stream) {
  std::vector<char> buffer(256 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
    if (ec) co_return;
  }
}

template <class AsyncStream>
awaitable<void> echo_pings(AsyncStream& stream) {
  std::array<char, 64> ping{};
  for (;;) {
    auto [ec, n] = co_await asio::async_read(stream, asio::buffer(ping), asio::as_tuple(use_awaitable));
    if (ec) co_return;
    co_await asio::async_write(stream, asio::buffer(ping), use_awaitable);
  }
}

template <class AsyncStream>
awaitable<void> ping(AsyncStream& stream, int count, std::vector<double>& rtts) {
  std::array<char, 64> message{};
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    co_await asio::async_write(stream, asio::buffer(message), use_awaitable);
    co_await asio::async_read(stream, asio::buffer(message), use_awaitable);
    rtts.push_back(micros(Clock::now() - start));
  }
  finish_sending(stream);
}

// The same measurements on two connected pairs of streams (a_bulk -> b_bulk, a_ping <-> b_ping).
template <class AsyncStream>
awaitable<void> measure(AsyncStream& a_bulk, AsyncStream& b_bulk, AsyncStream& a_ping, AsyncStream& b_ping,
                        std::size_t bytes, int pings, Figures& f) {
  const auto start = Clock::now();
  co_await (send_bytes(a_bulk, bytes) && read_to_end(b_bulk));
  f.bulk_mb_s = static_cast<double>(bytes) / micros(Clock::now() - start);
  std::vector<double> rtts;
  co_await (ping(a_ping, pings, rtts) && echo_pings(b_ping));
  std::sort(rtts.begin(), rtts.end());
  f.rtt_p50_us = rtts[rtts.size() / 2];
  f.rtt_p99_us = rtts[rtts.size() * 99 / 100];
}

awaitable<void> run_tcp(std::size_t bytes, int pings, Figures& f) {
  auto executor = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(executor, {asio::ip::make_address("127.0.0.1"), 0});
  std::array<tcp::socket, 2> a{tcp::socket(executor), tcp::socket(executor)};
  std::array<tcp::socket, 2> b{tcp::socket(executor), tcp::socket(executor)};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto start = Clock::now();
    co_await (a[i].async_connect(acceptor.local_endpoint(), use_awaitable) && acceptor.async_accept(b[i], use_awaitable));
    if (i == 0) f.setup_us = micros(Clock::now() - start);
    a[i].set_option(tcp::no_delay(true));
    b[i].set_option(tcp::no_delay(true));
  }
  co_await measure(a[0], b[0], a[1], b[1], bytes, pings, f);
}

// An srudp stream pair: opened on `a`, accepted on `b` (a stream shows up once it carries data).
awaitable<std::pair<srudp::Stream, srudp::Stream>> stream_pair(srudp::Connection a, srudp::Connection b) {
  srudp::Stream opened = co_await a.async_open_stream(use_awaitable);
  char hello = 'h';
  co_await asio::async_write(opened, asio::buffer(&hello, 1), use_awaitable);
  srudp::Stream accepted = co_await b.async_accept_stream(use_awaitable);
  co_await asio::async_read(accepted, asio::buffer(&hello, 1), use_awaitable);
  co_return std::pair{std::move(opened), std::move(accepted)};
}

awaitable<void> run_srudp(std::size_t bytes, int pings, Figures& f) {
  auto executor = co_await asio::this_coro::executor;
  srudp::ConnectionOptions options;
  srudp::Key psk{};  // both sides are in this process; real peers share a secret one
  std::random_device random;
  for (auto& byte : psk) byte = static_cast<std::uint8_t>(random());
  options.psk = psk;
  srudp::Endpoint server(executor, {asio::ip::make_address("127.0.0.1"), 0},
                         srudp::EndpointOptions{.accept_incoming = true, .server = options});
  srudp::Endpoint client(executor, {asio::ip::make_address("127.0.0.1"), 0});
  const auto start = Clock::now();
  auto [a, b] = co_await (client.async_connect(server.local_endpoint(), options, use_awaitable) &&
                          server.async_accept(use_awaitable));
  f.setup_us = micros(Clock::now() - start);
  auto [a_bulk, b_bulk] = co_await stream_pair(a, b);
  auto [a_ping, b_ping] = co_await stream_pair(a, b);
  co_await measure(a_bulk, b_bulk, a_ping, b_ping, bytes, pings, f);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp_bench_vs_tcp: srudp and kernel TCP side by side on loopback"};
  std::size_t mib = 256;
  int pings = 10000;
  app.add_option("--mib", mib, "bulk transfer size")->check(CLI::Range(1, 65536));
  app.add_option("--pings", pings, "64-byte round trips")->check(CLI::Range(1, 10'000'000));
  CLI11_PARSE(app, argc, argv);

  asio::io_context io;
  Figures srudp_figures, tcp_figures;
  const std::size_t bytes = mib * 1024 * 1024;
  auto fail = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  asio::co_spawn(io, run_tcp(bytes, pings, tcp_figures), fail);
  io.run();
  io.restart();
  asio::co_spawn(io, run_srudp(bytes, pings, srudp_figures), fail);
  io.run();

  std::printf("%-28s %12s %12s %10s\n", "loopback, one thread", "srudp", "kernel TCP", "srudp/TCP");
  const auto row = [](const char* what, double s, double t) { std::printf("%-28s %12.1f %12.1f %10.2f\n", what, s, t, s / t); };
  row("connection set-up (us)", srudp_figures.setup_us, tcp_figures.setup_us);
  row("bulk, one stream (MB/s)", srudp_figures.bulk_mb_s, tcp_figures.bulk_mb_s);
  row("64-byte round trip p50 (us)", srudp_figures.rtt_p50_us, tcp_figures.rtt_p50_us);
  row("64-byte round trip p99 (us)", srudp_figures.rtt_p99_us, tcp_figures.rtt_p99_us);
  std::printf("(srudp encrypts and authenticates every packet; this TCP does neither)\n");
  return 0;
}
