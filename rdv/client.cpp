#include "rdv/client.hpp"

#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
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
#include "io/pending_operation.hpp"
#include "rdv/relay_link.hpp"
#include "rendezvous/dialer_command.hpp"
#include "rendezvous/relay_framing.hpp"
#include "rendezvous/server_url.hpp"
#include "rendezvous/token.hpp"
#include "srudp/endpoint.hpp"

namespace srudp::rdv {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

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

}  // namespace

// One rendezvous: the server connection, the UDP endpoint and, once paired, the relay.
class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(const asio::any_io_executor& executor, ClientOptions options)
      : executor_(executor), options_(std::move(options)) {}

  asio::awaitable<Connection> run(bool dial, std::string url_text, std::string token);
  void close();

  PathInfo path;
  std::optional<Endpoint> endpoint;

 private:
  asio::awaitable<void> connect_server(const rendezvous::ServerUrl& url);

  asio::any_io_executor executor_;
  ClientOptions options_;
  std::optional<asio::ip::tcp::socket> server_;  // until it becomes the relay
  std::shared_ptr<RelayLink> relay_;
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

asio::awaitable<Connection> ClientSession::run(bool dial, std::string url_text, std::string token) {
  const auto started = Clock::now();
  const auto url = rendezvous::parse_server_url(url_text);
  if (!url) fail(url.error());
  const auto secrets = rendezvous::derive_token_secrets(token);
  if (!secrets) fail(secrets.error());
  ConnectionOptions connection_options = options_.connection;
  connection_options.psk = secrets->psk;

  EndpointOptions endpoint_options;
  endpoint_options.accept_incoming = !dial;
  endpoint_options.server = connection_options;
  endpoint.emplace(executor_, asio::ip::udp::endpoint(asio::ip::udp::v6(), 0), endpoint_options);

  co_await connect_server(*url);
  asio::ip::tcp::socket& socket = *server_;
  const std::string role = dial ? "DIAL" : "ACCEPT";
  io::log().debug("rdv: {} {} at {}", role, secrets->lookup_id, url_text);

  http::request<http::empty_body> request;
  request.method_string(role);
  request.target(url->target(secrets->lookup_id));
  request.version(11);
  request.set(http::field::host, url->host_header());
  request.set(http::field::connection, "upgrade");
  request.set(http::field::upgrade, "rdv/1");
  request.set("Rdv-Self-Addrs", "");
  co_await http::async_write(socket, request, use_awaitable);

  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(4 * 1024);
  co_await http::async_read_header(socket, buffer, parser, use_awaitable);
  const unsigned status = parser.get().result_int();
  if (status != 101) {
    boost::system::error_code ignored;
    co_await http::async_read(socket, buffer, parser, asio::redirect_error(use_awaitable, ignored));
    io::log().warn("rdv: the server answered {} {}: {}", status, std::string(parser.get().reason()),
                   parser.get().body());
    fail(status_error(status));
  }
  io::log().debug("rdv: paired; peer candidates: {}",
                  std::string(parser.get()["Rdv-Peer-Addrs"]));

  // The relay: the dialer says CONTINUE; the acceptor reads it (the server forwards it).
  std::string received(static_cast<const char*>(buffer.data().data()), buffer.size());
  if (dial) {
    co_await asio::async_write(socket, asio::buffer(rendezvous::kContinueLine), use_awaitable);
  } else {
    for (;;) {
      const auto command = rendezvous::parse_dialer_command(received);
      using Kind = rendezvous::DialerCommand::Kind;
      if (command.kind == Kind::continue_relay) {
        received.erase(0, command.line_size);
        break;
      }
      if (command.kind != Kind::need_more) fail(errc::relay_lost);  // OTHER: a direct path we do not have
      char more[256];
      const std::size_t n = co_await socket.async_read_some(asio::buffer(more), use_awaitable);
      received.append(more, n);
    }
  }
  const auto server = socket.remote_endpoint();
  path.address = io::to_socket_address(asio::ip::udp::endpoint(server.address(), server.port())).to_string();
  relay_ = std::make_shared<RelayLink>(
      std::move(*server_), endpoint->core(),
      std::span(reinterpret_cast<const std::uint8_t*>(received.data()), received.size()));
  server_.reset();
  endpoint->core()->attach_path(rendezvous::relay_path_address(), relay_);
  relay_->start([](boost::system::error_code ec) { io::log().info("rdv: relay closed: {}", ec.message()); });

  const auto relay_address = io::to_udp_endpoint(rendezvous::relay_path_address());
  Connection connection;
  if (dial) {
    connection = co_await endpoint->async_connect(relay_address, connection_options, use_awaitable);
  } else {
    asio::steady_timer deadline(executor_, connection_options.handshake_timeout);
    auto outcome =
        co_await (endpoint->async_accept(asio::as_tuple(use_awaitable)) || deadline.async_wait(use_awaitable));
    if (outcome.index() == 1) fail(errc::handshake_timeout);
    auto& [ec, accepted] = std::get<0>(outcome);
    if (ec) throw boost::system::system_error(ec);
    connection = std::move(accepted);
  }
  path.relayed = true;
  path.elapsed = since(started);
  co_return connection;
}

void ClientSession::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  if (server_) server_->close(ignored);  // ends a wait in the lobby
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

PathInfo Client::path() const { return session_ ? session_->path : PathInfo{}; }

std::size_t Client::connection_count() const {
  return session_ && session_->endpoint && session_->endpoint->core() ? session_->endpoint->core()->connection_count()
                                                                      : 0;
}

void Client::close() {
  if (session_) session_->close();
}

}  // namespace srudp::rdv
