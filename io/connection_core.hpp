// io::ConnectionCore: the state behind srudp::Connection handles. It turns one transport
// connection's events into completions of the application's waiting operations (connect, accept
// stream, open stream, receive datagram) and hands stream events to the StreamCores.
//
// Ownership: the endpoint holds every live ConnectionCore (events need somewhere to go); the
// application's handles hold a ConnectionUser, and the last ConnectionUser gone closes the
// connection. Everything here runs on the endpoint's executor.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>

#include "io/pending_operation.hpp"
#include "srudp/connection.hpp"
#include "transport/endpoint.hpp"

namespace srudp::io {

class EndpointCore;
class StreamCore;

class ConnectionCore : public std::enable_shared_from_this<ConnectionCore> {
 public:
  using ConnectOperation = PendingOperation<Connection>;
  using StreamOperation = PendingOperation<Stream>;
  using SizeOperation = PendingOperation<std::size_t>;
  enum class Role { client, server };

  ConnectionCore(std::shared_ptr<EndpointCore> endpoint, transport::ConnectionHandle handle, Role role,
                 std::string log_id);
  ConnectionCore(const ConnectionCore&) = delete;
  ConnectionCore& operator=(const ConnectionCore&) = delete;
  ~ConnectionCore();

  const boost::asio::any_io_executor& executor() const;
  bool is_open() const { return !error_; }
  const std::string& log_id() const { return log_id_; }

  // From the endpoint's loop.
  void on_event(transport::ConnectionEvent& event);
  void on_progress();  // after each drive: waiting opens retry (the peer may have raised its limit)
  void set_connect_operation(ConnectOperation op);
  void close_by_endpoint();  // the endpoint is closing: CLOSE, then fail everything
  Connection make_handle();  // an application handle (sharing the one ConnectionUser)

  // The application's calls (on the executor).
  void open_stream(StreamOperation op);
  Stream open_stream_now(boost::system::error_code& ec);
  void accept_stream(StreamOperation op);
  boost::system::error_code send_datagram(std::span<const std::uint8_t> payload);
  std::size_t max_datagram_size();
  void receive_datagram(boost::asio::mutable_buffer buffer, SizeOperation op);
  void close(std::uint64_t app_error, std::string_view reason);
  ConnectionStats stats();
  boost::asio::ip::udp::endpoint remote_endpoint();
  boost::system::error_code set_path(const boost::asio::ip::udp::endpoint& peer);
  std::optional<Key> peer_identity();
  void on_user_gone();  // the last application handle was dropped: close, after a linger

  // For streams.
  transport::Connection* transport();  // nullptr once the connection is over
  std::error_code error() const { return error_; }
  void request_drive();  // send what the application's call queued
  void forget_stream(std::uint64_t id);

 private:
  struct DatagramWaiter {
    boost::asio::mutable_buffer buffer;
    SizeOperation op;
  };

  void fail(std::error_code ec);
  std::shared_ptr<ConnectionUser> user();
  std::shared_ptr<StreamCore> add_stream(std::uint64_t id);
  Stream make_stream(const std::shared_ptr<StreamCore>& stream);
  std::error_code try_open(std::shared_ptr<StreamCore>& out);
  void deliver_incoming_streams();
  void deliver_datagrams();

  std::shared_ptr<EndpointCore> endpoint_;  // reset once the connection is over
  boost::asio::any_io_executor executor_;
  transport::ConnectionHandle handle_;
  Role role_;
  std::string log_id_;
  bool established_ = false;
  std::error_code error_;  // why the connection is over (empty while it is open)
  ConnectOperation connect_op_;
  std::weak_ptr<ConnectionUser> user_;

  std::unordered_map<std::uint64_t, std::shared_ptr<StreamCore>> streams_;
  std::deque<std::shared_ptr<StreamCore>> incoming_streams_;  // opened by the peer, not yet accepted
  WaitQueue<StreamOperation> accept_stream_waiters_;
  WaitQueue<StreamOperation> open_stream_waiters_;
  std::deque<std::vector<std::uint8_t>> datagrams_;  // received, not yet taken
  WaitQueue<DatagramWaiter> datagram_waiters_;

  // Every handle is gone but written stream data is not acknowledged yet: the connection closes
  // once it is (checked in on_progress) or when the linger timer expires, like TCP's close().
  void finish_linger();
  bool lingering_ = false;
  std::optional<boost::asio::steady_timer> linger_timer_;
};

// What an application handle (Connection, Stream) holds on to: the connection stays open while
// one of these exists.
class ConnectionUser {
 public:
  explicit ConnectionUser(std::shared_ptr<ConnectionCore> core) : core_(std::move(core)) {}
  ~ConnectionUser();
  ConnectionUser(const ConnectionUser&) = delete;
  ConnectionUser& operator=(const ConnectionUser&) = delete;
  ConnectionCore& core() const { return *core_; }

 private:
  std::shared_ptr<ConnectionCore> core_;
};

}  // namespace srudp::io
