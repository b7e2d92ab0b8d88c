// `rdv dial URL TOKEN` and `rdv accept URL TOKEN`: meet the peer through the rdv server, then copy
// stdin to the peer's stdout and the peer's stdin to our stdout, encrypted, both ways at once.
//
// Each side writes on a stream it opens and reads the stream the peer opened, so neither waits for
// the other to speak first. When stdin ends we half-close our stream; once the peer's stream has
// ended too, we close like TCP's close(): our written data is delivered (acknowledged) first.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "io/log.hpp"
#include "srudp/rdv_client.hpp"
#include "rendezvous/server_url.hpp"
#include "srudp/error.hpp"
#include "srudp/stream.hpp"
#include "tools/rdv/cli_values.hpp"
#include "tools/rdv/commands.hpp"

namespace srudp::tools {
namespace {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using Chunk = std::vector<char>;
using StdinChannel = asio::experimental::concurrent_channel<void(boost::system::error_code, Chunk)>;

struct PeerOptions {
  std::string url;
  std::string token;
  std::string identity_file;
  std::string pinned_peer;
  std::string policy = "fast";
  CongestionControl congestion = CongestionControl::bbr;
  bool relay_only = false;
  std::uint16_t stun_port = 3478;
  bool include_loopback = false;
  std::string dump_directory;
};

// "fast", "wait=1s" / "wait=500ms", "direct-only", "relay-only".
bool parse_policy(const std::string& text, rdv::ClientOptions& options) {
  if (text == "fast") {
    options.policy = rdv::PathPolicy::fast;
  } else if (text == "direct-only") {
    options.policy = rdv::PathPolicy::direct_only;
  } else if (text == "relay-only") {
    options.policy = rdv::PathPolicy::relay_only;
  } else if (text.starts_with("wait=")) {
    const auto duration = parse_duration(text.substr(5));
    if (!duration) return false;
    options.policy = rdv::PathPolicy::wait;
    options.wait = std::chrono::duration_cast<std::chrono::milliseconds>(*duration);
  } else {
    return false;
  }
  return true;
}

// One stderr line each time the connection changes path.
asio::awaitable<void> report_path_changes(rdv::Client& client, rdv::PathInfo last) {
  asio::steady_timer poll(co_await asio::this_coro::executor);
  for (;;) {
    poll.expires_after(std::chrono::milliseconds(100));
    co_await poll.async_wait(use_awaitable);
    const rdv::PathInfo now = client.path();
    if (now.relayed == last.relayed && now.address == last.address) continue;
    std::fprintf(stderr, "path relay=%s addr=%s after=%.1fs\n", now.relayed ? "true" : "false", now.address.c_str(),
                 static_cast<double>(now.elapsed.count()) / 1000.0);
    last = now;
  }
}

// Blocking reads of stdin on a thread of their own (stdin may be a file, which no event loop can
// wait on), handed to the event loop one chunk at a time: the next read waits until the stream
// took the last chunk, so a slow peer slows the reading.
void read_stdin(std::shared_ptr<StdinChannel> channel) {
  for (;;) {
    Chunk chunk(64 * 1024);
    const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
    boost::system::error_code ec;
    if (n > 0) {
      chunk.resize(static_cast<std::size_t>(n));
    } else {
      chunk.clear();
      ec = n == 0 ? asio::error::eof : boost::system::error_code(errno, boost::system::system_category());
      if (n < 0 && errno == EINTR) continue;
    }
    channel->async_send(ec, std::move(chunk), asio::use_future).wait();
    if (ec || !channel->is_open()) return;
  }
}

asio::awaitable<void> send_stdin(Stream& stream, std::shared_ptr<StdinChannel> channel) {
  for (;;) {
    auto [ec, chunk] = co_await channel->async_receive(asio::as_tuple(use_awaitable));
    if (ec == asio::error::eof) break;
    if (ec) throw boost::system::system_error(ec, "reading stdin");
    co_await asio::async_write(stream, asio::buffer(chunk), use_awaitable);
  }
  stream.shutdown_send();
}

// What the peer's stream brought, for stderr: when its first byte came (since the dial or accept
// began), and at its end how much came and at what rate from the first byte to the last (a sender
// that keeps its stream open after its data does not lower the rate).
class ReceiveMeter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ReceiveMeter(Clock::time_point started) : started_(started) {}

