// srudp_chat: talk with other people by rdv server URL and token, end to end encrypted, with no
// open port on either side.
//
//   rdv token                                              # make a token, give it to your peer
//   srudp_chat --name alice --dial TOKEN http://rdv.example.com:8080
//   srudp_chat --name bob --accept TOKEN http://rdv.example.com:8080
//
// More people: one --dial or --accept per peer, each pair with its own token; a line you type
// goes to every peer you are connected to. Type /quit or Ctrl-D to leave.
//
// On each connection each side opens two streams: the first carries chat lines, the second
// presence notices ("typing", "bye") at urgency 0, so a notice never waits behind a long message.
// Both carry length-prefixed messages (srudp/message.hpp); the first message on each says which of
// the two it is and who speaks: "messages <name>" or "presence <name>".
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "srudp/message.hpp"
#include "srudp/rdv_client.hpp"
#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxMessage = 64 * 1024;
constexpr auto kTypingInterval = std::chrono::seconds(2);  // at most one "typing" notice per this

// The terminal: what the user types, and lines printed above it. On a terminal it reads key by
// key (so "typing" can be told before Enter) and keeps the line being typed under what arrives;
// from a pipe it reads lines.
class Terminal {
 public:
  Terminal() : tty_(::isatty(STDIN_FILENO) == 1) {
    if (!tty_ || ::tcgetattr(STDIN_FILENO, &saved_) != 0) {
      tty_ = false;
      return;
    }
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  ~Terminal() { restore(); }
  void restore() {
    if (tty_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Input bytes; returns the lines completed. Sets `started_line` when a line went from empty to
  // not empty, and `end` on Ctrl-D at the start of a line (a terminal's end of input).
  std::vector<std::string> feed(std::string_view bytes, bool& started_line, bool& end) {
    std::vector<std::string> lines;
    for (const char c : bytes) {
      if (c == '\n' || c == '\r') {
        if (tty_) std::fputs("\n", stdout);
        lines.push_back(std::move(line_));
        line_.clear();
      } else if (tty_ && (c == 0x7f || c == '\b')) {
        if (!line_.empty()) {
          line_.pop_back();
          std::fputs("\b \b", stdout);
        }
      } else if (tty_ && c == 0x04) {
        if (line_.empty()) end = true;
      } else if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') {
        if (line_.empty()) started_line = true;
        line_ += c;
        if (tty_) std::fputc(c, stdout);
      }
    }
    std::fflush(stdout);
    return lines;
  }

  // Prints a line above the one being typed.
  void print(const std::string& text) {
    if (tty_) {
      std::printf("\r\033[K%s\n%s", text.c_str(), line_.c_str());
    } else {
      std::printf("%s\n", text.c_str());
    }
    std::fflush(stdout);
  }

 private:
  bool tty_;
  termios saved_{};
  std::string line_;
};

// One outgoing stream: messages queue here and go out one at a time, in order.
class Sender : public std::enable_shared_from_this<Sender> {
 public:
  explicit Sender(srudp::Stream stream) : stream_(std::move(stream)) {}

  void send(std::string message) {
    queue_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(stream_.get_executor(), drain(shared_from_this()), asio::detached);
    }
  }
  // FIN once everything queued is out.
  void finish() {
    finishing_ = true;
    if (!writing_) (void)stream_.shutdown_send();
  }
  void close() { stream_.close(); }

 private:
  static awaitable<void> drain(std::shared_ptr<Sender> self) {
    while (!self->queue_.empty()) {
      const std::string message = std::move(self->queue_.front());
      self->queue_.pop_front();
      auto [ec, n] = co_await srudp::async_write_message(self->stream_, asio::buffer(message),
                                                         asio::as_tuple(use_awaitable));
      if (ec) {
        self->queue_.clear();  // the connection is gone; the reader reports it
        break;
      }
    }
    self->writing_ = false;
    if (self->finishing_) (void)self->stream_.shutdown_send();
  }

  srudp::Stream stream_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool finishing_ = false;
};

struct Peer {
  std::string label;  // "peer (TOKEN...)" until its first stream names it
  bool named = false;
  srudp::rdv::Client client;
  srudp::Connection connection;
  std::shared_ptr<Sender> messages, presence;
  std::vector<srudp::Stream*> incoming;  // the peer's streams being read (to close them)
  bool connected = false, gone = false;
  std::optional<Clock::time_point> typing_shown;

  Peer(const asio::any_io_executor& executor, srudp::rdv::ClientOptions options, std::string name)
      : label(std::move(name)), client(executor, std::move(options)) {}
};

class Chat {
 public:
  Chat(asio::io_context& io, std::string name) : io_(io), name_(std::move(name)) {}

  void add_peer(bool dial, std::string url, std::string token, srudp::rdv::ClientOptions options) {
    auto peer = std::make_shared<Peer>(io_.get_executor(), std::move(options),
                                       "peer (" + token.substr(0, 6) + "...)");
    peers_.push_back(peer);
    asio::co_spawn(io_, connect(peer, dial, std::move(url), std::move(token)), asio::detached);
  }

