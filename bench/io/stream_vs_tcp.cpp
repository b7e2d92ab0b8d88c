// Loopback throughput of srudp streams against kernel TCP, measured in the same run: one stream of
// 64 MiB, and 16 parallel streams of 4 MiB each (one srudp connection; 16 TCP connections). The
// receiver and the sender each run on their own thread (their own io_context), as two processes
// would. Prints MB/s of payload (median of the rounds) and the ratio srudp / TCP.
//
//   srudp_stream_vs_tcp [--rounds N] [--megabytes M]
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "srudp/srudp.hpp"
#ifdef SRUDP_BENCH_ENET
#include "enet_baseline.hpp"
#endif

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kChunk = 256 * 1024;

// Reads a stream (srudp::Stream or tcp::socket) to its end; returns the bytes read.
template <class AsyncStream>
awaitable<std::size_t> drain(AsyncStream& stream) {
  std::vector<std::uint8_t> buffer(kChunk);
  std::size_t total = 0;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
    total += n;
    if (ec) co_return total;
  }
}

template <class AsyncStream>
awaitable<void> fill(AsyncStream& stream, std::size_t bytes) {
  const std::vector<std::uint8_t> chunk(kChunk, 0x5a);
  for (std::size_t sent = 0; sent < bytes;) {
    const std::size_t n = std::min(kChunk, bytes - sent);
    co_await asio::async_write(stream, asio::buffer(chunk.data(), n), use_awaitable);
    sent += n;
  }
}

// One srudp stream read to its end; the last one to finish reports the time.
awaitable<void> receive_one(srudp::Stream stream, std::atomic<std::size_t>& received, int& finished, int streams,
                            std::promise<Clock::time_point>& done) {
  received += co_await drain(stream);
  if (++finished == streams) done.set_value(Clock::now());
}

awaitable<void> send_one(srudp::Stream stream, std::size_t bytes) {
  co_await fill(stream, bytes);
  stream.shutdown_send();
}

// The receiver's and the sender's io_context, each run by its own thread. Declared before the
// sockets and endpoints that use them, so those go first; stop() joins the threads before that.
struct TwoThreads {
  asio::io_context receiver_io, sender_io;
  std::thread receiver_thread, sender_thread;
  void start() {
    receiver_thread = std::thread([this] { receiver_io.run(); });
    sender_thread = std::thread([this] { sender_io.run(); });
  }
  void stop() {
    receiver_io.stop();
    sender_io.stop();
    if (receiver_thread.joinable()) receiver_thread.join();
    if (sender_thread.joinable()) sender_thread.join();
  }
  ~TwoThreads() { stop(); }
};

// Waits for the receiver to report the end; nullopt after two minutes.
std::optional<Clock::time_point> wait(std::promise<Clock::time_point>& done) {
  auto finish = done.get_future();
  if (finish.wait_for(std::chrono::seconds(120)) != std::future_status::ready) return std::nullopt;
  return finish.get();
}

double measure_srudp(int streams, std::size_t bytes_each) {
  TwoThreads t;
  srudp::ConnectionOptions options;
  options.psk = srudp::random_key();
  options.connection_receive_window = 16 << 20;
  options.stream_receive_window = 4 << 20;
  const asio::ip::udp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  srudp::Endpoint server(t.receiver_io, loopback, srudp::EndpointOptions{.accept_incoming = true, .server = options});
  srudp::Endpoint client(t.sender_io, loopback);
  std::promise<Clock::time_point> done;
  std::atomic<std::size_t> received{0};
  int finished = 0;  // streams read to their end (receiver thread only)

  asio::co_spawn(t.receiver_io, [&]() -> awaitable<void> {
    srudp::Connection connection = co_await server.async_accept(use_awaitable);
    for (int i = 0; i < streams; ++i) {
      srudp::Stream stream = co_await connection.async_accept_stream(use_awaitable);
      asio::co_spawn(t.receiver_io, receive_one(std::move(stream), received, finished, streams, done), asio::detached);
    }
  }, asio::detached);
  Clock::time_point start;
  // Held until the receiver has everything, so the measurement ends with the transfer, not with
  // a linger (dropping the last handle would close the connection once the data is acknowledged).
  srudp::Connection sender_connection;
  asio::co_spawn(t.sender_io, [&]() -> awaitable<void> {
    srudp::Connection connection = co_await client.async_connect(server.local_endpoint(), options, use_awaitable);
    sender_connection = connection;
    start = Clock::now();
    for (int i = 0; i < streams; ++i) {
      srudp::Stream stream = co_await connection.async_open_stream(use_awaitable);
      asio::co_spawn(t.sender_io, send_one(std::move(stream), bytes_each), asio::detached);
    }
  }, asio::detached);
  t.start();
  const auto end = wait(done);
  t.stop();
  if (!end || received != static_cast<std::size_t>(streams) * bytes_each) {
    std::fprintf(stderr, "srudp: received %zu of %zu bytes\n", received.load(), static_cast<std::size_t>(streams) * bytes_each);
    return -1;
  }
  return std::chrono::duration<double>(*end - start).count();
}

