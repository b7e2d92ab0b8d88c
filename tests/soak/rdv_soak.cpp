// The soak (./scripts/soak, not part of the tests): many mixed rendezvous attempts against a real
// rdv server in this process, on loopback, under the sanitizers of the build it comes from (the
// dev preset: ASan, LSan, UBSan). Five kinds, in turn, ten at a time:
//   relayed      two clients meet through the relay and send 4 KB over a stream;
//   direct       the same, punching to a direct path first (the dialer's `wait` policy);
//   alone        a dialer whose peer never comes: no_peer_found when the lobby times out;
//   replaced     two dialers on one token: the first is replaced (409), the second times out;
//   unreachable  a server port nobody listens on: the TCP connect fails.
// Every attempt must end as its kind says. Afterwards, with every client gone and the server idle,
// open file descriptors must be back to the count before the first measured attempt and heap
// in use back to within a small allowance of it; LeakSanitizer checks the rest at exit.
//
// Usage: srudp_rdv_soak [attempts]   (default 1000; exit status 0 only when all held)
#include <dirent.h>
#include <malloc.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "rdv/test_server.hpp"
#include "rendezvous/token.hpp"
#include "common/random.hpp"
#include "srudp/rdv_client.hpp"
#include "srudp/srudp.hpp"

#if defined(__SANITIZE_ADDRESS__)
// From AddressSanitizer's runtime (sanitizer/allocator_interface.h, which GCC does not install):
// bytes the program has allocated and not freed. mallinfo does not see ASan's allocator.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

// GCC 12 reports a false -Wmismatched-new-delete on Asio's coroutine frames for some coroutines
// here (the frame's own operator new and delete do match).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using srudp::Connection;
using srudp::rdv::Client;
using srudp::rdv::ClientOptions;
using srudp::rdv::PathPolicy;

std::size_t open_file_descriptors() {
  std::size_t count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    ::closedir(dir);
  }
  return count - 1;  // the directory stream itself
}

std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

enum class Kind { relayed, direct, alone, replaced, unreachable };
constexpr std::array<const char*, 5> kKindNames{"relayed", "direct", "alone", "replaced", "unreachable"};

// What the acceptor of a meeting read: shared with the dialer's task.
struct Received {
  std::size_t bytes = 0;
  bool done = false;
};

struct Tally {
  std::array<int, 5> as_expected{};
  std::array<int, 5> unexpected{};
  int running = 0;
};

struct Soak {
  asio::io_context io;
  srudp::test::TestServer server{[] {
    auto config = srudp::test::loopback_config();
    config.stun_ports = {0};
    config.lobby.timeout = 300ms;
    return config;
  }()};
  std::string url = "http://127.0.0.1:" + std::to_string(server.endpoint().port());
  srudp::SystemRandom random;
  Tally tally;

  ClientOptions options(PathPolicy policy) {
    ClientOptions o;
    o.policy = policy;
    o.wait = 500ms;
    o.stun_port = server.server().stun_endpoints().at(0).port();
    o.loopback_candidates = true;
    o.connection.handshake_timeout = std::chrono::seconds(5);
    return o;
  }

  void record(Kind kind, bool ok, const std::string& detail) {
    const auto i = static_cast<std::size_t>(kind);
    if (ok) {
      ++tally.as_expected[i];
    } else {
      ++tally.unexpected[i];
      std::fprintf(stderr, "soak: %s attempt: %s\n", kKindNames[i], detail.c_str());
    }
  }