  // From the stdin thread's chunks (posted to the event loop).
  void on_input(const std::string& bytes) {
    bool started_line = false, end = false;
    for (auto& line : terminal_.feed(bytes, started_line, end)) {
      if (line == "/quit") {
        end = true;
        break;
      }
      if (!line.empty()) say(line);
    }
    if (started_line && (!last_typing_ || Clock::now() - *last_typing_ >= kTypingInterval)) {
      last_typing_ = Clock::now();
      for (auto& p : peers_) {
        if (p->connected && !p->gone) p->presence->send("typing");
      }
    }
    if (end) leave();
  }
  void on_input_end() { leave(); }

  int exit_code() const { return exit_code_; }
  void restore_terminal() { terminal_.restore(); }

 private:
  awaitable<void> connect(std::shared_ptr<Peer> peer, bool dial, std::string url, std::string token) {
    terminal_.print("* waiting for " + peer->label + " at " + url);
    boost::system::error_code ec;
    srudp::Connection connection;
    if (dial) {
      std::tie(ec, connection) = co_await peer->client.async_dial(url, token, asio::as_tuple(use_awaitable));
    } else {
      std::tie(ec, connection) = co_await peer->client.async_accept(url, token, asio::as_tuple(use_awaitable));
    }
    if (!ec) {
      std::tie(ec, peer->messages, peer->presence) = co_await open_streams(connection, name_);
    }
    if (ec) {
      terminal_.print("* could not reach " + peer->label + ": " + ec.message());
      peer->gone = true;
      exit_code_ = 1;
      check_done();
      co_return;
    }
    peer->connection = connection;
    connection = srudp::Connection();  // the peer's handle decides when it closes (drop)
    peer->connected = true;
    const srudp::rdv::PathInfo path = peer->client.path();
    terminal_.print("* connected to " + peer->label + (path.relayed ? ", relayed by " : ", direct to ") + path.address);
    for (const auto& line : said_) peer->messages->send(line);  // typed while we waited
    if (!connecting()) said_.clear();
    if (leaving_) {
      say_goodbye(*peer);
      co_return;
    }
    for (int i = 0; i < 2 && !peer->gone; ++i) {
      auto [accept_ec, stream] = co_await peer->connection.async_accept_stream(asio::as_tuple(use_awaitable));
      if (accept_ec) {
        peer_gone(*peer, accept_ec);
        co_return;
      }
      asio::co_spawn(io_, read_stream(peer, std::move(stream)), asio::detached);
    }
  }

  using Streams = std::tuple<boost::system::error_code, std::shared_ptr<Sender>, std::shared_ptr<Sender>>;
  static awaitable<Streams> open_streams(srudp::Connection connection, std::string name) {
    auto [ec1, messages] = co_await connection.async_open_stream(asio::as_tuple(use_awaitable));
    if (ec1) co_return Streams{ec1, nullptr, nullptr};
    auto [ec2, presence] = co_await connection.async_open_stream(asio::as_tuple(use_awaitable));
    if (ec2) co_return Streams{ec2, nullptr, nullptr};
    (void)presence.set_priority(0);
    auto m = std::make_shared<Sender>(std::move(messages));
    auto p = std::make_shared<Sender>(std::move(presence));
    m->send("messages " + name);
    p->send("presence " + name);
    co_return Streams{{}, m, p};
  }

  awaitable<void> read_stream(std::shared_ptr<Peer> peer, srudp::Stream stream) {
    peer->incoming.push_back(&stream);
    std::vector<std::uint8_t> message;
    std::string kind;
    for (;;) {
      auto [ec, n] = co_await srudp::async_read_message(stream, message, kMaxMessage, asio::as_tuple(use_awaitable));
      if (ec) {
        if (ec != asio::error::eof && ec != asio::error::operation_aborted) peer_gone(*peer, ec);
        break;
      }
      std::string text(message.begin(), message.end());
      if (kind.empty()) {
        const auto space = text.find(' ');
        kind = text.substr(0, space);
        if (!peer->named && space != std::string::npos) {
          peer->named = true;
          peer->label = text.substr(space + 1);
          terminal_.print("* " + peer->label + " joined");
        }
      } else if (kind == "messages") {
        peer->typing_shown.reset();
        terminal_.print("[" + peer->label + "] " + text);
      } else {
        on_presence(*peer, text);
      }
    }
    std::erase(peer->incoming, &stream);
  }

  void on_presence(Peer& peer, const std::string& notice) {
    if (notice == "typing") {
      if (!peer.typing_shown || Clock::now() - *peer.typing_shown >= kTypingInterval) {
        peer.typing_shown = Clock::now();
        terminal_.print("* " + peer.label + " is typing");
      }
    } else if (notice == "bye") {
      terminal_.print("* " + peer.label + " left");
      drop(peer);
    }
  }

