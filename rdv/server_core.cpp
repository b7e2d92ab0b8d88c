#include "rdv/server_core.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <spdlog/spdlog.h>

#include "rdv/endpoint_conversion.hpp"
#include "rdv/http_session.hpp"
#include "rdv/relay.hpp"
#include "rdv/stun_responder.hpp"

namespace srudp::rdv {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using rendezvous::HttpStatus;
using rendezvous::LobbyJoin;

Instant now() { return Instant(std::chrono::steady_clock::now().time_since_epoch()); }

asio::steady_timer::time_point to_timer_time(Instant t) {
  return asio::steady_timer::time_point(
      std::chrono::duration_cast<asio::steady_timer::duration>(t.time_since_epoch()));
}

ServerCore::ServerCore(asio::any_io_executor strand, ServerConfig config)
    : strand_(std::move(strand)),
      config_(std::move(config)),
      trusted_(config_.trusted_proxies),
      lobby_(config_.lobby),
      stun_limiter_(config_.stun_rate_per_source, config_.stun_max_sources),
      dump_(config_.dump_directory),
      acceptor_(strand_),
      accept_retry_timer_(strand_),
      lobby_timer_(strand_),
      drain_timer_(strand_) {
  rules_.mount = rendezvous::normalize_mount(config_.mount);
}

void ServerCore::start() {
  acceptor_.open(config_.listen.protocol());
  if (config_.listen.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(false));
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(config_.listen);
  acceptor_.listen();
  http_endpoint_ = acceptor_.local_endpoint();
  for (const std::uint16_t port : config_.stun_ports) {
    auto responder = std::make_shared<StunResponder>(
        shared_from_this(), asio::ip::udp::endpoint(config_.listen.address(), port));
    stun_.push_back(responder);
  }
  for (const auto& responder : stun_) responder->start();
  accept();
}

std::vector<asio::ip::udp::endpoint> ServerCore::stun_endpoints() const {
  std::vector<asio::ip::udp::endpoint> out;
  for (const auto& responder : stun_) out.push_back(responder->local_endpoint());
  return out;
}

std::string ServerCore::metrics_text() const {
  MetricsGauges gauges;
  gauges.lobby_waiting = lobby_.size();
  gauges.connections_active = connections_;
  gauges.relays_active = relays_.size();
  return format_prometheus(metrics_, gauges);
}

void ServerCore::accept() {
  acceptor_.async_accept(strand_, [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!ec) {
      error_code endpoint_error;
      const auto remote = socket.remote_endpoint(endpoint_error);
      if (!endpoint_error) {
        const SocketAddress peer = to_socket_address(remote);
        ++self->metrics_.connections_total;
        auto admission = self->admit(peer);
        if (admission == Admission::server_full && self->evict_slowest_head(now())) admission = self->admit(peer);
        if (admission == Admission::admitted) {
          auto session = std::make_shared<HttpSession>(self, std::move(socket), peer);
          self->session_started(session);
          session->start();
        } else {
          ++self->metrics_.connections_refused_total;
        }
      }
    } else {
      // Out of file descriptors (or similar) fails again at once: pause instead of spinning.
      spdlog::warn("rdv: accept failed: {}", ec.message());
      self->accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
      self->accept_retry_timer_.async_wait([self](const error_code& wait_error) {
        if (!wait_error && self->acceptor_.is_open()) self->accept();
      });
      return;
    }
    self->accept();
  });
}

ServerCore::Admission ServerCore::admit(const SocketAddress& peer) {
  const auto key = rendezvous::source_key(peer.ip);
  const auto it = connections_per_source_.find(key);
  const std::size_t from_source = it == connections_per_source_.end() ? 0 : it->second;
  if (from_source >= config_.max_connections_per_source) return Admission::source_full;
  if (connections_ >= config_.max_connections) return Admission::server_full;
  ++connections_;
  ++connections_per_source_[key];
  return Admission::admitted;
}

bool ServerCore::evict_slowest_head(Instant at) {
  const Duration age = config_.evict_heads_older_than;
  if (age <= Duration::zero() || connections_ < config_.max_connections || reading_.empty()) return false;
  const Reading oldest = reading_.begin()->second;
  if (at - oldest.since < age) return false;
  ++metrics_.connections_evicted_total;
  oldest.session->evict();  // releases its slot and leaves reading_ now
  return true;
}

std::uint64_t ServerCore::reading_started(HttpSession* session, Instant at) {
  const std::uint64_t id = next_reading_id_++;
  reading_.emplace(id, Reading{session, at});
  return id;
}

void ServerCore::reading_finished(std::uint64_t id) { reading_.erase(id); }

void ServerCore::release_connection(const SocketAddress& peer) {
  const auto key = rendezvous::source_key(peer.ip);
  --connections_;
  const auto it = connections_per_source_.find(key);
  if (it != connections_per_source_.end() && --it->second == 0) connections_per_source_.erase(it);
}

void ServerCore::session_started(const std::shared_ptr<HttpSession>& session) {
  sessions_.emplace(session.get(), session);
}

void ServerCore::session_finished(HttpSession* session) {
  sessions_.erase(session);
  check_drained();
}