  void on_data(std::size_t n) {
    const auto now = Clock::now();
    if (received_ == 0 && n > 0) {
      first_byte_ = now;
      std::fprintf(stderr, "first byte after=%lldms\n",
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(now - started_).count()));
    }
    received_ += n;
    last_byte_ = now;
  }

  void report_end() const {
    if (received_ == 0) return;
    const double seconds = std::chrono::duration<double>(last_byte_ - first_byte_).count();
    std::fprintf(stderr, "received bytes=%llu in=%.3fs rate=%.2fMB/s\n", static_cast<unsigned long long>(received_),
                 seconds, seconds > 0 ? static_cast<double>(received_) / seconds / 1e6 : 0.0);
  }

 private:
  Clock::time_point started_, first_byte_{}, last_byte_{};
  std::uint64_t received_ = 0;
};

void write_stdout(const char* data, std::size_t n) {
  for (std::size_t done = 0; done < n;) {
    const ssize_t w = ::write(STDOUT_FILENO, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw boost::system::system_error(errno, boost::system::system_category(), "writing stdout");
    done += static_cast<std::size_t>(w);
  }
}

asio::awaitable<void> receive_to_stdout(Connection& connection, ReceiveMeter& meter) {
  Stream stream = co_await connection.async_accept_stream(use_awaitable);
  stream.shutdown_send();  // we never write on the peer's stream
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
    if (ec == asio::error::eof) break;
    if (ec) throw boost::system::system_error(ec, "reading from the peer");
    meter.on_data(n);
    write_stdout(buffer.data(), n);
  }
  meter.report_end();
}

// GCC 12, inlining this coroutine's start into run(), pairs Asio's aligned frame allocation with
// the frame's sized delete and warns (-Wmismatched-new-delete); the pair is Asio's own and correct.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<int> run_peer(bool dial, const PeerOptions& o, rdv::Client& client, ReceiveMeter& meter) {
  const char* role = dial ? "dial" : "accept";
  boost::system::error_code ec;
  Connection connection;
  // (Not one co_await over a conditional expression: GCC 12 destroys such a temporary twice.)
  if (dial) {
    std::tie(ec, connection) = co_await client.async_dial(o.url, o.token, asio::as_tuple(use_awaitable));
  } else {
    std::tie(ec, connection) = co_await client.async_accept(o.url, o.token, asio::as_tuple(use_awaitable));
  }
  if (ec) {
    std::fprintf(stderr, "rdv %s: %s\n", role, ec.message().c_str());
    co_return 1;
  }
  const rdv::PathInfo path = client.path();
  std::fprintf(stderr, "peer connected relay=%s addr=%s dur=%lldms\n", path.relayed ? "true" : "false",
               path.address.c_str(), static_cast<long long>(path.elapsed.count()));

  asio::co_spawn(co_await asio::this_coro::executor, report_path_changes(client, path), asio::detached);
  auto channel = std::make_shared<StdinChannel>(co_await asio::this_coro::executor, 1);
  std::thread(read_stdin, channel).detach();  // may stay blocked in read(): the process exits anyway
  try {
    Stream ours = co_await connection.async_open_stream(use_awaitable);
    co_await (send_stdin(ours, channel) && receive_to_stdout(connection, meter));
  } catch (const boost::system::system_error& error) {
    std::fprintf(stderr, "rdv %s: peer lost: %s\n", role, error.what());
    co_return 1;
  }
  const ConnectionStats s = connection.stats();
  io::log().debug("connection: sent {} packets ({} bytes), received {}, lost {} ({} spurious), {} stream bytes resent, "
                  "srtt {} us (min {}), cwnd {} bytes, path MTU {}",
                  s.packets_sent, s.bytes_sent, s.packets_received, s.packets_lost, s.packets_spuriously_lost,
                  s.bytes_retransmitted, s.smoothed_rtt.count() / 1000, s.min_rtt.count() / 1000,
                  s.congestion_window, s.path_mtu);
  // Both directions are finished. Drop our handles: the connection closes once the peer has
  // acknowledged what we wrote (like TCP's close()); wait for that, then go.
  connection = Connection();
  asio::steady_timer poll(co_await asio::this_coro::executor);
  for (int i = 0; i < 35 * 50 && client.connection_count() > 0; ++i) {
    poll.expires_after(std::chrono::milliseconds(20));
    co_await poll.async_wait(use_awaitable);
  }
  co_return 0;
}
#pragma GCC diagnostic pop

