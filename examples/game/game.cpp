// srudp_game: what a real-time game sends, between two players who know an rdv server and a
// token: the player's state 60 times a second as unreliable datagrams (a lost one is replaced by
// the next, never resent), and game events (hits, scores) reliably and in order on a stream at the
// highest priority. Once a second it prints the link as the game sees it: RTT, state loss, jitter.
//
//   srudp_game http://rdv.example.com:8080 TOKEN --host     # player 1
//   srudp_game http://rdv.example.com:8080 TOKEN --join     # player 2
//
// --loss 0,10,30 drops that share (percent) of what this side sends, in equal phases of the run
// (--seconds), to watch the game keep going as the network gets worse.
//
// A state datagram: "GS", then little-endian u32 sequence, u64 microseconds since the sender
// started, f32 x, f32 y (22 bytes). An event: a length-prefixed message "event N TEXT"; the last
// one is "end N" (N events were sent), then FIN.
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "srudp/message.hpp"
#include "srudp/rdv_client.hpp"
#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTick = std::chrono::microseconds(1'000'000 / 60);
constexpr std::size_t kStateSize = 22;

struct State {
  std::uint32_t sequence = 0;
  std::uint64_t sent_us = 0;
  float x = 0, y = 0;
};

template <class T>
void put_le(std::uint8_t* out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}
template <class T>
T get_le(const std::uint8_t* in) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) value = static_cast<T>(value | (static_cast<T>(in[i]) << (8 * i)));
  return value;
}

std::array<std::uint8_t, kStateSize> encode(const State& s) {
  std::array<std::uint8_t, kStateSize> out{'G', 'S'};
  put_le(out.data() + 2, s.sequence);
  put_le(out.data() + 6, s.sent_us);
  std::uint32_t bits = 0;
  std::memcpy(&bits, &s.x, 4);
  put_le(out.data() + 14, bits);
  std::memcpy(&bits, &s.y, 4);
  put_le(out.data() + 18, bits);
  return out;
}

std::optional<State> decode(const std::uint8_t* in, std::size_t size) {
  if (size != kStateSize || in[0] != 'G' || in[1] != 'S') return std::nullopt;
  State s;
  s.sequence = get_le<std::uint32_t>(in + 2);
  s.sent_us = get_le<std::uint64_t>(in + 6);
  std::uint32_t bits = get_le<std::uint32_t>(in + 14);
  std::memcpy(&s.x, &bits, 4);
  bits = get_le<std::uint32_t>(in + 18);
  std::memcpy(&s.y, &bits, 4);
  return s;
}

// What arrives from the other player, per second and in total.
struct Link {
  // States: the newest sequence seen (older ones are stale and skipped), counts for loss.
  std::optional<std::uint32_t> newest;
  std::uint32_t window_start = 0;  // newest sequence when the current second began
  std::uint64_t window_received = 0, received = 0, stale = 0;
  // RFC 3550 interarrival jitter: smoothed |difference of transit times| of consecutive states.
  std::optional<double> last_transit_us;
  double jitter_us = 0;
  State peer{};  // the other player's newest state: what the game would draw
  // Events.
  std::uint64_t events = 0, events_out_of_order = 0;
  std::optional<std::uint64_t> events_announced;  // from "end N"
};

class Game {
 public:
  Game(asio::io_context& io, std::string name, std::vector<double> loss_phases, std::chrono::seconds run_for)
      : io_(io), name_(std::move(name)), loss_phases_(std::move(loss_phases)), run_for_(run_for) {}

