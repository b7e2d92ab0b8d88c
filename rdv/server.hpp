// The rdv rendezvous server: rdv/1 over HTTP/1.1 (lobby, 101 with candidate addresses, relay
// after CONTINUE), STUN Binding on UDP, /metrics. Runs on the caller's io_context, on a strand,
// so any number of threads may run that context.
//
//   boost::asio::io_context io;
//   srudp::rdv::Server server(io.get_executor(), config);  // binds, or throws system_error
//   ... server.stop();                                     // from anywhere: graceful
//   io.run();  // returns once the lobby is answered 503 and the relays have drained
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "rdv/server_config.hpp"

namespace srudp::rdv {

class ServerCore;

class Server {
 public:
  Server(const boost::asio::any_io_executor& executor, ServerConfig config);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  boost::asio::ip::tcp::endpoint http_endpoint() const;
  std::vector<boost::asio::ip::udp::endpoint> stun_endpoints() const;

  // Graceful shutdown, callable from any thread: stop accepting, close the STUN ports, answer
  // everyone waiting or still sending a request 503, let relays run until they end or the drain
  // timeout closes them. The io_context then runs out of work.
  void stop();
  // Called once, on the server's strand, when a stop() has finished draining.
  void on_stopped(std::function<void()> callback);

 private:
  std::shared_ptr<ServerCore> core_;
  boost::asio::ip::tcp::endpoint http_endpoint_;
  std::vector<boost::asio::ip::udp::endpoint> stun_endpoints_;
};

}  // namespace srudp::rdv
