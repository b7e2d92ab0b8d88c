// Bulk throughput of srudp streams against what users would use instead and against the limits,
// measured in the same run: one stream, and 16 parallel streams (one srudp connection; 16 TCP
// connections). The receiver and the sender each run on their own thread, as two processes
// would. Rows:
//   - raw UDP (one call per datagram, mmsg batches, GSO/GRO, GSO/GRO + AES-256-GCM or
//     ChaCha20-Poly1305 per datagram): the limits, with no reliability (raw_udp_baseline.hpp);
//   - kernel TCP; ENet reliable, when libenet is installed (enet_baseline.hpp); SRT in file
//     mode with AES-128, when libsrt is installed (srt_baseline.hpp);
//   - quinn (Rust QUIC, encrypted) and KCP (kcp-go, unencrypted), when their peer programs are
//     given (--quinn, --kcp; scripts/build_peers builds them from Debian's packages), each side a
//     child process (external_peer.hpp);
//   - srudp streams (AES-256-GCM where the CPU has AES-NI).
// Each prints MB/s of payload and CPU seconds per GB (the whole process, both sides, user +
// system), medians of the rounds, then srudp's ratios. The rounds interleave: round 1 of every
// case, then round 2, and so on. --json FILE writes the same figures.
// By default on loopback; --receiver-netns/--sender-netns put the two sides in network
// namespaces (placement.hpp), which is how scripts/bench_paths measures loss and rate limits.
//
//   srudp_stream_vs_tcp [--rounds N] [--megabytes M] [--json FILE] [--receiver-netns A
//                        --sender-netns B --receiver-ip IP --sender-ip IP] [--no-raw] [--filter TEXT]
//                       [--congestion cubic|newreno|bbr] [--tcp-congestion cubic|reno|bbr]
//                       [--quinn PROGRAM [--quinn-congestion cubic|bbr|newreno]] [--kcp PROGRAM]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include <cerrno>
#include <cstring>

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
#include <exception>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <string>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "external_peer.hpp"
#include "placement.hpp"
#include "raw_udp_baseline.hpp"
#include "srudp/srudp.hpp"
#ifdef SRUDP_BENCH_ENET
#include "enet_baseline.hpp"
#endif
#ifdef SRUDP_BENCH_SRT
#include "srt_baseline.hpp"
#endif

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kChunk = 256 * 1024;

// The application's buffers, one to write from and one to read into per stream, allocated and
// touched before the clock starts. Fresh memory costs a page fault per 4 KiB page on first touch,
// about 10 us each on this project's VMs: the sender and then the receiver each spent a millisecond
// or more filling a 256 KiB buffer inside the measured time (perf), where the raw UDP baseline has
// nothing like it. That is the application's cost, not the transport's; the transport's own
// buffers still count.
struct AppBuffers {
  explicit AppBuffers(int streams)
      : send(static_cast<std::size_t>(streams), std::vector<std::uint8_t>(kChunk, 0x5a)),
        receive(static_cast<std::size_t>(streams), std::vector<std::uint8_t>(kChunk, 0)) {}
  std::vector<std::vector<std::uint8_t>> send, receive;
};

// Reads a stream (srudp::Stream or tcp::socket) to its end into `buffer`; returns the bytes read.
template <class AsyncStream>
awaitable<std::size_t> drain(AsyncStream& stream, std::span<std::uint8_t> buffer) {
  std::size_t total = 0;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer.data(), buffer.size()), asio::as_tuple(use_awaitable));
    total += n;
    if (ec) co_return total;
  }
}

// Writes `bytes` to a stream, `chunk` at a time.
template <class AsyncStream>
awaitable<void> fill(AsyncStream& stream, std::size_t bytes, std::span<const std::uint8_t> chunk) {
  for (std::size_t sent = 0; sent < bytes;) {
    const std::size_t n = std::min(chunk.size(), bytes - sent);
    co_await asio::async_write(stream, asio::buffer(chunk.data(), n), use_awaitable);
    sent += n;
  }
}