  awaitable<int> play(std::string url, std::string token, bool host, srudp::rdv::ClientOptions options) {
    srudp::rdv::Client client(io_.get_executor(), options);
    boost::system::error_code ec;
    srudp::Connection connection;
    if (host) {
      std::tie(ec, connection) = co_await client.async_accept(url, token, asio::as_tuple(use_awaitable));
    } else {
      std::tie(ec, connection) = co_await client.async_dial(url, token, asio::as_tuple(use_awaitable));
    }
    if (ec) {
      std::fprintf(stderr, "srudp_game: %s\n", ec.message().c_str());
      co_return 1;
    }
    const auto path = client.path();
    std::printf("connected, %s %s\n", path.relayed ? "relayed by" : "direct to", path.address.c_str());
    std::fflush(stdout);
    start_ = Clock::now();
    client_ = &client;
    auto [open_ec, events] = co_await connection.async_open_stream(asio::as_tuple(use_awaitable));
    if (open_ec) co_return 1;
    (void)events.set_priority(0);  // events go before any other stream's data

    asio::co_spawn(io_, receive_states(connection), asio::detached);
    asio::co_spawn(io_, receive_events(connection), asio::detached);
    co_await send_loop(connection, events);

    // The other player's "end" tells how many events to expect; wait a little for it.
    asio::steady_timer wait(io_);
    for (int i = 0; i < 200 && !link_.events_announced && !peer_gone_; ++i) {
      wait.expires_after(std::chrono::milliseconds(10));
      co_await wait.async_wait(use_awaitable);
    }
    const bool events_ok = link_.events_announced && *link_.events_announced == link_.events && link_.events_out_of_order == 0;
    std::printf("summary: %llu states received (%llu stale), events %llu of %s%s\n",
                static_cast<unsigned long long>(link_.received), static_cast<unsigned long long>(link_.stale),
                static_cast<unsigned long long>(link_.events),
                link_.events_announced ? std::to_string(*link_.events_announced).c_str() : "?",
                events_ok ? ", all in order" : ", MISSING OR OUT OF ORDER");
    std::fflush(stdout);
    client_ = nullptr;
    connection = srudp::Connection();
    for (int i = 0; i < 100 && client.connection_count() > 0; ++i) {
      wait.expires_after(std::chrono::milliseconds(20));
      co_await wait.async_wait(use_awaitable);
    }
    co_return events_ok && link_.received > 0 ? 0 : 1;
  }

 private:
  double loss_now(Clock::time_point now) const {
    if (loss_phases_.empty()) return 0;
    const double share = std::chrono::duration<double>(now - start_) / std::chrono::duration<double>(run_for_);
    const auto phase = std::min(loss_phases_.size() - 1, static_cast<std::size_t>(share * static_cast<double>(loss_phases_.size())));
    return loss_phases_[phase];
  }

