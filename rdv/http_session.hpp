// One client's TCP connection until it is paired: an optional PROXY v1 line (trusted proxies
// only), the HTTP/1.1 request head (Beast, bounded in size and time), then either a response and
// close, or the lobby, where any byte from the client is a protocol error (400). When paired,
// the Relay takes the socket over.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/address.hpp"
#include "rendezvous/http_status.hpp"
#include "rendezvous/lobby.hpp"
#include "rendezvous/rdv_request.hpp"

namespace srudp::rdv {

class ServerCore;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(std::shared_ptr<ServerCore> core, boost::asio::ip::tcp::socket socket, SocketAddress peer);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void start();

  // The server's verdicts: an answer while reading or waiting (408 lobby timeout, 409 replaced,
  // 503 shutting down or full), or pairing, after which the relay owns the socket.
  void reject(rendezvous::HttpStatus status, std::string_view reason);
  void wait_in_lobby(rendezvous::LobbyTicket ticket);
  void hand_over();
  // Closes a connection still sending its request head at once, without an answer, and frees its
  // connection slot now (the server is full and a newcomer takes it).
  void evict();

  boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }
  const SocketAddress& peer() const noexcept { return peer_; }
  const rendezvous::RdvRequest& request() const noexcept { return request_; }
  const std::optional<SocketAddress>& observed() const noexcept { return observed_; }

 private:
  enum class State { reading, waiting, responding, handed_over, closed };
  struct HeaderReader;  // Beast's parser and buffer, kept out of this header

  void read_proxy_line();
  void read_header();
  void on_header(const boost::system::error_code& ec);
  void handle_request();
  void watch_lobby();
  void respond_and_close(std::string response, int status_code);
  void linger();
  void close();
  void arm_timer(Duration after, void (HttpSession::*on_expiry)());
  void on_header_timeout();
  void set_state(State next);  // every state after `reading`: also leaves the server's list of heads
  void stop_reading();         // leaves the server's list of heads being read

  std::shared_ptr<ServerCore> core_;
  boost::asio::ip::tcp::socket socket_;
  SocketAddress peer_;
  boost::asio::steady_timer timer_;
  unsigned timer_generation_ = 0;
  std::unique_ptr<HeaderReader> reader_;
  State state_ = State::reading;
  bool holds_connection_slot_ = true;
  std::uint64_t reading_id_ = 0;  // while on the server's list of heads being read
  std::optional<SocketAddress> proxy_source_;

  rendezvous::RdvRequest request_;
  std::optional<SocketAddress> observed_;
  rendezvous::LobbyTicket ticket_ = 0;
  std::string response_;
  std::size_t lingered_bytes_ = 0;
};

}  // namespace srudp::rdv
