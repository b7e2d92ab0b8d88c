// A paired dialer and acceptor after the lobby: both get their 101 (dialer first), then the
// dialer's one line decides. CONTINUE: forwarded to the acceptor, then bytes are copied both ways
// through bounded buffers at a bounded rate until both sides have closed or the relay idles out.
// OTHER: the peers went direct; counted, both closed. Anything else: a protocol error, closed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "rendezvous/token_bucket.hpp"

namespace srudp::rdv {

class ServerCore;
class HttpSession;

class Relay : public std::enable_shared_from_this<Relay> {
 public:
  Relay(std::shared_ptr<ServerCore> core, std::shared_ptr<HttpSession> dialer,
        std::shared_ptr<HttpSession> acceptor);
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  void start();
  void close();  // at once (the drain deadline after stop())

 private:
  struct Direction {
    Direction(boost::asio::ip::tcp::socket& from_socket, boost::asio::ip::tcp::socket& to_socket,
              std::size_t buffer_bytes, rendezvous::RateLimit rate, const boost::asio::any_io_executor& ex);
    boost::asio::ip::tcp::socket& from;
    boost::asio::ip::tcp::socket& to;
    std::vector<std::uint8_t> buffer;
    rendezvous::TokenBucket bucket;
    boost::asio::steady_timer pace;
    bool finished = false;
  };

  void write_response(bool to_dialer);  // the dialer's first, then the acceptor's
  void read_command();
  void on_command();
  void pump(Direction& d);
  void forward(Direction& d, std::size_t n);
  void finish(Direction& d);
  void arm_idle_timer();
  void touch();

  std::shared_ptr<ServerCore> core_;
  std::shared_ptr<HttpSession> dialer_;
  std::shared_ptr<HttpSession> acceptor_;
  std::string dialer_response_;
  std::string acceptor_response_;
  std::string command_;  // what the dialer sent before and with its command line
  std::string first_forward_;  // CONTINUE plus any bytes after it
  Direction to_acceptor_;
  Direction to_dialer_;
  boost::asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  bool closed_ = false;
};

}  // namespace srudp::rdv
