// Memory of idle connections through the whole stack an application uses, against kernel TCP in
// the same run: N established, idle connections on loopback, both ends in this process, held by
// their Asio handles (srudp::Endpoint and srudp::Connection; asio::ip::tcp::socket). Each case runs
// in a child process of its own, so one case's freed heap cannot hide the next one's growth.
// For each it prints, per connection and per side (a connection has two ends):
//   heap    bytes allocated by the process (glibc mallinfo2), after minus before;
//   RSS     resident set growth (/proc/self/statm), what the process costs the machine;
//   kernel  growth of the kernel's slab memory (/proc/meminfo Slab + the TCP memory counter in
//           /proc/net/sockstat), which is where a TCP connection's state lives. System-wide, so
//           it is only meaningful on a quiet machine; srudp's connections share one UDP socket
//           per endpoint and need none.
// and the same for all N together. srudp's connections are established with keys confirmed
// both ways and left for 300 ms so their ACKs and timers settle.
// quinn and KCP, when their peer programs are given (--quinn, --kcp), run as two processes each
// (external_peer.hpp); only their resident set growth is known, which for them includes the
// heap (KCP's connecting side also has a UDP socket per session, in kernel memory not counted).
//
//   srudp_idle_memory_vs_tcp [--connections N] [--json FILE] [--quinn PROGRAM] [--kcp PROGRAM]
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "external_peer.hpp"
#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

struct Footprint {
  double heap = 0;    // bytes
  double rss = 0;     // bytes
  double kernel = 0;  // bytes
};

Footprint operator-(const Footprint& a, const Footprint& b) {
  return {a.heap - b.heap, a.rss - b.rss, a.kernel - b.kernel};
}

// The first number after `key` in a /proc file, or 0.
double proc_number(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.find(key);
    if (at == std::string::npos) continue;
    std::istringstream rest(line.substr(at + key.size()));
    double value = 0;
    rest >> value;
    return value;
  }
  return 0;
}

Footprint measure() {
  Footprint f;
  const struct mallinfo2 m = mallinfo2();
  f.heap = static_cast<double>(m.uordblks + m.hblkhd);
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  statm >> size >> resident;
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  f.rss = resident * page;
  // Slab is in kB; sockstat's TCP "mem" is in pages.
  f.kernel = proc_number("/proc/meminfo", "Slab:") * 1024 + proc_number("/proc/net/sockstat", " mem ") * page;
  return f;
}

// n TCP connections on loopback: an acceptor, n connected client sockets and n accepted ones.
Footprint tcp_case(int n) {
  const Footprint before = measure();
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::vector<asio::ip::tcp::socket> clients, servers;
  clients.reserve(static_cast<std::size_t>(n));
  servers.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    clients.emplace_back(io).connect(acceptor.local_endpoint());
    servers.push_back(acceptor.accept());
  }
  return measure() - before;
}

