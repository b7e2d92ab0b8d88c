#include "rdv/relay.hpp"

#include <algorithm>
#include <array>

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "rdv/http_session.hpp"
#include "rdv/server_core.hpp"
#include "rendezvous/candidate_list.hpp"
#include "rendezvous/dialer_command.hpp"
#include "rendezvous/rdv_response.hpp"

namespace srudp::rdv {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::string upgrade_response_for(const HttpSession& self, const HttpSession& peer) {
  const auto peer_addrs = rendezvous::peer_candidates(peer.request().self_addrs, peer.observed());
  return rendezvous::format_upgrade_response(peer_addrs, self.observed());
}

}  // namespace

Relay::Direction::Direction(asio::ip::tcp::socket& from_socket, asio::ip::tcp::socket& to_socket,
                            std::size_t buffer_bytes, rendezvous::RateLimit rate, const asio::any_io_executor& ex)
    : from(from_socket), to(to_socket), buffer(buffer_bytes), bucket(rate, now()), pace(ex) {}

Relay::Relay(std::shared_ptr<ServerCore> core, std::shared_ptr<HttpSession> dialer,
             std::shared_ptr<HttpSession> acceptor)
    : core_(std::move(core)),
      dialer_(std::move(dialer)),
      acceptor_(std::move(acceptor)),
      dialer_response_(upgrade_response_for(*dialer_, *acceptor_)),
      acceptor_response_(upgrade_response_for(*acceptor_, *dialer_)),
      to_acceptor_(dialer_->socket(), acceptor_->socket(), core_->config().relay_buffer_bytes,
                   core_->config().relay_rate, core_->executor()),
      to_dialer_(acceptor_->socket(), dialer_->socket(), core_->config().relay_buffer_bytes,
                 core_->config().relay_rate, core_->executor()),
      idle_timer_(core_->executor()),
      last_activity_(std::chrono::steady_clock::now()) {}

void Relay::start() {
  core_->metrics().responses_total[101] += 2;
  ++core_->metrics().pairs_total;
  arm_idle_timer();
  write_response(true);
}

void Relay::write_response(bool to_dialer) {
  HttpSession& session = to_dialer ? *dialer_ : *acceptor_;
  const std::string& bytes = to_dialer ? dialer_response_ : acceptor_response_;
  asio::async_write(session.socket(), asio::buffer(bytes),
                    [self = shared_from_this(), to_dialer](const error_code& ec, std::size_t) {
                      if (self->closed_) return;
                      if (ec) return self->close();
                      if (to_dialer) return self->write_response(false);
                      self->read_command();
                    });
}

void Relay::read_command() {
  auto chunk = std::make_shared<std::array<char, rendezvous::kMaxDialerCommandLine>>();
  dialer_->socket().async_read_some(asio::buffer(*chunk), [self = shared_from_this(), chunk](const error_code& ec,
                                                                                             std::size_t n) {
    if (self->closed_) return;
    if (ec) return self->close();  // the dialer left before choosing
    self->touch();
    self->command_.append(chunk->data(), n);
    self->on_command();
  });
}

void Relay::on_command() {
  const auto command = rendezvous::parse_dialer_command(command_);
  using K = rendezvous::DialerCommand::Kind;
  switch (command.kind) {
    case K::need_more:
      return read_command();
    case K::other:
      ++core_->metrics().p2p_successes_total;
      spdlog::debug("rdv: pair went direct via {}", command.other->to_string());
      return close();
    case K::invalid:
      ++core_->metrics().relay_protocol_errors_total;
      spdlog::debug("rdv: dialer sent neither CONTINUE nor OTHER");
      return close();
    case K::continue_relay:
      break;
  }
  ++core_->metrics().relays_total;
  // The acceptor gets CONTINUE, then whatever the dialer sent after it in the same read.
  first_forward_ = std::string(rendezvous::kContinueLine) + command_.substr(command.line_size);
  core_->metrics().relayed_bytes_total += command_.size() - command.line_size;
  asio::async_write(acceptor_->socket(), asio::buffer(first_forward_),
                    [self = shared_from_this()](const error_code& ec, std::size_t) {
                      if (self->closed_) return;
                      if (ec) return self->close();
                      self->pump(self->to_acceptor_);
                      self->pump(self->to_dialer_);
                    });
}

void Relay::pump(Direction& d) {
  // Never read more than one burst at a time, so pacing stays smooth.
  std::size_t chunk = d.buffer.size();
  if (!d.bucket.unlimited()) {
    chunk = std::min(chunk, std::max<std::size_t>(1, static_cast<std::size_t>(core_->config().relay_rate.burst)));
  }
  d.from.async_read_some(asio::buffer(d.buffer.data(), chunk), [self = shared_from_this(), &d](const error_code& ec,
                                                                                               std::size_t n) {
    if (self->closed_) return;
    if (ec == asio::error::eof) return self->finish(d);
    if (ec) return self->close();
    self->touch();
    self->core_->metrics().relayed_bytes_total += n;
    const Duration wait = d.bucket.take_with_debt(now(), static_cast<double>(n));
    if (wait <= Duration::zero()) return self->forward(d, n);
    d.pace.expires_after(wait);
    d.pace.async_wait([self, &d, n](const error_code& pace_ec) {
      if (self->closed_ || pace_ec) return;
      self->forward(d, n);
    });
  });
}

void Relay::forward(Direction& d, std::size_t n) {
  asio::async_write(d.to, asio::buffer(d.buffer.data(), n), [self = shared_from_this(), &d](const error_code& ec,
                                                                                            std::size_t) {
    if (self->closed_) return;
    if (ec) return self->close();
    self->touch();
    self->pump(d);
  });
}

// One side finished sending: pass the half-close on, and end when both have.
void Relay::finish(Direction& d) {
  d.finished = true;
  error_code ignored;
  d.to.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  if (to_acceptor_.finished && to_dialer_.finished) close();
}

void Relay::touch() { last_activity_ = std::chrono::steady_clock::now(); }

void Relay::arm_idle_timer() {
  idle_timer_.expires_at(last_activity_ + core_->config().relay_idle_timeout);
  idle_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->closed_) return;
    if (std::chrono::steady_clock::now() >= self->last_activity_ + self->core_->config().relay_idle_timeout) {
      ++self->core_->metrics().relay_idle_timeouts_total;
      return self->close();
    }
    self->arm_idle_timer();
  });
}

void Relay::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  idle_timer_.cancel();
  to_acceptor_.pace.cancel();
  to_dialer_.pace.cancel();
  for (auto* socket : {&dialer_->socket(), &acceptor_->socket()}) {
    socket->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket->close(ignored);
  }
  core_->relay_finished(this);
}

}  // namespace srudp::rdv
