// 64-byte message round trips on loopback, measured in the same run: raw UDP and kernel TCP
// (TCP_NODELAY), each with blocking sockets and an echo thread (what the kernel alone costs), ENet's
// reliable channel when libenet is installed, SRT messages (file mode, AES-128; srt_baseline.hpp)
// when libsrt is installed, a quinn stream and a KCP session when their peer programs are given
// (--quinn, --kcp; each side a child process, external_peer.hpp), and an srudp stream (encrypted,
// reliable) with the
// echo side on its own thread. Prints p50, p99 and p99.9 in microseconds and srudp's ratios to each
// baseline, then connection set-up time (median) for srudp (the whole handshake) and TCP (connect
// plus accept). --json FILE writes the same figures. By default on loopback; with
// --receiver-netns/--sender-netns (placement.hpp) the echo side and the measuring side live in two
// network namespaces, which is how scripts/bench_paths measures round trips under loss. Raw UDP
// then loses pings: one not answered within 200 ms counts as lost (the loss column) and the
// percentiles are over the answered ones.
//
//   srudp_round_trip_vs_udp_tcp [--pings 20000] [--connects 50] [--json FILE]
//                               [--receiver-netns A --sender-netns B --receiver-ip IP --sender-ip IP]
//                               [--quinn PROGRAM] [--kcp PROGRAM]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <array>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "external_peer.hpp"
#include "placement.hpp"
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

constexpr std::size_t kMessage = 64;
constexpr int kWarmup = 200;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// A POSIX socket closed on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {
    if (fd < 0) throw std::runtime_error("socket");
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { ::close(fd); }
};

sockaddr_in ipv4(const std::string& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::runtime_error("not an IPv4 address: " + ip);
  return a;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

void bind_to(int fd, const std::string& ip) {
  const sockaddr_in a = ipv4(ip, 0);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind " + ip);
}

// A socket of `type` opened in the receiver's or the sender's namespace and bound to its address.
int open_bound(const bench::Placement& where, bool receiver, int type) {
  if (receiver) {
    where.enter_receiver();
  } else {
    where.enter_sender();
  }
  const int fd = ::socket(AF_INET, type, 0);
  where.go_home();
  if (fd < 0) throw std::runtime_error("socket");
  bind_to(fd, receiver ? where.receiver_ip : where.sender_ip);
  return fd;
}

bool read_exactly(int fd, char* data, std::size_t n) {
  for (std::size_t done = 0; done < n;) {
    const ssize_t r = ::read(fd, data + done, n - done);
    if (r <= 0) return false;
    done += static_cast<std::size_t>(r);
  }
  return true;
}

// Round trips in microseconds (after a warm-up), from `once` which does one.
template <class OneRoundTrip>
std::vector<double> time_round_trips(int count, OneRoundTrip&& once) {
  for (int i = 0; i < kWarmup; ++i) once();
  std::vector<double> rtts;
  rtts.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    once();
    rtts.push_back(micros(Clock::now() - start));
  }
  return rtts;
}

