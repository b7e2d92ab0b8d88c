#include "rdv/http_session.hpp"

#include <array>
#include <sstream>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include "rdv/server_core.hpp"
#include "rendezvous/observed_address.hpp"
#include "rendezvous/proxy_protocol.hpp"
#include "rendezvous/rdv_response.hpp"

namespace srudp::rdv {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using rendezvous::HttpStatus;

struct HttpSession::HeaderReader {
  explicit HeaderReader(std::size_t max_header) : buffer(max_header + rendezvous::kMaxProxyV1Line) {
    parser.header_limit(static_cast<std::uint32_t>(max_header));
  }
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
};

namespace {

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

// Bytes discarded while lingering after an error response, at most.
constexpr std::size_t kMaxLingerBytes = 64 * 1024;

}  // namespace

HttpSession::HttpSession(std::shared_ptr<ServerCore> core, asio::ip::tcp::socket socket, SocketAddress peer)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      peer_(peer),
      timer_(core_->executor()),
      reader_(std::make_unique<HeaderReader>(core_->config().max_header_bytes)) {}

HttpSession::~HttpSession() {
  stop_reading();
  if (holds_connection_slot_) core_->release_connection(peer_);
  core_->session_finished(this);
}

void HttpSession::start() {
  reading_id_ = core_->reading_started(this, now());
  arm_timer(core_->config().header_timeout, &HttpSession::on_header_timeout);
  if (core_->trusted_proxies().contains(peer_.ip)) {
    read_proxy_line();
  } else {
    read_header();
  }
}

void HttpSession::arm_timer(Duration after, void (HttpSession::*on_expiry)()) {
  const unsigned generation = ++timer_generation_;
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), generation, on_expiry](const boost::system::error_code& ec) {
    if (ec || generation != self->timer_generation_) return;
    (self.get()->*on_expiry)();
  });
}

void HttpSession::on_header_timeout() {
  if (state_ != State::reading) return;
  reject(HttpStatus::request_timeout, "request header not received in time");
}

void HttpSession::read_proxy_line() {
  auto& buffer = reader_->buffer;
  const auto data = buffer.data();
  const auto line = rendezvous::parse_proxy_v1({static_cast<const char*>(data.data()), data.size()});
  using K = rendezvous::ProxyLine::Kind;
  switch (line.kind) {
    case K::parsed:
      proxy_source_ = line.source;
      buffer.consume(line.size);
      read_header();
      return;
    case K::not_proxy:
      read_header();
      return;
    case K::invalid:
      respond_and_close(rendezvous::format_error_response(HttpStatus::bad_request, "malformed PROXY line"),
                        400);
      return;
    case K::need_more:
      break;
  }
  socket_.async_read_some(buffer.prepare(rendezvous::kMaxProxyV1Line - buffer.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            if (self->state_ != State::reading) return;
                            if (ec) return self->close();
                            self->reader_->buffer.commit(n);
                            self->read_proxy_line();
                          });
}

void HttpSession::read_header() {
  http::async_read_header(socket_, reader_->buffer, reader_->parser,
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                            self->on_header(ec);
                          });
}

void HttpSession::on_header(const boost::system::error_code& ec) {
  if (state_ != State::reading) return;
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return respond_and_close(rendezvous::format_error_response(HttpStatus::bad_request, "request header too large"),
                             400);
  }
  if (ec == http::error::body_limit || ec == http::error::unexpected_body) {
    return respond_and_close(rendezvous::format_error_response(HttpStatus::bad_request, "unexpected request body"),
                             400);
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) {
    return close();  // nothing (complete) was asked
  }
  if (ec) {
    return respond_and_close(rendezvous::format_error_response(HttpStatus::bad_request, "malformed request"), 400);
  }
  handle_request();
}