// n srudp connections on loopback: a server endpoint accepting, a client endpoint connecting.
std::optional<Footprint> srudp_case(int n) {
  const Footprint before = measure();
  asio::io_context io;
  srudp::ConnectionOptions options;
  options.psk = srudp::random_key();
  srudp::Endpoint server(io, {asio::ip::make_address("127.0.0.1"), 0},
                         srudp::EndpointOptions{.accept_incoming = true,
                                                .server = options,
                                                .max_connections = static_cast<std::size_t>(n) + 16});
  srudp::Endpoint client(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::vector<srudp::Connection> accepted, connected;
  std::optional<Footprint> result;
  const auto accept_all = [&]() -> awaitable<void> {
    for (;;) accepted.push_back(co_await server.async_accept(use_awaitable));
  };
  const auto connect_all = [&]() -> awaitable<void> {
    for (int i = 0; i < n; ++i) {
      connected.push_back(co_await client.async_connect(server.local_endpoint(), options, use_awaitable));
    }
    asio::steady_timer settle(io, std::chrono::milliseconds(300));
    co_await settle.async_wait(use_awaitable);
    if (accepted.size() == static_cast<std::size_t>(n)) result = measure() - before;
    client.close();
    server.close();
  };
  asio::co_spawn(io, accept_all, asio::detached);
  asio::co_spawn(io, connect_all, [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return result;
}

// Runs `measure_case` in a child process and returns what it measured.
std::optional<Footprint> in_child(const std::function<std::optional<Footprint>()>& measure_case) {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::close(fds[0]);
    int code = 1;
    try {
      if (const auto f = measure_case()) {
        const double values[3] = {f->heap, f->rss, f->kernel};
        code = ::write(fds[1], values, sizeof values) == static_cast<ssize_t>(sizeof values) ? 0 : 1;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "case failed: %s\n", e.what());
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  double values[3];
  const bool got = ::read(fds[0], values, sizeof values) == static_cast<ssize_t>(sizeof values);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return Footprint{values[0], values[1], values[2]};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"memory of idle srudp connections against kernel TCP, through the Asio layer"};
  int connections = 1000;
  std::string json;
  app.add_option("--connections", connections, "idle connections per case")->check(CLI::Range(1, 4000));
  app.add_option("--json", json, "also write the figures here");
  std::string quinn_program, kcp_program;
  app.add_option("--quinn", quinn_program, "quinn's peer program (bench/peers/quinn), to run it in the same run");
  app.add_option("--kcp", kcp_program, "KCP's peer program (bench/peers/kcp), to run it in the same run");
  CLI11_PARSE(app, argc, argv);

  // srudp first: the kernel frees a closed TCP socket's memory later (RCU), which would show up
  // as a negative kernel figure in a case measured after it.
  const auto srudp = in_child([&] { return srudp_case(connections); });
  const auto tcp = in_child([&]() -> std::optional<Footprint> { return tcp_case(connections); });
  std::vector<std::pair<std::string, double>> external;  // name, RSS growth of both sides
  for (const auto& [name, program] : {std::pair<std::string, std::string>{"quinn", quinn_program}, {"KCP", kcp_program}}) {
    if (program.empty()) continue;
    if (const auto rss = external_peer::idle_rss_growth({name, program, {}}, connections)) {
      external.emplace_back(name, *rss);
    } else {
      std::fprintf(stderr, "%s: the idle connections failed\n", name.c_str());
    }
  }

  const double ends = 2.0 * connections;
  std::printf("%d idle connections on loopback, both ends in one process; bytes per connection per side\n",
              connections);
  std::printf("%-12s %10s %10s %10s %12s   %s\n", "case", "heap", "RSS", "kernel", "heap+kernel", "all together");
  const auto row = [&](const char* name, const std::optional<Footprint>& f) {
    if (!f) {
      std::printf("%-12s %10s\n", name, "failed");
      return;
    }
    std::printf("%-12s %10.0f %10.0f %10.0f %12.0f   %.1f MB heap+kernel, %.1f MB RSS\n", name, f->heap / ends,
                f->rss / ends, f->kernel / ends, (f->heap + f->kernel) / ends, (f->heap + f->kernel) / 1e6,
                f->rss / 1e6);
  };
  row("kernel TCP", tcp);
  row("srudp", srudp);
  for (const auto& [name, rss] : external) {
    std::printf("%-12s %10s %10.0f %10s %12s   %.1f MB RSS\n", name.c_str(), "-", rss / ends, "-", "-", rss / 1e6);
  }
  if (tcp && srudp) {
    std::printf("srudp / kernel TCP, heap+kernel per connection: %.2f\n",
                (srudp->heap + srudp->kernel) / (tcp->heap + tcp->kernel));
  }
  for (const auto& [name, rss] : external) {
    if (srudp) std::printf("srudp / %s, RSS per connection: %.2f\n", name.c_str(), srudp->rss / rss);
  }
  if (!json.empty()) {
    std::ofstream out(json);
    out << "{\n  \"connections\": " << connections << ",\n  \"bytes_per_connection_per_side\": {";
    const char* sep = "";
    for (const auto& [name, f] : {std::pair{"kernel TCP", tcp}, std::pair{"srudp", srudp}}) {
      if (!f) continue;
      out << sep << "\n    \"" << name << "\": {\"heap\": " << f->heap / ends << ", \"rss\": " << f->rss / ends
          << ", \"kernel\": " << f->kernel / ends << "}";
      sep = ",";
    }
    for (const auto& [name, rss] : external) {
      out << sep << "\n    \"" << name << "\": {\"rss\": " << rss / ends << "}";
      sep = ",";
    }
    out << "\n  }\n}\n";
  }
  return tcp && srudp ? 0 : 1;
}