void ServerCore::join(const std::shared_ptr<HttpSession>& session, Instant at) {
  const auto& request = session->request();
  const LobbyJoin joined = lobby_.join(at, request.token, request.method, session->peer().ip);
  switch (joined.outcome) {
    case LobbyJoin::Outcome::closed:
      return session->reject(HttpStatus::service_unavailable, "server shutting down");
    case LobbyJoin::Outcome::full:
      return session->reject(HttpStatus::service_unavailable, "lobby full");
    case LobbyJoin::Outcome::waiting:
      if (joined.replaced) {
        if (const auto it = waiting_.find(*joined.replaced); it != waiting_.end()) {
          const auto replaced = it->second;
          waiting_.erase(it);
          replaced->reject(HttpStatus::conflict, "replaced by another conn");
        }
      }
      waiting_.emplace(joined.ticket, session);
      session->wait_in_lobby(joined.ticket);
      arm_lobby_timer();
      return;
    case LobbyJoin::Outcome::paired:
      break;
  }
  const rendezvous::LobbyTicket peer_ticket = joined.ticket == joined.dialer ? joined.acceptor : joined.dialer;
  const auto it = waiting_.find(peer_ticket);
  if (it == waiting_.end()) {  // cannot happen: every waiting ticket has its session
    return session->reject(HttpStatus::internal_error, "internal error");
  }
  const auto peer = it->second;
  waiting_.erase(it);
  if (relays_.size() >= config_.max_relays) {
    peer->reject(HttpStatus::service_unavailable, "relay capacity reached");
    return session->reject(HttpStatus::service_unavailable, "relay capacity reached");
  }
  const auto& dialer = request.method == rendezvous::RdvMethod::dial ? session : peer;
  const auto& acceptor = request.method == rendezvous::RdvMethod::dial ? peer : session;
  dialer->hand_over();
  acceptor->hand_over();
  auto relay = std::make_shared<Relay>(shared_from_this(), dialer, acceptor);
  relays_.emplace(relay.get(), relay);
  spdlog::debug("rdv: paired {} ({} and {})", request.token, dialer->peer().to_string(),
                acceptor->peer().to_string());
  relay->start();
}

void ServerCore::leave_lobby(rendezvous::LobbyTicket ticket) {
  lobby_.leave(ticket);
  waiting_.erase(ticket);
}

void ServerCore::arm_lobby_timer() {
  const auto next = lobby_.next_deadline();
  if (!next || (lobby_timer_at_ && *lobby_timer_at_ <= *next)) return;
  lobby_timer_at_ = next;
  lobby_timer_.expires_at(to_timer_time(*next));
  lobby_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec) return;  // re-armed earlier, or stopping
    self->lobby_timer_at_.reset();
    self->on_lobby_timer();
  });
}

void ServerCore::on_lobby_timer() {
  for (const auto ticket : lobby_.expire(now())) {
    if (const auto it = waiting_.find(ticket); it != waiting_.end()) {
      const auto session = it->second;
      waiting_.erase(it);
      session->reject(HttpStatus::request_timeout, "no matching peer found");
    }
  }
  arm_lobby_timer();
}

void ServerCore::relay_finished(Relay* relay) {
  relays_.erase(relay);
  check_drained();
}

void ServerCore::stop() {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("rdv: shutting down: {} waiting, {} relays draining", lobby_.size(), relays_.size());
  error_code ignored;
  acceptor_.close(ignored);
  accept_retry_timer_.cancel();
  for (const auto& responder : stun_) responder->close();
  stun_.clear();  // they hold the core too
  lobby_timer_.cancel();
  for (const auto ticket : lobby_.close()) {
    if (const auto it = waiting_.find(ticket); it != waiting_.end()) {
      const auto session = it->second;
      waiting_.erase(it);
      session->reject(HttpStatus::service_unavailable, "server shutting down");
    }
  }
  // Requests still being read get their 503 now rather than at the end of their header time.
  std::vector<std::shared_ptr<HttpSession>> live;
  for (const auto& [raw, weak] : sessions_) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  for (const auto& session : live) session->reject(HttpStatus::service_unavailable, "server shutting down");

  drain_timer_.expires_after(config_.drain_timeout);
  drain_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec) return;
    std::vector<std::shared_ptr<Relay>> left;
    for (const auto& [raw, relay] : self->relays_) left.push_back(relay);
    if (!left.empty()) spdlog::info("rdv: closing {} relays at the drain deadline", left.size());
    for (const auto& relay : left) relay->close();
  });
  check_drained();
}

void ServerCore::on_stopped(std::function<void()> callback) {
  if (drained_) {
    if (callback) callback();
    return;
  }
  on_stopped_ = std::move(callback);
}

void ServerCore::check_drained() {
  if (!stopping_ || drained_ || !sessions_.empty() || !relays_.empty()) return;
  drained_ = true;
  drain_timer_.cancel();
  lobby_timer_.cancel();
  spdlog::info("rdv: stopped");
  if (auto callback = std::move(on_stopped_)) callback();
}

}  // namespace srudp::rdv