int run(bool dial, const PeerOptions& o) {
  io::log().set_level(spdlog::get_level());
  if (!rendezvous::parse_server_url(o.url)) {
    std::fprintf(stderr, "rdv: bad server URL '%s': want http://host[:port][/mount]\n", o.url.c_str());
    return 1;
  }
  rdv::ClientOptions options;
  if (!parse_policy(o.relay_only ? "relay-only" : o.policy, options)) {
    std::fprintf(stderr, "rdv: bad --policy '%s': want fast, wait=DURATION, direct-only or relay-only\n",
                 o.policy.c_str());
    return 2;
  }
  options.stun_port = o.stun_port;
  options.loopback_candidates = o.include_loopback;
  options.dump_directory = o.dump_directory;
  options.connection.congestion = o.congestion;
  options.connection.identity_file = o.identity_file;
  if (!o.pinned_peer.empty()) {
    options.connection.pinned_peer = key_from_hex(o.pinned_peer);
    if (!options.connection.pinned_peer) {
      std::fprintf(stderr, "rdv: --pin wants the peer's public key as 64 hex digits\n");
      return 2;
    }
  }
  asio::io_context io;
  rdv::Client client(io.get_executor(), options);
  ReceiveMeter meter(ReceiveMeter::Clock::now());
  int exit_code = 1;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::fprintf(stderr, "rdv: interrupted\n");
    std::fflush(stdout);
    std::_Exit(130);
  });
  asio::co_spawn(io, run_peer(dial, o, client, meter), [&](std::exception_ptr e, int code) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& error) {
        std::fprintf(stderr, "rdv: %s\n", error.what());
      }
    }
    exit_code = e ? 1 : code;
    client.close();
    io.stop();  // the path reporter and any timers: nothing left to wait for
  });
  io.run();
  // The stdin thread may still be blocked in read(): leave without waiting for it.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(exit_code);
}

void add_peer_command(CLI::App& app, int& exit_code, bool dial) {
  auto options = std::make_shared<PeerOptions>();
  auto* command = app.add_subcommand(
      dial ? "dial" : "accept",
      dial ? "meet the peer that accepts with TOKEN at the rdv server URL; stdin to its stdout and back"
           : "wait for the peer that dials with TOKEN at the rdv server URL; stdin to its stdout and back");
  command->add_option("url", options->url, "the rdv server, http://host[:port][/mount]")->required();
  command->add_option("token", options->token, "the shared token (from 'rdv token')")->required();
  command->add_option("--identity", options->identity_file, "our identity key file (from 'rdv keygen')");
  command->add_option("--pin", options->pinned_peer, "the peer's public key (64 hex digits): refuse anyone else");
  command->add_option("--policy", options->policy,
                      "path: fast (relay at once, direct when it works), wait=1s, direct-only, relay-only");
  command->add_flag("-r,--relay", options->relay_only, "relay only (the same as --policy relay-only)");
  command->add_option("--stun-port", options->stun_port, "the rdv server's STUN port (0: none)");
  command->add_option("--congestion", options->congestion, "congestion control: bbr (default), cubic or newreno")
      ->transform(CLI::CheckedTransformer(std::map<std::string, CongestionControl>{
          {"cubic", CongestionControl::cubic}, {"newreno", CongestionControl::new_reno}, {"bbr", CongestionControl::bbr}}));
  command->add_flag("--include-loopback", options->include_loopback,
                    "offer loopback addresses as candidates too (both peers on one machine)");
  command->add_option("--dump-packets", options->dump_directory,
                      "write every datagram, its decrypted frames and the request head to files in this folder (debugging, fuzzing corpora)");
  command->callback([options, &exit_code, dial] { exit_code = run(dial, *options); });
}

}  // namespace

void add_peer_commands(CLI::App& app, int& exit_code) {
  add_peer_command(app, exit_code, true);
  add_peer_command(app, exit_code, false);
}

}  // namespace srudp::tools
