#include "srudp/rdv_client.hpp"

#include <cctype>
#include <sstream>
#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "io/address_conversion.hpp"
#include "io/endpoint_core.hpp"
#include "io/log.hpp"
#include "io/packet_dump.hpp"
#include "io/pending_operation.hpp"
#include "rdv/client_punching.hpp"
#include "rdv/relay_link.hpp"
#include "rendezvous/candidate_list.hpp"
#include "rendezvous/dialer_command.hpp"
#include "rendezvous/relay_framing.hpp"
#include "rendezvous/server_url.hpp"
#include "rendezvous/stun_binding.hpp"
#include "rendezvous/token.hpp"
#include "srudp/endpoint.hpp"

namespace srudp::rdv {
namespace {

// What the server says, fit for one log line: at most 200 characters, control characters (a
// hostile server's line breaks or terminal escapes) shown as '?', trailing blanks dropped.
std::string printable(std::string_view text) {
  text = text.substr(0, 200);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;
using rendezvous::PunchEvent;

[[noreturn]] void fail(std::error_code ec) { throw boost::system::system_error(ec); }

std::error_code status_error(unsigned status) {
  switch (status) {
    case 408: return errc::no_peer_found;
    case 409: return errc::replaced_by_newer_peer;
    case 503: return errc::server_unavailable;
    default: return errc::rendezvous_refused;
  }
}

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

SocketAddress to_address(const asio::ip::tcp::endpoint& e) {
  return io::to_socket_address(asio::ip::udp::endpoint(e.address(), e.port()));
}

}  // namespace

// One rendezvous: the server connection, the UDP endpoint, the hole punching and the relay.
class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(const asio::any_io_executor& executor, ClientOptions options)
      : executor_(executor), options_(std::move(options)), signal_(executor) {}

  asio::awaitable<Connection> run(bool dial, std::string url_text, std::string token);
  void close();
  PathInfo path() const;

  std::optional<Endpoint> endpoint;

 private:
  asio::awaitable<void> connect_server(const rendezvous::ServerUrl& url);
  asio::awaitable<std::optional<SocketAddress>> query_mapped_address();
  asio::awaitable<void> wait_signal(std::chrono::milliseconds timeout);
  void on_foreign(const SocketAddress& from, std::span<const std::uint8_t> datagram);
  void on_punch(const PunchEvent& event);
  void use_relay(std::string_view already_read);
  void move_to(const std::optional<SocketAddress>& direct);
  asio::awaitable<void> acceptor_relay();  // the acceptor: CONTINUE (a relay) or not