// Raw UDP has no reliability: a ping not answered within 200 ms is lost (counted in `lost`), and
// each ping carries its number so a late answer is not taken for the next one's.
std::vector<double> udp_round_trips(const bench::Placement& where, int count, int& lost) {
  Fd echo(open_bound(where, true, SOCK_DGRAM)), client(open_bound(where, false, SOCK_DGRAM));
  const timeval timeout{0, 200'000};
  ::setsockopt(client.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const sockaddr_in to = ipv4(where.receiver_ip, bound_port(echo.fd));
  std::thread echoer([&] {
    std::array<char, kMessage> buffer{};
    for (;;) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(echo.fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n != static_cast<ssize_t>(kMessage)) return;  // the 1-byte stop datagram
      ::sendto(echo.fd, buffer.data(), kMessage, 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  });
  std::array<char, kMessage> message{}, answer{};
  std::uint64_t number = 0;
  lost = 0;
  std::vector<double> rtts;
  for (int i = 0; i < kWarmup + count; ++i) {
    ++number;
    std::memcpy(message.data(), &number, sizeof number);
    const auto start = Clock::now();
    ::sendto(client.fd, message.data(), kMessage, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    bool answered = false;
    while (!answered) {
      if (::recv(client.fd, answer.data(), answer.size(), 0) != static_cast<ssize_t>(kMessage)) break;  // timed out
      answered = std::memcmp(answer.data(), &number, sizeof number) == 0;
    }
    if (i < kWarmup) continue;
    if (answered) {
      rtts.push_back(micros(Clock::now() - start));
    } else {
      ++lost;
    }
  }
  // The 1-byte stop datagram, repeated in case the path loses it.
  for (int i = 0; i < 20; ++i) ::sendto(client.fd, message.data(), 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  echoer.join();
  return rtts;
}

// A connected TCP pair with TCP_NODELAY: {client, server}.
std::pair<int, int> tcp_pair(const bench::Placement& where, Clock::duration* setup = nullptr) {
  Fd listener(open_bound(where, true, SOCK_STREAM));
  ::listen(listener.fd, 1);
  const sockaddr_in to = ipv4(where.receiver_ip, bound_port(listener.fd));
  const int client = open_bound(where, false, SOCK_STREAM);
  const auto start = Clock::now();
  if (::connect(client, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) throw std::runtime_error("connect");
  const int server = ::accept(listener.fd, nullptr, nullptr);
  if (setup) *setup = Clock::now() - start;
  const int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return {client, server};
}

std::vector<double> tcp_round_trips(const bench::Placement& where, int count) {
  const auto [c, s] = tcp_pair(where);
  Fd client(c), server(s);
  std::thread echoer([&] {
    std::array<char, kMessage> buffer{};
    while (read_exactly(server.fd, buffer.data(), kMessage)) {
      if (::write(server.fd, buffer.data(), kMessage) != static_cast<ssize_t>(kMessage)) return;
    }
  });
  std::array<char, kMessage> message{};
  auto rtts = time_round_trips(count, [&] {
    if (::write(client.fd, message.data(), kMessage) != static_cast<ssize_t>(kMessage) ||
        !read_exactly(client.fd, message.data(), kMessage)) {
      throw std::runtime_error("tcp ping");
    }
  });
  ::shutdown(client.fd, SHUT_WR);
  echoer.join();
  return rtts;
}

srudp::ConnectionOptions srudp_options() {
  srudp::ConnectionOptions options;
  options.psk = srudp::random_key();
  return options;
}

// The echo side on its own thread (io_context); the measuring side runs on this thread.
std::vector<double> srudp_round_trips(const bench::Placement& where, int count) {
  const srudp::ConnectionOptions options = srudp_options();
  asio::io_context echo_io, client_io;
  where.enter_receiver();
  srudp::Endpoint server(echo_io, {asio::ip::make_address(where.receiver_ip), 0},
                         srudp::EndpointOptions{.accept_incoming = true, .server = options});
  where.enter_sender();
  srudp::Endpoint client(client_io, {asio::ip::make_address(where.sender_ip), 0});
  where.go_home();
  asio::co_spawn(echo_io, [&]() -> awaitable<void> {
    srudp::Connection connection = co_await server.async_accept(use_awaitable);
    srudp::Stream stream = co_await connection.async_accept_stream(use_awaitable);
    std::array<char, kMessage> buffer{};
    for (;;) {
      auto [ec, n] = co_await asio::async_read(stream, asio::buffer(buffer), asio::as_tuple(use_awaitable));
      if (ec) co_return;
      co_await asio::async_write(stream, asio::buffer(buffer), use_awaitable);
    }
  }, asio::detached);
  std::thread echoer([&] { echo_io.run(); });
  std::vector<double> rtts;
  asio::co_spawn(client_io, [&]() -> awaitable<void> {
    srudp::Connection connection = co_await client.async_connect(server.local_endpoint(), options, use_awaitable);
    srudp::Stream stream = co_await connection.async_open_stream(use_awaitable);
    std::array<char, kMessage> message{};
    for (int i = 0; i < kWarmup + count; ++i) {
      const auto start = Clock::now();
      co_await asio::async_write(stream, asio::buffer(message), use_awaitable);
      co_await asio::async_read(stream, asio::buffer(message), use_awaitable);
      if (i >= kWarmup) rtts.push_back(micros(Clock::now() - start));
    }
    client.close();  // and so the client's io_context runs out of work
  }, [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  client_io.run();
  echo_io.stop();
  echoer.join();
  return rtts;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double percentile(const std::vector<double>& sorted, double p) {
  const auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

// Connection set-up: TCP connect + accept; srudp's whole handshake (both directions confirmed).
double tcp_setup_us(const bench::Placement& where, int connects) {
  std::vector<double> times;
  for (int i = 0; i < connects; ++i) {
    Clock::duration d{};
    const auto [c, s] = tcp_pair(where, &d);
    ::close(c);
    ::close(s);
    times.push_back(micros(d));
  }
  return median(times);
}

double srudp_setup_us(const bench::Placement& where, int connects) {
  const srudp::ConnectionOptions options = srudp_options();
  asio::io_context io;
  where.enter_receiver();
  srudp::Endpoint server(io, {asio::ip::make_address(where.receiver_ip), 0},
                         srudp::EndpointOptions{.accept_incoming = true, .server = options});
  where.enter_sender();
  srudp::Endpoint client(io, {asio::ip::make_address(where.sender_ip), 0});
  where.go_home();
  std::vector<double> times;
  // Accepted connections are kept until the end: dropping one would close it, and under loss that
  // CLOSE can reach the client before the server's confirmation does, failing its connect.
  std::vector<srudp::Connection> accepted;
  asio::co_spawn(io, [&]() -> awaitable<void> {
    for (;;) accepted.push_back(co_await server.async_accept(use_awaitable));
  }, asio::detached);
  asio::co_spawn(io, [&]() -> awaitable<void> {
    for (int i = 0; i < connects; ++i) {
      const auto start = Clock::now();
      srudp::Connection c = co_await client.async_connect(server.local_endpoint(), options, use_awaitable);
      times.push_back(micros(Clock::now() - start));
      c.close();
    }
    server.close();
    client.close();
  }, [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return median(times);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"64-byte round trips and connection set-up: srudp against raw UDP and kernel TCP"};
  int pings = 20000, connects = 50;
  std::string json;
  app.add_option("--pings", pings, "round trips per transport")->check(CLI::Range(100, 10'000'000));
  app.add_option("--connects", connects, "connections for the set-up median")->check(CLI::Range(1, 10000));
  app.add_option("--json", json, "also write the figures here");
  bench::Placement where;
  app.add_option("--receiver-netns", where.receiver_netns, "network namespace of the echo side (root)");
  app.add_option("--sender-netns", where.sender_netns, "network namespace of the measuring side (root)");
  app.add_option("--receiver-ip", where.receiver_ip, "the echo side's IPv4 address (default 127.0.0.1)");
  app.add_option("--sender-ip", where.sender_ip, "the measuring side's IPv4 address (default 127.0.0.1)");
  std::string quinn_program, kcp_program;
  app.add_option("--quinn", quinn_program, "quinn's peer program (bench/peers/quinn), to run it in the same run");
  app.add_option("--kcp", kcp_program, "KCP's peer program (bench/peers/kcp), to run it in the same run");
  CLI11_PARSE(app, argc, argv);

  std::map<std::string, std::vector<double>> rtts;
  int udp_lost = 0;
  rtts["raw UDP"] = udp_round_trips(where, pings, udp_lost);
  rtts["kernel TCP"] = tcp_round_trips(where, pings);
  rtts["srudp stream"] = srudp_round_trips(where, pings);
  std::vector<const char*> rows = {"raw UDP", "kernel TCP", "srudp stream"};
  std::vector<const char*> baselines = {"raw UDP", "kernel TCP"};
#ifdef SRUDP_BENCH_ENET
  rtts["ENet reliable"] = enet_baseline::round_trips(where, kWarmup, pings);
  rows.insert(rows.end() - 1, "ENet reliable");
  baselines.push_back("ENet reliable");
#endif
#ifdef SRUDP_BENCH_SRT
  try {
    rtts["SRT"] = srt_baseline::round_trips(where, kWarmup, pings);
    rows.insert(rows.end() - 1, "SRT");
    baselines.push_back("SRT");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "SRT round trips failed: %s\n", e.what());
  }
#endif
  // Set-up of the external peers: connecting plus their first round trip (KCP has no handshake).
  std::map<std::string, double> external_setup_us;
  const std::pair<const char*, const std::string*> external[] = {{"quinn stream", &quinn_program},
                                                                  {"KCP session", &kcp_program}};
  for (const auto& [name, program] : external) {
    if (program->empty()) continue;
    const auto measured = external_peer::round_trips({name, *program, {}}, where, kWarmup, pings, kMessage);
    if (!measured) {
      std::fprintf(stderr, "%s round trips failed\n", name);
      continue;
    }
    rtts[name] = measured->rtts_us;
    external_setup_us[name] = measured->setup_us;
    rows.insert(rows.end() - 1, name);
    baselines.push_back(name);
  }
  std::map<std::string, std::array<double, 3>> p;
  for (auto& [name, v] : rtts) {
    std::sort(v.begin(), v.end());
    p[name] = {percentile(v, 0.5), percentile(v, 0.99), percentile(v, 0.999)};
  }
  std::printf("%-30s %9s %9s %9s\n", "64-byte round trip (us)", "p50", "p99", "p99.9");
  for (const char* name : rows) {
    std::printf("%-30s %9.1f %9.1f %9.1f", name, p[name][0], p[name][1], p[name][2]);
    if (std::string(name) == "raw UDP" && udp_lost > 0) std::printf("  (%d of %d pings lost)", udp_lost, pings);
    std::printf("\n");
  }
  for (const char* base : baselines) {
    const std::string label = std::string("srudp / ") + base;
    std::printf("%-30s %9.2f %9.2f %9.2f\n", label.c_str(), p["srudp stream"][0] / p[base][0],
                p["srudp stream"][1] / p[base][1], p["srudp stream"][2] / p[base][2]);
  }
  const double srudp_setup = srudp_setup_us(where, connects), tcp_setup = tcp_setup_us(where, connects);
  std::printf("%-30s %9.1f (TCP %.1f, ratio %.2f)\n", "connection set-up, median (us)", srudp_setup, tcp_setup,
              srudp_setup / tcp_setup);
  for (const auto& [name, us] : external_setup_us) {
    std::printf("%-30s %9.1f (one connection, with its first round trip)\n", (name + " set-up (us)").c_str(), us);
  }
  if (!json.empty()) {
    std::ofstream out(json);
    out << "{\n  \"round_trip_us\": {";
    const char* sep = "";
    for (auto& [name, q] : p) {
      out << sep << "\n    \"" << name << "\": {\"p50\": " << q[0] << ", \"p99\": " << q[1] << ", \"p999\": " << q[2] << "}";
      sep = ",";
    }
    out << "\n  },\n  \"raw_udp_pings_lost\": " << udp_lost << ",\n  \"receiver_netns\": \"" << where.receiver_netns
        << "\",\n  \"sender_netns\": \"" << where.sender_netns << "\",\n  \"setup_us\": {\"srudp\": " << srudp_setup
        << ", \"kernel TCP\": " << tcp_setup;
    for (const auto& [name, us] : external_setup_us) out << ", \"" << name << "\": " << us;
    out << "}\n}\n";
  }
  return 0;
}