void HttpSession::handle_request() {
  const auto& message = reader_->parser.get();
  if (core_->dump().enabled()) {
    std::ostringstream head;
    head << message.base();
    core_->dump().write("http-request", head.str());
  }
  rendezvous::HttpRequestHead head;
  head.method = view(message.method_string());
  head.target = view(message.target());
  head.version = message.version();
  for (const auto& field : message) head.fields.push_back({view(field.name_string()), view(field.value())});

  const auto& config = core_->config();
  const std::string_view path = head.target.substr(0, head.target.find('?'));
  if (!config.metrics_path.empty() && path == config.metrics_path &&
      (head.method == "GET" || head.method == "HEAD")) {
    return respond_and_close(
        rendezvous::format_content_response("text/plain; version=0.0.4; charset=utf-8", core_->metrics_text(),
                                            head.method == "HEAD"),
        200);
  }
  if (!rendezvous::path_below_mount(head.target, core_->rules().mount)) {
    return respond_and_close(rendezvous::format_error_response(HttpStatus::not_found, "not found"), 404);
  }
  auto checked = rendezvous::check_rdv_request(head, core_->rules());
  if (const auto* rejection = std::get_if<rendezvous::RdvRejection>(&checked)) {
    return respond_and_close(rendezvous::format_error_response(rejection->status, rejection->reason),
                             rendezvous::code_of(rejection->status));
  }
  request_ = std::move(std::get<rendezvous::RdvRequest>(checked));

  rendezvous::ProxyClaims claims;
  claims.proxy_line_source = proxy_source_;
  claims.x_forwarded_for = head.field("X-Forwarded-For");
  claims.x_forwarded_port = head.field("X-Forwarded-Port");
  observed_ = rendezvous::observed_address(peer_, claims, core_->trusted_proxies());

  // Anything after the head came before our response: rdv/1 forbids it.
  if (reader_->buffer.size() > 0) {
    return respond_and_close(rendezvous::format_error_response(HttpStatus::bad_request, "data sent while in lobby"),
                             400);
  }
  spdlog::debug("rdv: {} {} from {} (observed {})", rendezvous::to_string(request_.method), request_.token,
                peer_.to_string(), observed_ ? observed_->to_string() : "unknown");
  core_->join(shared_from_this(), now());
}

void HttpSession::wait_in_lobby(rendezvous::LobbyTicket ticket) {
  if (state_ != State::reading) return;
  set_state(State::waiting);
  ticket_ = ticket;
  ++timer_generation_;  // the header deadline is over; the lobby has its own
  timer_.cancel();
  watch_lobby();
}

// Waiting for readiness, not reading: bytes stay in the socket for whoever needs them.
void HttpSession::watch_lobby() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
    if (self->state_ != State::waiting || ec == asio::error::operation_aborted) return;
    boost::system::error_code available_error;
    const std::size_t available = self->socket_.available(available_error);
    self->core_->leave_lobby(self->ticket_);
    if (!ec && !available_error && available > 0) {
      self->respond_and_close(rendezvous::format_error_response(HttpStatus::bad_request, "data sent while in lobby"),
                              400);
    } else {
      self->close();  // the client gave up
    }
  });
}

void HttpSession::reject(HttpStatus status, std::string_view reason) {
  if (state_ != State::reading && state_ != State::waiting) return;
  respond_and_close(rendezvous::format_error_response(status, reason), rendezvous::code_of(status));
}

void HttpSession::hand_over() {
  set_state(State::handed_over);
  ++timer_generation_;
  timer_.cancel();
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  if (holds_connection_slot_) {
    holds_connection_slot_ = false;
    core_->release_connection(peer_);
  }
}

void HttpSession::respond_and_close(std::string response, int status_code) {
  set_state(State::responding);
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  ++core_->metrics().responses_total[status_code];
  response_ = std::move(response);
  arm_timer(core_->config().linger_timeout, &HttpSession::close);
  asio::async_write(socket_, asio::buffer(response_),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      if (self->state_ != State::responding) return;
                      if (ec) return self->close();
                      boost::system::error_code ignored_shutdown;
                      self->socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored_shutdown);
                      self->linger();
                    });
}

// Closing with unread bytes in the receive buffer would send a reset that can destroy the
// response before the client reads it. So read and discard until the client closes, a bounded
// amount, or the linger deadline.
void HttpSession::linger() {
  auto discard = std::make_shared<std::array<char, 4096>>();
  socket_.async_read_some(asio::buffer(*discard), [self = shared_from_this(), discard](
                                                      const boost::system::error_code& ec, std::size_t n) {
    if (self->state_ != State::responding) return;
    self->lingered_bytes_ += n;
    if (ec || self->lingered_bytes_ > kMaxLingerBytes) return self->close();
    self->linger();
  });
}

void HttpSession::close() {
  if (state_ == State::closed || state_ == State::handed_over) return;
  set_state(State::closed);
  ++timer_generation_;
  timer_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void HttpSession::evict() {
  if (state_ != State::reading) return;
  if (holds_connection_slot_) {
    holds_connection_slot_ = false;
    core_->release_connection(peer_);
  }
  close();
}

void HttpSession::set_state(State next) {
  state_ = next;
  stop_reading();  // only `reading` is ever entered first, in the constructor
}

void HttpSession::stop_reading() {
  if (reading_id_ == 0) return;
  core_->reading_finished(reading_id_);
  reading_id_ = 0;
}

}  // namespace srudp::rdv