  asio::awaitable<void> accept_and_read(std::shared_ptr<Client> acceptor, std::string token,
                                        std::shared_ptr<Received> received) {
    boost::system::error_code ec;
    Connection c = co_await acceptor->async_accept(url, token, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    srudp::Stream s = co_await c.async_accept_stream(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::array<std::uint8_t, 1024> buffer{};
    while (!ec) {
      received->bytes +=
          co_await s.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    }
    received->done = true;
  }

  // Both sides meet; the dialer sends 4 KB on a stream, the acceptor reads it to the end.
  asio::awaitable<void> meet(Kind kind) {
    const std::string token = srudp::rendezvous::make_token(random);
    const PathPolicy policy = kind == Kind::relayed ? PathPolicy::relay_only : PathPolicy::wait;
    auto dialer = std::make_shared<Client>(io.get_executor(), options(policy));
    auto acceptor = std::make_shared<Client>(io.get_executor(), options(policy));
    // The acceptor's side runs as its own task and may outlive this one: what both see is shared.
    auto received = std::make_shared<Received>();
    ++tally.running;
    asio::co_spawn(io, accept_and_read(acceptor, token, received), [this](std::exception_ptr) { --tally.running; });
    boost::system::error_code ec;
    Connection c = co_await dialer->async_dial(url, token, asio::redirect_error(asio::use_awaitable, ec));
    std::string failure = ec ? "dial: " + ec.message() : std::string();
    if (!ec) {
      srudp::Stream s = co_await c.async_open_stream(asio::redirect_error(asio::use_awaitable, ec));
      const std::vector<std::uint8_t> data(4096, 0x5a);
      if (!ec) co_await asio::async_write(s, asio::buffer(data), asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) ec = s.shutdown_send();
      // Until the acceptor has read everything (or 5 s).
      asio::steady_timer timer(io);
      for (int i = 0; i < 500 && !received->done && !ec; ++i) {
        timer.expires_after(10ms);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec) failure = "stream: " + ec.message();
      else if (received->bytes != data.size()) failure = "received " + std::to_string(received->bytes) + " of 4096 bytes";
      else if (kind == Kind::relayed && !dialer->path().relayed) failure = "went direct under relay_only";
      else if (kind == Kind::direct && dialer->path().relayed) failure = "stayed on the relay";
    }
    record(kind, failure.empty(), failure);
  }

  asio::awaitable<void> expect_error(Kind kind, std::string target, std::string token, boost::system::error_code want) {
    Client client(io.get_executor(), options(PathPolicy::relay_only));
    boost::system::error_code ec;
    co_await client.async_dial(std::move(target), std::move(token), asio::redirect_error(asio::use_awaitable, ec));
    record(kind, want ? ec == want : bool(ec), "got '" + ec.message() + "'");
  }

  asio::awaitable<void> replaced() {
    const std::string token = srudp::rendezvous::make_token(random);
    Client first(io.get_executor(), options(PathPolicy::relay_only));
    boost::system::error_code first_ec = asio::error::would_block;
    first.async_dial(url, token, [&](boost::system::error_code ec, Connection) { first_ec = ec; });
    asio::steady_timer timer(io, 100ms);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    Client second(io.get_executor(), options(PathPolicy::relay_only));
    boost::system::error_code second_ec;
    co_await second.async_dial(url, token, asio::redirect_error(asio::use_awaitable, second_ec));
    const bool ok = first_ec == srudp::make_error_code(srudp::errc::replaced_by_newer_peer) &&
                    second_ec == srudp::make_error_code(srudp::errc::no_peer_found);
    record(Kind::replaced, ok, "first '" + first_ec.message() + "', second '" + second_ec.message() + "'");
  }

  asio::awaitable<void> attempt(Kind kind) {
    switch (kind) {
      case Kind::relayed:
      case Kind::direct:
        co_await meet(kind);
        break;
      case Kind::alone:
        co_await expect_error(kind, url, srudp::rendezvous::make_token(random),
                              srudp::make_error_code(srudp::errc::no_peer_found));
        break;
      case Kind::replaced:
        co_await replaced();
        break;
      case Kind::unreachable:
        co_await expect_error(kind, "http://127.0.0.1:1", srudp::rendezvous::make_token(random), {});
        break;
    }
  }

  // Runs `count` attempts, ten at a time, kinds in turn; false if they did not all finish in time.
  bool run(int first, int count) {
    for (int i = first; i < first + count;) {
      for (int j = 0; j < 10 && i < first + count; ++j, ++i) {
        ++tally.running;
        asio::co_spawn(io, attempt(static_cast<Kind>(i % 5)), [this](std::exception_ptr e) {
          --tally.running;
          if (e) std::fprintf(stderr, "soak: an attempt threw\n");
        });
      }
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (tally.running > 0) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        if (io.stopped()) io.restart();
        io.run_one_for(10ms);
      }
    }
    return true;
  }

  // The server's view: nobody waiting, nothing relayed, no connection but the one asking.
  bool server_idle() {
    const std::string text = srudp::test::metrics_of(server);
    return srudp::test::metric_value(text, "rdv_lobby_waiting") == 0 &&
           srudp::test::metric_value(text, "rdv_relays_active") == 0 &&
           srudp::test::metric_value(text, "rdv_connections_active") == 1;
  }

  void settle() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
      if (io.stopped()) io.restart();
      io.run_for(50ms);
    } while (!server_idle() && std::chrono::steady_clock::now() < deadline);
    // The server's end of that last /metrics connection closes once it sees ours close.
    std::this_thread::sleep_for(200ms);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int attempts = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (attempts <= 0) {
    std::fprintf(stderr, "usage: %s [attempts]\n", argv[0]);
    return 2;
  }
  auto soak = std::make_unique<Soak>();
  // Warm-up: one of each kind, so what is allocated once (logger, libsodium, Asio's services,
  // the server's maps) is in the baseline.
  if (!soak->run(0, 10)) return 1;
  soak->settle();
  const std::size_t fds_before = open_file_descriptors();
  const std::size_t heap_before = heap_in_use();
  soak->tally = {};

  const auto start = std::chrono::steady_clock::now();
  const bool finished = soak->run(0, attempts);
  soak->settle();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t fds_after = open_file_descriptors();
  const std::size_t heap_after = heap_in_use();

  int unexpected = 0;
  std::printf("%d attempts in %.1f s\n", attempts, seconds);
  for (std::size_t k = 0; k < kKindNames.size(); ++k) {
    std::printf("  %-12s %4d as expected, %d not\n", kKindNames[k], soak->tally.as_expected[k],
                soak->tally.unexpected[k]);
    unexpected += soak->tally.unexpected[k];
  }
  std::printf("open file descriptors: %zu before, %zu after\n", fds_before, fds_after);
  std::printf("heap in use: %zu bytes before, %zu after (%+lld)\n", heap_before, heap_after,
              static_cast<long long>(heap_after) - static_cast<long long>(heap_before));
  // Allocator and logger caches may settle a little differently; a leak per attempt would not.
  constexpr std::size_t kHeapAllowance = 64 * 1024;  // a leak of 64 bytes per attempt shows
  const bool ok = finished && unexpected == 0 && fds_after == fds_before && heap_after <= heap_before + kHeapAllowance;
  std::printf("%s\n", ok ? "soak: ok" : "soak: FAILED");
  soak.reset();  // the server stops and drains; LeakSanitizer runs at exit
  return ok ? 0 : 1;
}
