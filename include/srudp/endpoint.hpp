// srudp::Endpoint: one UDP socket (IPv4, IPv6, or dual-stack `::`) carrying any number of srudp
// connections, driven on the caller's executor.
//
//   boost::asio::io_context io;
//   srudp::Endpoint endpoint(io, {boost::asio::ip::udp::v6(), 0});   // client
//   auto connection = co_await endpoint.async_connect(peer, options, boost::asio::use_awaitable);
//
// A server passes EndpointOptions{.accept_incoming = true, .server = options} and calls
// async_accept. Connections are handed out once their handshake is complete and keys are
// confirmed both ways.
//
// Thread safety: everything runs on the endpoint's executor. With one thread running the
// io_context nothing more is needed; with a thread pool, give the endpoint a strand. Handles
// (Endpoint, Connection, Stream) are not thread-safe; async operations may be started from any
// thread, synchronous members must run on the executor. Logs go to the spdlog logger "srudp"
// (created at level warn unless the application registered its own).
#pragma once

#include <memory>
#include <type_traits>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>

#include "srudp/connection.hpp"
#include "srudp/options.hpp"

namespace srudp {

class Endpoint {
 public:
  using executor_type = boost::asio::any_io_executor;
  using ConnectionHandler = boost::asio::any_completion_handler<void(boost::system::error_code, Connection)>;

  // Binds the socket to `local` (port 0 picks one). Throws boost::system::system_error when the
  // socket cannot be opened or the options are unusable; the error_code form reports instead.
  Endpoint(const executor_type& executor, const boost::asio::ip::udp::endpoint& local, EndpointOptions options = {});
  Endpoint(const executor_type& executor, const boost::asio::ip::udp::endpoint& local, EndpointOptions options,
           boost::system::error_code& ec);
  template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  Endpoint(ExecutionContext& context, const boost::asio::ip::udp::endpoint& local, EndpointOptions options = {})
      : Endpoint(executor_type(context.get_executor()), local, std::move(options)) {}

  ~Endpoint();  // close()
  Endpoint(Endpoint&& other) noexcept;
  Endpoint& operator=(Endpoint&& other) noexcept;
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  executor_type get_executor() const noexcept;
  boost::asio::ip::udp::endpoint local_endpoint() const;
  bool is_open() const noexcept;

  // Connects to `peer` (an IPv4 peer from a dual-stack endpoint is fine). Completes once the
  // connection is established, or with the handshake's error (errc::handshake_timeout when nobody
  // answers or keys differ, errc::peer_key_mismatch ...). (error_code, Connection)
  template <class Token = boost::asio::default_completion_token_t<executor_type>>
  auto async_connect(const boost::asio::ip::udp::endpoint& peer, ConnectionOptions options,
                     Token&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, Connection)>(
        [core = core_](auto handler, const boost::asio::ip::udp::endpoint& to, ConnectionOptions opts) {
          start_connect(core, to, std::move(opts), ConnectionHandler(std::move(handler)));
        },
        token, peer, std::move(options));
  }

  // The next established incoming connection (server role only). (error_code, Connection)
  template <class Token = boost::asio::default_completion_token_t<executor_type>>
  auto async_accept(Token&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, Connection)>(
        [core = core_](auto handler) { start_accept(core, ConnectionHandler(std::move(handler))); }, token);
  }

  // Graceful: every connection sends CLOSE, pending operations complete with
  // errc::connection_closed (accepts with operation_aborted), then the socket closes.
  void close();

  // Testing how an application copes with loss: from now on each UDP datagram this endpoint
  // sends is dropped with probability `fraction` (0 .. 1; 0 turns it off), as a lossy network
  // would (GameNetworkingSockets' FakePacketLoss_Send). Run on the executor.
  void set_simulated_loss(double fraction);

  // Internal, for srudp's rdv client (which adds the relay path): the driver behind the handle.
  const std::shared_ptr<io::EndpointCore>& core() const noexcept { return core_; }

 private:
  static void start_connect(const std::shared_ptr<io::EndpointCore>& core, const boost::asio::ip::udp::endpoint& peer,
                            ConnectionOptions options, ConnectionHandler handler);
  static void start_accept(const std::shared_ptr<io::EndpointCore>& core, ConnectionHandler handler);

  std::shared_ptr<io::EndpointCore> core_;
};

}  // namespace srudp