double measure_tcp(int streams, std::size_t bytes_each) {
  TwoThreads t;
  asio::ip::tcp::acceptor acceptor(t.receiver_io, {asio::ip::make_address("127.0.0.1"), 0});
  std::promise<Clock::time_point> done;
  std::atomic<std::size_t> received{0};
  int finished = 0;  // streams read to their end (receiver thread only)

  asio::co_spawn(t.receiver_io, [&]() -> awaitable<void> {
    for (int i = 0; i < streams; ++i) {
      auto socket = std::make_shared<asio::ip::tcp::socket>(co_await acceptor.async_accept(use_awaitable));
      asio::co_spawn(t.receiver_io, [&, socket]() -> awaitable<void> {
        received += co_await drain(*socket);
        if (++finished == streams) done.set_value(Clock::now());
      }, asio::detached);
    }
  }, asio::detached);
  Clock::time_point start = Clock::now();
  asio::co_spawn(t.sender_io, [&]() -> awaitable<void> {
    std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets;
    for (int i = 0; i < streams; ++i) {
      auto socket = std::make_shared<asio::ip::tcp::socket>(t.sender_io);
      co_await socket->async_connect(acceptor.local_endpoint(), use_awaitable);
      sockets.push_back(socket);
    }
    start = Clock::now();
    for (auto& socket : sockets) {
      asio::co_spawn(t.sender_io, [socket, bytes_each]() -> awaitable<void> {
        co_await fill(*socket, bytes_each);
        socket->shutdown(asio::ip::tcp::socket::shutdown_send);
      }, asio::detached);
    }
  }, asio::detached);
  t.start();
  const auto end = wait(done);
  t.stop();
  if (!end || received != static_cast<std::size_t>(streams) * bytes_each) return -1;
  return std::chrono::duration<double>(*end - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp streams against kernel TCP on loopback, in the same run"};
  int rounds = 3;
  std::size_t megabytes = 64;
  app.add_option("--rounds", rounds, "rounds per case (the median is reported)")->check(CLI::Range(1, 50));
  app.add_option("--megabytes", megabytes, "payload per case")->check(CLI::Range(1, 4096));
  CLI11_PARSE(app, argc, argv);

  const std::size_t total = megabytes << 20;
  std::printf("%-24s %12s %12s %8s\n", "case", "srudp MB/s", "TCP MB/s", "ratio");
  int failures = 0;
  double srudp_single = 0;  // MB/s of one stream, for the ENet ratio
  for (const int streams : {1, 16}) {
    std::vector<double> srudp_rates, tcp_rates;
    for (int r = 0; r < rounds; ++r) {
      const double s = measure_srudp(streams, total / static_cast<std::size_t>(streams));
      const double t = measure_tcp(streams, total / static_cast<std::size_t>(streams));
      if (s <= 0 || t <= 0) {
        ++failures;
        continue;
      }
      srudp_rates.push_back(static_cast<double>(total) / s / 1e6);
      tcp_rates.push_back(static_cast<double>(total) / t / 1e6);
    }
    if (srudp_rates.empty()) continue;
    const double s = median(srudp_rates), t = median(tcp_rates);
    if (streams == 1) srudp_single = s;
    char name[64];
    std::snprintf(name, sizeof name, "%d stream%s, %zu MiB", streams, streams == 1 ? "" : "s", megabytes);
    std::printf("%-24s %12.1f %12.1f %8.3f\n", name, s, t, s / t);
  }
#ifdef SRUDP_BENCH_ENET
  // ENet's reliable channel, one peer, 1200-byte packets, unencrypted: the same payload.
  std::vector<double> enet_rates;
  for (int r = 0; r < rounds; ++r) {
    if (const auto seconds = enet_baseline::bulk_seconds(total)) enet_rates.push_back(static_cast<double>(total) / *seconds / 1e6);
  }
  if (!enet_rates.empty()) {
    const double e = median(enet_rates);
    std::printf("%-24s %12.1f (ENet reliable, 1200-byte packets; srudp 1 stream / ENet %.3f)\n", "ENet, 1 peer", e,
                srudp_single / e);
  }
#endif
  return failures == 0 ? 0 : 1;
}