  void peer_gone(Peer& peer, const boost::system::error_code& ec) {
    if (peer.gone) return;
    terminal_.print("* " + peer.label + " is gone: " + ec.message());
    drop(peer);
  }

  // Stops talking to a peer: what we queued is still delivered, then the connection closes (once
  // the last handle to it is gone: ours here, the senders' when they finish).
  void drop(Peer& peer) {
    if (peer.gone) return;
    peer.gone = true;
    if (peer.connected) {
      peer.messages->finish();
      peer.presence->finish();
      peer.messages.reset();
      peer.presence.reset();
      for (auto* stream : std::vector(peer.incoming)) stream->close();
      peer.connection = srudp::Connection();
    }
    check_done();
  }

  bool connecting() const {
    return std::any_of(peers_.begin(), peers_.end(), [](const auto& p) { return !p->connected && !p->gone; });
  }

  void say(const std::string& line) {
    if (connecting()) said_.push_back(line);  // for the peers still to come
    for (auto& p : peers_) {
      if (p->connected && !p->gone) p->messages->send(line);
    }
  }

  void say_goodbye(Peer& peer) {
    peer.presence->send("bye");
    drop(peer);
  }

  void leave() {
    if (leaving_) return;
    leaving_ = true;
    for (auto& p : peers_) {
      if (p->connected && !p->gone) say_goodbye(*p);
    }
    check_done();
  }

  // Done when nobody is left to talk to, or we left and every connection delivered its goodbye.
  void check_done() {
    if (lingering_) return;
    for (auto& p : peers_) {
      if (!p->gone && !(leaving_ && !p->connected)) return;
    }
    if (!leaving_) terminal_.print("* nobody left to talk to");
    lingering_ = true;
    asio::co_spawn(io_, linger(), asio::detached);
  }

  // Waits (up to 5 s) for the connections to deliver what we queued, then stops.
  awaitable<void> linger() {
    asio::steady_timer timer(io_);
    for (int i = 0; i < 250; ++i) {
      std::size_t open = 0;
      for (auto& p : peers_) open += p->client.connection_count();
      if (open == 0) break;
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(use_awaitable);
    }
    for (auto& p : peers_) p->client.close();
    io_.stop();
  }

  asio::io_context& io_;
  std::string name_;
  Terminal terminal_;
  std::vector<std::shared_ptr<Peer>> peers_;
  std::vector<std::string> said_;  // lines said while some peer was still connecting
  std::optional<Clock::time_point> last_typing_;
  bool leaving_ = false, lingering_ = false;
  int exit_code_ = 0;
};

// Blocking reads of stdin on a thread of their own, posted to the event loop.
void read_stdin(asio::io_context& io, Chat& chat) {
  std::vector<char> buffer(4096);
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      asio::post(io, [&chat] { chat.on_input_end(); });
      return;
    }
    asio::post(io, [&chat, bytes = std::string(buffer.data(), static_cast<std::size_t>(n))] { chat.on_input(bytes); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp_chat: talk with other people by rdv server URL and token"};
  std::string url, name = "anonymous";
  std::vector<std::string> dial_tokens, accept_tokens;
  std::uint16_t stun_port = 3478;
  bool include_loopback = false;
  app.add_option("url", url, "the rdv server, http://host[:port]")->required();
  app.add_option("--name", name, "how your peers see you");
  app.add_option("--dial", dial_tokens, "meet the peer who accepts with this token (repeatable)");
  app.add_option("--accept", accept_tokens, "wait for the peer who dials with this token (repeatable)");
  app.add_option("--stun-port", stun_port, "the rdv server's STUN port (0: none)");
  app.add_flag("--include-loopback", include_loopback, "offer loopback addresses too (peers on one machine)");
  CLI11_PARSE(app, argc, argv);
  if (dial_tokens.empty() && accept_tokens.empty()) {
    std::fprintf(stderr, "srudp_chat: say whom to talk to: --dial TOKEN or --accept TOKEN\n");
    return 2;
  }

  asio::io_context io;
  Chat chat(io, name);
  srudp::rdv::ClientOptions options;
  options.stun_port = stun_port;
  options.loopback_candidates = include_loopback;
  for (const auto& token : dial_tokens) chat.add_peer(true, url, token, options);
  for (const auto& token : accept_tokens) chat.add_peer(false, url, token, options);
  asio::signal_set signals(io, SIGINT, SIGTERM);  // Ctrl-C leaves as /quit does
  signals.async_wait([&chat](const boost::system::error_code& ec, int) {
    if (!ec) chat.on_input_end();
  });
  std::thread(read_stdin, std::ref(io), std::ref(chat)).detach();  // may stay blocked in read()
  io.run();
  chat.restore_terminal();
  std::fflush(stdout);
  std::_Exit(chat.exit_code());  // the stdin thread may still be blocked in read()
}