  asio::any_io_executor executor_;
  ClientOptions options_;
  asio::steady_timer signal_;  // cancelled to wake run() (a STUN answer, a punching event)
  Clock::time_point started_{};
  std::optional<asio::ip::tcp::socket> server_;  // until it becomes the relay
  std::string server_address_;
  std::string received_;  // bytes read from the server after the 101
  std::shared_ptr<RelayLink> relay_;
  std::shared_ptr<PunchDriver> punch_;
  rendezvous::StunTransactionId stun_id_{};
  SocketAddress stun_server_{};
  std::optional<SocketAddress> mapped_;
  std::optional<SocketAddress> direct_;  // the dialer: the working direct address, if any
  bool exhausted_ = false;
  bool dial_ = false;
  // Once established (the dialer moves it between paths). Weak: the application's handles decide
  // when the connection closes.
  Connection::Weak connection_;
  mutable std::optional<PathInfo> last_path_;
  bool closed_ = false;
};

asio::awaitable<void> ClientSession::connect_server(const rendezvous::ServerUrl& url) {
  asio::ip::tcp::resolver resolver(executor_);
  const auto addresses = co_await resolver.async_resolve(url.host, std::to_string(url.port), use_awaitable);
  server_.emplace(executor_);
  asio::steady_timer deadline(executor_, options_.server_connect_timeout);
  // as_tuple: operator|| waits for the first to *succeed*, so a refusal must not be an exception.
  const auto outcome = co_await (asio::async_connect(*server_, addresses, asio::as_tuple(use_awaitable)) ||
                                 deadline.async_wait(use_awaitable));
  if (outcome.index() == 1) fail(make_error_code(std::errc::timed_out));
  if (const auto ec = std::get<0>(std::get<0>(outcome))) throw boost::system::system_error(ec);
}

asio::awaitable<void> ClientSession::wait_signal(std::chrono::milliseconds timeout) {
  signal_.expires_after(timeout);
  boost::system::error_code ignored;
  co_await signal_.async_wait(asio::redirect_error(use_awaitable, ignored));
}

// Our public UDP address as the rdv server's STUN port sees it (from the connection's socket).
asio::awaitable<std::optional<SocketAddress>> ClientSession::query_mapped_address() {
  if (options_.stun_port == 0) co_return std::nullopt;
  SystemRandom random;
  random.fill(stun_id_);
  std::array<std::uint8_t, rendezvous::kStunBindingRequestSize> request{};
  if (!rendezvous::write_stun_binding_request(stun_id_, request)) co_return std::nullopt;
  stun_server_ = to_address(server_->remote_endpoint());
  stun_server_.port = options_.stun_port;
  for (const auto wait : {std::chrono::milliseconds(100), std::chrono::milliseconds(200), std::chrono::milliseconds(300)}) {
    endpoint->core()->send_raw(stun_server_, request);
    co_await wait_signal(wait);
    if (mapped_ || closed_) break;
  }
  co_return mapped_;
}

void ClientSession::on_foreign(const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  if (punch_ && punch_->on_datagram(from, datagram)) return;
  if (!mapped_ && from == stun_server_) {
    if (auto mapped = rendezvous::read_stun_binding_response(datagram, stun_id_)) {
      mapped_ = *mapped;
      signal_.cancel();
    }
  }
}

void ClientSession::on_punch(const PunchEvent& event) {
  using Kind = PunchEvent::Kind;
  io::log().debug("rdv: punching: {} {}", static_cast<int>(event.kind), event.address.to_string());
  if (!dial_) return;  // the acceptor's connection follows the dialer's packets
  switch (event.kind) {
    case Kind::found:
    case Kind::restored:
      move_to(event.address);
      break;
    case Kind::lost:
      move_to(std::nullopt);
      break;
    case Kind::exhausted:
      exhausted_ = true;
      break;
  }
  signal_.cancel();
}

// The dialer's choice: a working direct address, or (nullopt) the relay when there is one.
void ClientSession::move_to(const std::optional<SocketAddress>& direct) {
  direct_ = direct;
  Connection connection = connection_.lock();
  if (!connection.is_open()) return;  // applied once the connection exists
  if (direct) {
    connection.set_path(io::to_udp_endpoint(*direct));
  } else if (relay_ && relay_->is_open()) {
    connection.set_path(io::to_udp_endpoint(rendezvous::relay_path_address()));
  }
  (void)path();  // remembered
}

void ClientSession::use_relay(std::string_view already_read) {
  relay_ = std::make_shared<RelayLink>(
      std::move(*server_), endpoint->core(),
      std::span(reinterpret_cast<const std::uint8_t*>(already_read.data()), already_read.size()));
  server_.reset();
  endpoint->core()->attach_path(rendezvous::relay_path_address(), relay_);
  relay_->start([weak = weak_from_this()](boost::system::error_code ec) {
    io::log().debug("rdv: relay closed: {}", ec.message());
    if (auto self = weak.lock(); self && self->dial_ && self->direct_) self->move_to(self->direct_);
  });
}

asio::awaitable<void> ClientSession::acceptor_relay() {
  std::string& received = received_;
  for (;;) {
    const auto command = rendezvous::parse_dialer_command(received);
    using Kind = rendezvous::DialerCommand::Kind;
    if (command.kind == Kind::continue_relay) {
      received.erase(0, command.line_size);
      use_relay(received);
      co_return;
    }
    if (command.kind != Kind::need_more) co_return;  // OTHER: the dialer went direct
    char more[256];
    auto [ec, n] = co_await server_->async_read_some(asio::buffer(more), asio::as_tuple(use_awaitable));
    if (ec) co_return;  // closed without CONTINUE: the dialer went direct (OTHER), or gave up
    received.append(more, n);
  }
}

asio::awaitable<Connection> ClientSession::run(bool dial, std::string url_text, std::string token) {
  started_ = Clock::now();
  dial_ = dial;
  const auto url = rendezvous::parse_server_url(url_text);
  if (!url) fail(url.error());
  const auto secrets = rendezvous::derive_token_secrets(token);
  if (!secrets) fail(secrets.error());
  ConnectionOptions connection_options = options_.connection;
  connection_options.psk = secrets->psk;
  const bool punching = options_.policy != PathPolicy::relay_only;

  EndpointOptions endpoint_options;
  endpoint_options.accept_incoming = !dial;
  endpoint_options.server = connection_options;
  endpoint_options.dump_directory = options_.dump_directory;
  endpoint.emplace(executor_, asio::ip::udp::endpoint(asio::ip::udp::v6(), 0), endpoint_options);
  endpoint->core()->set_foreign_handler([weak = weak_from_this()](const SocketAddress& from, auto datagram) {
    if (auto self = weak.lock()) self->on_foreign(from, datagram);
  });

  co_await connect_server(*url);
  server_address_ = to_address(server_->remote_endpoint()).to_string();

  // Our candidates: this host's addresses and the public one the server's STUN port sees.
  std::vector<SocketAddress> ours;
  if (punching) {
    ours = local_candidates(endpoint->local_endpoint().port(), options_.loopback_candidates);
    if (auto mapped = co_await query_mapped_address()) {
      if (std::find(ours.begin(), ours.end(), *mapped) == ours.end()) ours.insert(ours.begin(), *mapped);
    }
    if (ours.size() > rendezvous::kMaxSelfAddrs) ours.resize(rendezvous::kMaxSelfAddrs);
  }

  const std::string role = dial ? "DIAL" : "ACCEPT";
  http::request<http::empty_body> request;
  request.method_string(role);
  request.target(url->target(secrets->lookup_id));
  request.version(11);
  request.set(http::field::host, url->host_header());
  request.set(http::field::connection, "upgrade");
  request.set(http::field::upgrade, "rdv/1");
  request.set("Rdv-Self-Addrs", rendezvous::format_candidate_list(ours));
  io::log().debug("rdv: {} at {}, candidates {}", role, url_text, rendezvous::format_candidate_list(ours));
  if (io::PacketDump dump(options_.dump_directory); dump.enabled()) {
    std::ostringstream head;
    head << request.base();
    dump.write(dial ? "http-request-dial" : "http-request-accept", head.str());
  }
  co_await http::async_write(*server_, request, use_awaitable);

  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(4 * 1024);
  co_await http::async_read_header(*server_, buffer, parser, use_awaitable);
  const unsigned status = parser.get().result_int();
  if (status != 101) {
    boost::system::error_code ignored;
    co_await http::async_read(*server_, buffer, parser, asio::redirect_error(use_awaitable, ignored));
    io::log().warn("rdv: the server answered {} {}: {}", status, printable(parser.get().reason()),
                   printable(parser.get().body()));
    fail(status_error(status));
  }
  received_.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
  const auto peer = rendezvous::parse_candidate_list(std::string(parser.get()["Rdv-Peer-Addrs"]),
                                                     rendezvous::kMaxSelfAddrs + 1);
  io::log().debug("rdv: paired; peer candidates {}", std::string(parser.get()["Rdv-Peer-Addrs"]));
  if (punching && peer && !peer->empty()) {
    rendezvous::HolePuncherConfig config;
    config.controlling = dial;
    config.our_key = dial ? secrets->dialer_check_key : secrets->acceptor_check_key;
    config.peer_key = dial ? secrets->acceptor_check_key : secrets->dialer_check_key;
    punch_ = std::make_shared<PunchDriver>(executor_, endpoint->core(), config);
    punch_->start(*peer, [weak = weak_from_this()](const PunchEvent& e) {
      if (auto self = weak.lock()) self->on_punch(e);
    });
  } else if (punching) {
    exhausted_ = true;
  }

  const auto relay_address = io::to_udp_endpoint(rendezvous::relay_path_address());
  const auto handshake_timeout = connection_options.handshake_timeout;
  if (!dial) {
    // The dialer decides: a relay (CONTINUE) now or after its wait, or a direct handshake.
    asio::co_spawn(executor_, [self = shared_from_this()]() { return self->acceptor_relay(); }, asio::detached);
    asio::steady_timer deadline(executor_, handshake_timeout + options_.wait);
    auto outcome =
        co_await (endpoint->async_accept(asio::as_tuple(use_awaitable)) || deadline.async_wait(use_awaitable));
    if (outcome.index() == 1) fail(errc::handshake_timeout);
    auto& [ec, accepted] = std::get<0>(outcome);
    if (ec) throw boost::system::system_error(ec);
    connection_ = accepted.weak();
    (void)path();
    co_return accepted;
  }

  // The dialer. wait and direct_only: punch first (fast and relay_only skip this).
  if (options_.policy == PathPolicy::wait || options_.policy == PathPolicy::direct_only) {
    const auto limit = options_.policy == PathPolicy::wait ? options_.wait : handshake_timeout;
    const auto until = Clock::now() + limit;
    while (!direct_ && !exhausted_ && !closed_ && Clock::now() < until) {
      co_await wait_signal(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
    }
    if (direct_) {
      const SocketAddress direct = *direct_;
      auto [ec, c] = co_await endpoint->async_connect(io::to_udp_endpoint(direct), connection_options,
                                                        asio::as_tuple(use_awaitable));
      if (!ec) {
        const std::string other = "OTHER " + direct.to_string() + "\n";  // the server counts a p2p success
        boost::system::error_code ignored;
        co_await asio::async_write(*server_, asio::buffer(other), asio::redirect_error(use_awaitable, ignored));
        server_->close(ignored);
        connection_ = c.weak();
        c.set_path(io::to_udp_endpoint(direct));
        (void)path();
        co_return c;
      }
      io::log().info("rdv: direct handshake to {} failed: {}", direct.to_string(), ec.message());
    }
    if (options_.policy == PathPolicy::direct_only) fail(errc::no_path);
  }

  // The relay; a direct path found meanwhile (or later) takes over (move_to).
  co_await asio::async_write(*server_, asio::buffer(rendezvous::kContinueLine), use_awaitable);
  use_relay(received_);
  Connection connection = co_await endpoint->async_connect(relay_address, connection_options, use_awaitable);
  connection_ = connection.weak();
  move_to(direct_);
  co_return connection;
}

PathInfo ClientSession::path() const {
  const Connection connection = connection_.lock();
  if (!connection.is_open()) {
    if (last_path_) return *last_path_;  // the path it had when it closed
    PathInfo before;
    before.address = server_address_;
    before.elapsed = since(started_);
    return before;
  }
  PathInfo out;
  out.elapsed = since(started_);
  const SocketAddress remote = io::to_socket_address(connection.remote_endpoint());
  out.relayed = rendezvous::is_relay_path_address(remote);
  out.address = out.relayed ? server_address_ : remote.to_string();
  last_path_ = out;
  return out;
}

void ClientSession::close() {
  if (closed_) return;
  closed_ = true;
  signal_.cancel();
  boost::system::error_code ignored;
  if (server_) server_->close(ignored);  // ends a wait in the lobby
  if (punch_) punch_->stop();
  if (relay_) relay_->close();
  if (endpoint) endpoint->close();
}

Client::Client(const executor_type& executor, ClientOptions options)
    : executor_(executor), options_(std::move(options)) {}

Client::~Client() { close(); }

void Client::start(bool dial, std::string url, std::string token, ConnectionHandler handler) {
  close();
  session_ = std::make_shared<ClientSession>(executor_, options_);
  io::PendingOperation<Connection> operation(std::move(handler), executor_);
  asio::co_spawn(executor_, session_->run(dial, std::move(url), std::move(token)),
                 [operation = std::move(operation), session = session_](std::exception_ptr e, Connection c) mutable {
                   boost::system::error_code ec;
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const boost::system::system_error& error) {
                       ec = error.code();
                     } catch (const std::exception& error) {
                       io::log().warn("rdv: {}", error.what());
                       ec = make_error_code(errc::io_error);
                     }
                     session->close();
                   }
                   operation.complete(ec, std::move(c));
                 });
}

PathInfo Client::path() const { return session_ ? session_->path() : PathInfo{}; }

std::size_t Client::connection_count() const {
  return session_ && session_->endpoint && session_->endpoint->core() ? session_->endpoint->core()->connection_count()
                                                                      : 0;
}

Endpoint* Client::endpoint() {
  return session_ && session_->endpoint ? &*session_->endpoint : nullptr;
}

void Client::close() {
  if (session_) session_->close();
}

}  // namespace srudp::rdv
