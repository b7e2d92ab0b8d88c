// The server's shared state, on one strand: the lobby, the live sessions and relays, the
// connection counts and the metrics. HttpSession and Relay call into it; Server owns it.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "io/packet_dump.hpp"
#include "rdv/metrics.hpp"
#include "rdv/server_config.hpp"
#include "rendezvous/lobby.hpp"
#include "rendezvous/observed_address.hpp"
#include "rendezvous/rdv_request.hpp"
#include "rendezvous/source_rate_limiter.hpp"

namespace srudp::rdv {

class HttpSession;
class Relay;
class StunResponder;

Instant now();
boost::asio::steady_timer::time_point to_timer_time(Instant t);

class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(boost::asio::any_io_executor strand, ServerConfig config);

  // Binds the HTTP acceptor and the STUN sockets (throws boost::system::system_error), then
  // starts accepting.
  void start();
  void stop();  // on the strand
  void on_stopped(std::function<void()> callback);

  const ServerConfig& config() const noexcept { return config_; }
  const rendezvous::RdvRequestRules& rules() const noexcept { return rules_; }
  const rendezvous::TrustedProxies& trusted_proxies() const noexcept { return trusted_; }
  const boost::asio::any_io_executor& executor() const noexcept { return strand_; }
  ServerMetrics& metrics() noexcept { return metrics_; }
  std::string metrics_text() const;
  bool stopping() const noexcept { return stopping_; }
  rendezvous::SourceRateLimiter& stun_limiter() noexcept { return stun_limiter_; }
  io::PacketDump& dump() noexcept { return dump_; }

  boost::asio::ip::tcp::endpoint http_endpoint() const { return http_endpoint_; }
  std::vector<boost::asio::ip::udp::endpoint> stun_endpoints() const;

  // Sessions (before pairing).
  void session_started(const std::shared_ptr<HttpSession>& session);
  void session_finished(HttpSession* session);
  void release_connection(const SocketAddress& peer);
  // Sessions still reading their request head, oldest first: each registers when it starts and
  // leaves when it stops reading (evict_slowest_head uses the order).
  std::uint64_t reading_started(HttpSession* session, Instant at);
  void reading_finished(std::uint64_t id);
  // A valid rdv request: into the lobby, or paired with its waiting peer at once.
  void join(const std::shared_ptr<HttpSession>& session, Instant at);
  void leave_lobby(rendezvous::LobbyTicket ticket);
  void relay_finished(Relay* relay);

 private:
  void accept();
  enum class Admission { admitted, source_full, server_full };
  Admission admit(const SocketAddress& peer);
  // At the connection cap: closes the oldest head still being read if it is old enough
  // (ServerConfig::evict_heads_older_than), freeing its slot. False if there is none.
  bool evict_slowest_head(Instant at);
  void arm_lobby_timer();
  void on_lobby_timer();
  void check_drained();

  boost::asio::any_io_executor strand_;
  ServerConfig config_;
  rendezvous::RdvRequestRules rules_;
  rendezvous::TrustedProxies trusted_;
  rendezvous::Lobby lobby_;
  rendezvous::SourceRateLimiter stun_limiter_;
  ServerMetrics metrics_;
  io::PacketDump dump_;
  bool stopping_ = false;
  bool drained_ = false;
  std::function<void()> on_stopped_;

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint http_endpoint_;
  boost::asio::steady_timer accept_retry_timer_;
  std::vector<std::shared_ptr<StunResponder>> stun_;

  std::size_t connections_ = 0;
  std::unordered_map<rendezvous::IpBytes, std::size_t, rendezvous::IpBytesHash> connections_per_source_;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> sessions_;
  struct Reading {
    HttpSession* session;
    Instant since;
  };
  std::map<std::uint64_t, Reading> reading_;  // by id, which grows: oldest first
  std::uint64_t next_reading_id_ = 1;
  std::unordered_map<rendezvous::LobbyTicket, std::shared_ptr<HttpSession>> waiting_;
  std::unordered_map<Relay*, std::shared_ptr<Relay>> relays_;

  boost::asio::steady_timer lobby_timer_;
  std::optional<Instant> lobby_timer_at_;
  boost::asio::steady_timer drain_timer_;
};

}  // namespace srudp::rdv