  // 60 Hz: move, send the state; every second an event and the report line.
  awaitable<void> send_loop(srudp::Connection& connection, srudp::Stream& events) {
    asio::steady_timer tick(io_);
    auto next = start_;
    double applied_loss = -1;
    std::uint64_t events_sent = 0;
    for (std::uint32_t sequence = 0; Clock::now() - start_ < run_for_ && !peer_gone_; ++sequence) {
      const auto now = Clock::now();
      if (const double loss = loss_now(now); loss != applied_loss) {
        applied_loss = loss;
        if (auto* endpoint = client_->endpoint()) endpoint->set_simulated_loss(loss / 100.0);
        std::printf("simulated loss of what we send: %.0f%%\n", loss);
      }
      const double t = std::chrono::duration<double>(now - start_).count();
      State s;
      s.sequence = sequence;
      s.sent_us = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - start_).count());
      s.x = static_cast<float>(100 * std::cos(t));
      s.y = static_cast<float>(100 * std::sin(t));
      const auto bytes = encode(s);
      (void)connection.send_datagram(asio::buffer(bytes));
      if (sequence % 60 == 59) {
        const std::string event = "event " + std::to_string(++events_sent) + " " + name_ + " scored";
        auto [ec, n] = co_await srudp::async_write_message(events, asio::buffer(event), asio::as_tuple(use_awaitable));
        if (ec) break;
        report(connection, sequence / 60 + 1, applied_loss);
      }
      next += kTick;
      tick.expires_at(next);
      co_await tick.async_wait(use_awaitable);
    }
    const std::string end = "end " + std::to_string(events_sent);
    co_await srudp::async_write_message(events, asio::buffer(end), asio::as_tuple(use_awaitable));
    events.shutdown_send();
  }

  void report(const srudp::Connection& connection, std::uint32_t second, double loss) {
    const srudp::ConnectionStats stats = connection.stats();
    const std::uint32_t newest = link_.newest.value_or(0);
    const std::uint64_t expected = newest - link_.window_start;
    const double state_loss = expected == 0 ? 0.0
                                            : 100.0 * (1.0 - std::min(1.0, static_cast<double>(link_.window_received) /
                                                                               static_cast<double>(expected)));
    std::printf("t=%us rtt %.1f ms  state loss %.1f%%  jitter %.2f ms  states %llu/s  peer at (%.0f, %.0f)  events %llu  at %s (sending at %.0f%% loss)\n",
                second, std::chrono::duration<double, std::milli>(stats.smoothed_rtt).count(), state_loss,
                link_.jitter_us / 1000.0, static_cast<unsigned long long>(link_.window_received),
                static_cast<double>(link_.peer.x), static_cast<double>(link_.peer.y),
                static_cast<unsigned long long>(link_.events), client_->path().relayed ? "relay" : "direct", loss);
    std::fflush(stdout);
    link_.window_start = newest;
    link_.window_received = 0;
  }

  awaitable<void> receive_states(srudp::Connection connection) {
    std::array<std::uint8_t, 64> buffer{};
    for (;;) {
      auto [ec, n] = co_await connection.async_receive_datagram(asio::buffer(buffer), asio::as_tuple(use_awaitable));
      if (ec == asio::error::message_size) continue;
      if (ec) break;
      const auto state = decode(buffer.data(), n);
      if (!state) continue;
      if (link_.newest && state->sequence <= *link_.newest) {
        ++link_.stale;  // a newer state already arrived: this one is useless now
        continue;
      }
      link_.newest = state->sequence;
      link_.peer = *state;
      ++link_.received;
      ++link_.window_received;
      const double arrival_us = std::chrono::duration<double, std::micro>(Clock::now() - start_).count();
      const double transit = arrival_us - static_cast<double>(state->sent_us);  // plus a constant clock offset
      if (link_.last_transit_us) link_.jitter_us += (std::abs(transit - *link_.last_transit_us) - link_.jitter_us) / 16;
      link_.last_transit_us = transit;
    }
  }

  awaitable<void> receive_events(srudp::Connection connection) {
    auto [ec, stream] = co_await connection.async_accept_stream(asio::as_tuple(use_awaitable));
    if (ec) co_return;
    std::vector<std::uint8_t> message;
    for (;;) {
      auto [read_ec, n] = co_await srudp::async_read_message(stream, message, 1024, asio::as_tuple(use_awaitable));
      if (read_ec) {
        if (read_ec != asio::error::eof) peer_gone_ = true;
        break;
      }
      const std::string text(message.begin(), message.end());
      std::istringstream fields(text);
      std::string kind;
      std::uint64_t number = 0;
      fields >> kind >> number;
      if (kind == "end") {
        link_.events_announced = number;
      } else if (kind == "event") {
        if (number != link_.events + 1) ++link_.events_out_of_order;
        ++link_.events;
        std::printf("%s\n", text.c_str());
        std::fflush(stdout);
      }
    }
  }

  asio::io_context& io_;
  std::string name_;
  std::vector<double> loss_phases_;
  std::chrono::seconds run_for_;
  Clock::time_point start_{};
  srudp::rdv::Client* client_ = nullptr;
  Link link_;
  bool peer_gone_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp_game: 60 Hz state over datagrams, events on a priority stream, between two players"};
  std::string url, token, name;
  bool host = false, join = false, include_loopback = false;
  std::vector<double> loss{0};
  int seconds = 30;
  std::uint16_t stun_port = 3478;
  app.add_option("url", url, "the rdv server, http://host[:port]")->required();
  app.add_option("token", token, "the token both players use (from 'rdv token')")->required();
  auto* host_flag = app.add_flag("--host", host, "wait for the other player");
  app.add_flag("--join", join, "join the player who hosts")->excludes(host_flag);
  app.add_option("--name", name, "your name in events (default: host or guest)");
  app.add_option("--loss", loss, "percent of what we send to drop, in equal phases of the run: 0,10,30")
      ->delimiter(',')
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--seconds", seconds, "how long to play")->check(CLI::Range(1, 86400));
  app.add_option("--stun-port", stun_port, "the rdv server's STUN port (0: none)");
  app.add_flag("--include-loopback", include_loopback, "offer loopback addresses too (both on one machine)");
  CLI11_PARSE(app, argc, argv);
  if (!host && !join) {
    std::fprintf(stderr, "srudp_game: say --host or --join\n");
    return 2;
  }
  if (name.empty()) name = host ? "host" : "guest";

  asio::io_context io;
  Game game(io, name, loss, std::chrono::seconds(seconds));
  srudp::rdv::ClientOptions options;
  options.stun_port = stun_port;
  options.loopback_candidates = include_loopback;
  int status = 1;
  asio::co_spawn(io, game.play(url, token, host, options), [&](std::exception_ptr e, int code) {
    status = e ? 1 : code;
    io.stop();
  });
  io.run();
  return status;
}