// One srudp stream read to its end; the last one to finish reports the time.
awaitable<void> receive_one(srudp::Stream stream, std::span<std::uint8_t> buffer, std::atomic<std::size_t>& received,
                            int& finished, int streams, std::promise<Clock::time_point>& done) {
  received += co_await drain(stream, buffer);
  if (++finished == streams) done.set_value(Clock::now());
}

awaitable<void> send_one(srudp::Stream stream, std::size_t bytes, std::span<const std::uint8_t> chunk) {
  co_await fill(stream, bytes, chunk);
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
  // CPU seconds each thread has used so far (while both run), to tell which side is the bottleneck.
  static double cpu_seconds_of(std::thread& thread) {
    clockid_t clock{};
    timespec ts{};
    if (pthread_getcpuclockid(thread.native_handle(), &clock) != 0 || clock_gettime(clock, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }
  double receiver_cpu() { return cpu_seconds_of(receiver_thread); }
  double sender_cpu() { return cpu_seconds_of(sender_thread); }
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

std::string srudp_aead;  // as negotiated in the last srudp run
std::string srudp_sender_state;  // the sender's figures at the end of the last srudp run
srudp::CongestionControl srudp_congestion = srudp::CongestionControl::bbr;
std::string tcp_congestion;  // empty: the kernel's default

double measure_srudp(const bench::Placement& where, int streams, std::size_t bytes_each) {
  TwoThreads t;
  srudp::ConnectionOptions options;
  options.psk = srudp::random_key();
  options.connection_receive_window = 16 << 20;
  options.stream_receive_window = 4 << 20;
  options.congestion = srudp_congestion;
  where.enter_receiver();
  srudp::Endpoint server(t.receiver_io, {asio::ip::make_address(where.receiver_ip), 0},
                         srudp::EndpointOptions{.accept_incoming = true, .server = options});
  where.enter_sender();
  srudp::Endpoint client(t.sender_io, {asio::ip::make_address(where.sender_ip), 0});
  where.go_home();
  std::promise<Clock::time_point> done;
  std::atomic<std::size_t> received{0};
  int finished = 0;  // streams read to their end (receiver thread only)
  AppBuffers buffers(streams);

  srudp::Connection receiver_connection;  // held too, so neither side closes before the figures are read
  asio::co_spawn(t.receiver_io, [&]() -> awaitable<void> {
    srudp::Connection connection = co_await server.async_accept(use_awaitable);
    receiver_connection = connection;
    for (int i = 0; i < streams; ++i) {
      srudp::Stream stream = co_await connection.async_accept_stream(use_awaitable);
      asio::co_spawn(t.receiver_io,
                     receive_one(std::move(stream), buffers.receive[static_cast<std::size_t>(i)], received, finished,
                                 streams, done),
                     asio::detached);
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
      asio::co_spawn(t.sender_io, send_one(std::move(stream), bytes_each, buffers.send[static_cast<std::size_t>(i)]),
                     asio::detached);
    }
  }, asio::detached);
  t.start();
  const auto end = wait(done);
  const double sender_cpu = t.sender_cpu(), receiver_cpu = t.receiver_cpu();  // from their start
  t.stop();
  const srudp::ConnectionStats stats = sender_connection.stats();
  srudp_aead = std::string(stats.packet_aead);
  const srudp::ConnectionStats receiver_stats = receiver_connection.stats();
  // Busy: each thread's CPU time over the transfer's duration (the handshake is in both, and short).
  const double seconds = end ? std::chrono::duration<double>(*end - start).count() : 0;
  char state[400];
  std::snprintf(state, sizeof state,
                "srtt %.0f us, min rtt %.0f us, cwnd %llu B, %llu packets sent, %.2f%% of them declared lost, %llu B per packet, "
                "%.3f packets from the receiver per packet sent; sending thread %.0f%% busy, receiving thread %.0f%%",
                std::chrono::duration<double, std::micro>(stats.smoothed_rtt).count(),
                std::chrono::duration<double, std::micro>(stats.min_rtt).count(),
                static_cast<unsigned long long>(stats.congestion_window),
                static_cast<unsigned long long>(stats.packets_sent), 100 * stats.loss_rate(),
                static_cast<unsigned long long>(stats.packets_sent ? stats.bytes_sent / stats.packets_sent : 0),
                stats.packets_sent ? static_cast<double>(receiver_stats.packets_sent) / static_cast<double>(stats.packets_sent) : 0.0,
                seconds > 0 ? 100 * sender_cpu / seconds : 0.0, seconds > 0 ? 100 * receiver_cpu / seconds : 0.0);
  srudp_sender_state = state;
  if (!end || received != static_cast<std::size_t>(streams) * bytes_each) {
    std::fprintf(stderr, "srudp: received %zu of %zu bytes\n", received.load(), static_cast<std::size_t>(streams) * bytes_each);
    return -1;
  }
  return std::chrono::duration<double>(*end - start).count();
}

double measure_tcp(const bench::Placement& where, int streams, std::size_t bytes_each) {
  TwoThreads t;
  where.enter_receiver();
  asio::ip::tcp::acceptor acceptor(t.receiver_io, {asio::ip::make_address(where.receiver_ip), 0});
  // The sending sockets are opened here, where the sender lives; they connect on its thread.
  where.enter_sender();
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets;
  for (int i = 0; i < streams; ++i) {
    sockets.push_back(std::make_shared<asio::ip::tcp::socket>(t.sender_io, asio::ip::tcp::v4()));
    if (!tcp_congestion.empty() &&
        ::setsockopt(sockets.back()->native_handle(), IPPROTO_TCP, TCP_CONGESTION, tcp_congestion.data(),
                     static_cast<socklen_t>(tcp_congestion.size())) != 0) {
      std::fprintf(stderr, "TCP_CONGESTION %s: %s\n", tcp_congestion.c_str(), std::strerror(errno));
      return -1;
    }
  }
  where.go_home();
  std::promise<Clock::time_point> done;
  std::atomic<std::size_t> received{0};
  int finished = 0;  // streams read to their end (receiver thread only)
  AppBuffers buffers(streams);

  asio::co_spawn(t.receiver_io, [&]() -> awaitable<void> {
    for (int i = 0; i < streams; ++i) {
      auto socket = std::make_shared<asio::ip::tcp::socket>(co_await acceptor.async_accept(use_awaitable));
      const std::span<std::uint8_t> buffer = buffers.receive[static_cast<std::size_t>(i)];
      asio::co_spawn(t.receiver_io, [&, socket, buffer]() -> awaitable<void> {
        received += co_await drain(*socket, buffer);
        if (++finished == streams) done.set_value(Clock::now());
      }, asio::detached);
    }
  }, asio::detached);
  Clock::time_point start = Clock::now();
  asio::co_spawn(t.sender_io, [&]() -> awaitable<void> {
    for (auto& socket : sockets) co_await socket->async_connect(acceptor.local_endpoint(), use_awaitable);
    start = Clock::now();
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      const std::span<const std::uint8_t> chunk = buffers.send[i];
      asio::co_spawn(t.sender_io, [socket = sockets[i], bytes_each, chunk]() -> awaitable<void> {
        co_await fill(*socket, bytes_each, chunk);
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
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// CPU seconds (user + system) so far of the whole process, where both sides run, and of the
// reaped children, where the external peers' two sides run.
double cpu_seconds() {
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  double total = 0;
  for (const int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage usage{};
    getrusage(who, &usage);
    total += seconds(usage.ru_utime) + seconds(usage.ru_stime);
  }
  return total;
}

// One run of a case: payload bytes moved, wall seconds, and loss (raw UDP only).
struct Run {
  double bytes = 0, seconds = 0, loss = 0;
};

// A case's rounds and their medians.
struct Row {
  std::string name;
  std::vector<double> rates, cpu_per_gb, losses;
  int failures = 0;
  double rate() const { return median(rates); }
};

void run_case(Row& row, const std::function<std::optional<Run>()>& once) {
  const double cpu_before = cpu_seconds();
  std::optional<Run> run;
  try {
    run = once();
  } catch (const std::exception& e) {  // a case that cannot run (a socket, a namespace) fails alone
    std::fprintf(stderr, "%s: %s\n", row.name.c_str(), e.what());
  }
  const double cpu = cpu_seconds() - cpu_before;
  if (!run || run->seconds <= 0 || run->bytes <= 0) {
    std::fprintf(stderr, "%s: round %zu failed\n", row.name.c_str(), row.rates.size() + static_cast<std::size_t>(row.failures) + 1);
    ++row.failures;
    return;
  }
  row.rates.push_back(run->bytes / run->seconds / 1e6);
  row.cpu_per_gb.push_back(cpu / (run->bytes / 1e9));
  row.losses.push_back(run->loss);
}

void write_json(const std::string& path, const std::vector<Row>& rows, const std::vector<std::pair<std::string, double>>& ratios,
                const bench::Placement& where, std::size_t megabytes, int rounds) {
  std::ofstream out(path);
  out << "{\n  \"benchmark\": \"stream_vs_tcp\",\n  \"megabytes\": " << megabytes << ",\n  \"rounds\": " << rounds
      << ",\n  \"receiver_netns\": \"" << where.receiver_netns << "\",\n  \"sender_netns\": \"" << where.sender_netns
      << "\",\n  \"cases\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    out << "    {\"name\": \"" << r.name << "\", \"mb_per_s\": " << r.rate() << ", \"cpu_s_per_gb\": " << median(r.cpu_per_gb)
        << ", \"loss\": " << median(r.losses) << ", \"rounds\": " << r.rates.size() << ", \"failures\": " << r.failures << "}"
        << (i + 1 < rows.size() ? ",\n" : "\n");
  }
  out << "  ],\n  \"ratios\": {\n";
  for (std::size_t i = 0; i < ratios.size(); ++i) {
    out << "    \"" << ratios[i].first << "\": " << ratios[i].second << (i + 1 < ratios.size() ? ",\n" : "\n");
  }
  out << "  }\n}\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp streams against raw UDP, kernel TCP, ENet, SRT, quinn and KCP, in the same run"};
  int rounds = 3;
  std::size_t megabytes = 256;  // issue 7 measures one stream over 256 MiB; scripts/bench_paths passes 32
  std::string json;
  bool no_raw = false;
  std::string filter;
  bench::Placement where;
  app.add_option("--rounds", rounds, "rounds per case (the median is reported)")->check(CLI::Range(1, 50));
  app.add_option("--megabytes", megabytes, "payload per case")->check(CLI::Range(1, 4096));
  app.add_option("--json", json, "also write the figures here");
  app.add_flag("--no-raw", no_raw, "skip the raw UDP limits");
  app.add_option("--filter", filter, "run only the cases whose name contains this");
  app.add_option("--congestion", srudp_congestion, "srudp's congestion control: bbr (default), cubic or newreno")
      ->transform(CLI::CheckedTransformer(std::map<std::string, srudp::CongestionControl>{
          {"cubic", srudp::CongestionControl::cubic},
          {"newreno", srudp::CongestionControl::new_reno},
          {"bbr", srudp::CongestionControl::bbr}}));
  app.add_option("--tcp-congestion", tcp_congestion, "kernel TCP's congestion control (TCP_CONGESTION), e.g. cubic");
  std::string quinn_program, quinn_congestion = "cubic", kcp_program;
  app.add_option("--quinn", quinn_program, "quinn's peer program (bench/peers/quinn), to run it in the same run");
  app.add_option("--quinn-congestion", quinn_congestion, "quinn's congestion control: cubic (its default), bbr or newreno");
  app.add_option("--kcp", kcp_program, "KCP's peer program (bench/peers/kcp), to run it in the same run");
  app.add_option("--receiver-netns", where.receiver_netns, "network namespace of the receiving side (root)");
  app.add_option("--sender-netns", where.sender_netns, "network namespace of the sending side (root)");
  app.add_option("--receiver-ip", where.receiver_ip, "the receiver's address (default 127.0.0.1)");
  app.add_option("--sender-ip", where.sender_ip, "the sender's address (default 127.0.0.1)");
  CLI11_PARSE(app, argc, argv);

  const std::size_t total = megabytes << 20;
  // The cases are registered first and then run round by round (round 1 of every case, then
  // round 2, ...), so that a slow spell of the machine (this VM's speed drifts by 20-30% within
  // minutes) falls on every case alike, not on whichever case ran then: the ratios stay fair.
  std::vector<Row> rows;
  std::vector<std::function<std::optional<Run>()>> cases;
  // Registers a case; returns its row (none when filtered out).
  const auto add = [&](std::string name, std::function<std::optional<Run>()> once) -> std::optional<std::size_t> {
    if (name.find(filter) == std::string::npos) return std::nullopt;
    rows.push_back(Row{std::move(name), {}, {}, {}, 0});
    cases.push_back(std::move(once));
    return rows.size() - 1;
  };
  // A case's median MB/s once the rounds ran; 0 when it was filtered out or every round failed.
  const auto rate = [&](std::optional<std::size_t> row) { return row ? rows[*row].rate() : 0.0; };
  const auto timed = [&](double seconds) -> std::optional<Run> {
    if (seconds <= 0) return std::nullopt;
    return Run{static_cast<double>(total), seconds, 0};
  };

  using raw_udp_baseline::Variant;
  std::map<Variant, std::optional<std::size_t>> raw;
  if (!no_raw) {
    for (const Variant v : {Variant::one_call_per_datagram, Variant::batched, Variant::gso_gro, Variant::gso_gro_aes256gcm,
                            Variant::gso_gro_chacha20}) {
      if (!raw_udp_baseline::available(v)) continue;
      raw[v] = add(raw_udp_baseline::name(v), [&, v]() -> std::optional<Run> {
        std::optional<raw_udp_baseline::Result> measured;
        try {
          measured = raw_udp_baseline::measure(
              v, total, srudp::SocketAddress::parse(where.receiver_ip + ":0").value(),
              srudp::SocketAddress::parse(where.sender_ip + ":0").value(), [&] { where.enter_receiver(); },
              [&] { where.enter_sender(); });
        } catch (...) {
          where.go_home();  // it may have failed between the two namespaces
          throw;
        }
        where.go_home();
        const raw_udp_baseline::Result& r = *measured;
        return Run{static_cast<double>(r.payload_bytes), r.seconds, r.loss()};
      });
    }
  }
  const auto tcp_1 = add("kernel TCP, 1 stream", [&] { return timed(measure_tcp(where, 1, total)); });
  std::optional<std::size_t> enet, srt, quinn_1, quinn_16, kcp_1, kcp_16;
#ifdef SRUDP_BENCH_ENET
  // ENet's reliable channel, one peer, 1200-byte packets, unencrypted: the same payload.
  enet = add("ENet reliable, 1 peer", [&] { return timed(enet_baseline::bulk_seconds(where, total).value_or(0)); });
#endif
#ifdef SRUDP_BENCH_SRT
  // SRT file mode, AES-128, 1200-byte payloads: encrypted and reliable, like srudp.
  srt = add("SRT file mode, AES-128", [&] { return timed(srt_baseline::bulk_seconds(where, total).value_or(0)); });
#endif
  // The external peers: each side a child process; 16 streams are 16 streams of one quinn
  // connection, and 16 KCP sessions (KCP has no streams).
  const external_peer::Peer quinn{"quinn", quinn_program, {"--congestion", quinn_congestion}};
  const external_peer::Peer kcp{"KCP", kcp_program, {}};
  const auto external = [&](const external_peer::Peer& peer, int streams) {
    return timed(external_peer::bulk_seconds(peer, where, streams, total / static_cast<std::size_t>(streams)).value_or(0));
  };
  if (!quinn_program.empty()) quinn_1 = add("quinn 0.9, 1 stream", [&] { return external(quinn, 1); });
  if (!kcp_program.empty()) kcp_1 = add("KCP (kcp-go), 1 session", [&] { return external(kcp, 1); });
  const auto srudp_1 = add("srudp, 1 stream", [&] { return timed(measure_srudp(where, 1, total)); });
  const auto tcp_16 = add("kernel TCP, 16 streams", [&] { return timed(measure_tcp(where, 16, total / 16)); });
  if (!quinn_program.empty()) quinn_16 = add("quinn 0.9, 16 streams", [&] { return external(quinn, 16); });
  if (!kcp_program.empty()) kcp_16 = add("KCP (kcp-go), 16 sessions", [&] { return external(kcp, 16); });
  const auto srudp_16 = add("srudp, 16 streams", [&] { return timed(measure_srudp(where, 16, total / 16)); });
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < cases.size(); ++i) run_case(rows[i], cases[i]);
  }

  std::printf("%zu MiB per case, median of %d rounds%s\n", megabytes, rounds,
              where.across_namespaces() ? (", " + where.sender_netns + " -> " + where.receiver_netns).c_str() : ", loopback");
  std::printf("%-28s %10s %11s %7s\n", "case", "MB/s", "CPU s/GB", "loss");
  int failures = 0;
  for (const Row& r : rows) {
    failures += r.failures;
    if (r.rates.empty()) {
      std::printf("%-28s %10s\n", r.name.c_str(), "failed");
      continue;
    }
    std::printf("%-28s %10.1f %11.2f %6.1f%%\n", r.name.c_str(), r.rate(), median(r.cpu_per_gb), 100 * median(r.losses));
  }
  if (!srudp_aead.empty()) {
    std::printf("srudp negotiated %s; its sender at the end of the last run: %s\n", srudp_aead.c_str(),
                srudp_sender_state.c_str());
  }
  std::vector<std::pair<std::string, double>> ratios;
  const auto ratio = [&](const std::string& what, std::optional<std::size_t> a_row, std::optional<std::size_t> b_row) {
    const double a = rate(a_row), b = rate(b_row);
    if (a > 0 && b > 0) ratios.emplace_back(what, a / b);
  };
  ratio("srudp 1 stream / raw UDP+AES-GCM GSO/GRO", srudp_1, raw[Variant::gso_gro_aes256gcm]);
  ratio("srudp 1 stream / raw UDP+ChaCha GSO/GRO", srudp_1, raw[Variant::gso_gro_chacha20]);
  ratio("srudp 1 stream / raw UDP GSO/GRO", srudp_1, raw[Variant::gso_gro]);
  ratio("srudp 1 stream / kernel TCP", srudp_1, tcp_1);
  ratio("srudp 1 stream / ENet reliable", srudp_1, enet);
  ratio("srudp 1 stream / SRT", srudp_1, srt);
  ratio("srudp 1 stream / quinn 1 stream", srudp_1, quinn_1);
  ratio("srudp 1 stream / KCP 1 session", srudp_1, kcp_1);
  ratio("srudp 16 streams / kernel TCP 16", srudp_16, tcp_16);
  ratio("srudp 16 streams / quinn 16 streams", srudp_16, quinn_16);
  ratio("srudp 16 streams / KCP 16 sessions", srudp_16, kcp_16);
  for (const auto& [what, value] : ratios) std::printf("%-44s %6.3f\n", what.c_str(), value);
  if (!json.empty()) write_json(json, rows, ratios, where, megabytes, rounds);
  return failures == 0 ? 0 : 1;
}
