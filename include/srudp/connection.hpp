// srudp::Connection: one encrypted, reliable, multiplexed connection to a peer (from
// Endpoint::async_connect or Endpoint::async_accept). A cheap handle: copies share the connection.
//
// It carries any number of streams (srudp::Stream, opened by either side, up to the peer's limit)
// and unreliable datagrams. When the connection closes (close() on either side, idle timeout,
// endpoint closed), every pending operation completes with its error: errc::connection_closed for
// a normal close, errc::connection_timed_out, or the protocol error.
//
// Ownership: the connection stays open while a Connection or Stream handle to it exists; dropping
// the last one closes it gracefully, as TCP's close() does: data already written (and FINs) is
// still delivered, CLOSE (error 0) follows once the peer has acknowledged it (at most 30 s later),
// and the peer can still read all of it after the close. close() and Endpoint::close() are
// immediate: what is still queued here is dropped (the peer keeps what it received, for an
// error code of 0).
// Thread safety: as for Stream. Async operations may be started from any thread; synchronous
// members run on the endpoint's executor (inside a handler), or while nothing runs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>

#include "srudp/options.hpp"
#include "srudp/stats.hpp"
#include "srudp/stream.hpp"

namespace srudp {

class Connection {
 public:
  using executor_type = boost::asio::any_io_executor;
  using StreamHandler = boost::asio::any_completion_handler<void(boost::system::error_code, Stream)>;
  using SizeHandler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

  Connection() noexcept;  // an empty handle: operations fail with bad_descriptor

  executor_type get_executor() const noexcept;
  bool is_open() const noexcept;

  // Opens a stream, waiting for the peer's stream limit to allow one. (error_code, Stream)
  template <class Token = boost::asio::default_completion_token_t<executor_type>>
  auto async_open_stream(Token&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, Stream)>(
        [user = user_](auto handler) { start_open_stream(user, StreamHandler(std::move(handler))); }, token);
  }
  // Opens a stream now, or fails with errc::stream_limit_reached (or the connection's error).
  Stream open_stream(boost::system::error_code& ec);

  // The next stream the peer opened. (error_code, Stream)
  template <class Token = boost::asio::default_completion_token_t<executor_type>>
  auto async_accept_stream(Token&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, Stream)>(
        [user = user_](auto handler) { start_accept_stream(user, StreamHandler(std::move(handler))); }, token);
  }

  // Queues an unreliable datagram. Larger than max_datagram_size(): boost::asio::error::message_size.
  // When the path is congested datagrams are dropped (oldest first), which is not an error.
  boost::system::error_code send_datagram(boost::asio::const_buffer payload);
  std::size_t max_datagram_size() const;

  // The next datagram from the peer, copied into `buffer`. (error_code, size). A datagram longer
  // than the buffer is truncated and completes with boost::asio::error::message_size.
  template <class Token = boost::asio::default_completion_token_t<executor_type>>
  auto async_receive_datagram(boost::asio::mutable_buffer buffer,
                              Token&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [user = user_](auto handler, boost::asio::mutable_buffer b) {
          start_receive_datagram(user, b, SizeHandler(std::move(handler)));
        },
        token, buffer);
  }

  // Closes the connection: CLOSE with `app_error` and `reason` to the peer (whose pending
  // operations then fail), pending operations here complete with errc::connection_closed.
  void close(std::uint64_t app_error = 0, std::string_view reason = {});

  ConnectionStats stats() const;
  boost::asio::ip::udp::endpoint remote_endpoint() const;  // the peer's current address
  // Sends to `peer` from now on: an address you proved reaches the peer both ways (srudp's rdv
  // client does this after hole punching). The connection then stops following the peer's
  // address changes by itself; the peer follows ours. Error connection_closed when it is over.
  boost::system::error_code set_path(const boost::asio::ip::udp::endpoint& peer);
  std::optional<Key> peer_identity() const;                // its public key, with identity keys
  std::string id() const;                                  // our connection id in hex (as in logs)

  friend bool operator==(const Connection& a, const Connection& b) noexcept { return a.user_ == b.user_; }

  // A reference that does not keep the connection open (an observer's): lock() is the
  // connection while some Connection or Stream handle keeps it open, an empty handle after.
  class Weak {
   public:
    Connection lock() const { return Connection(user_.lock()); }

   private:
    friend class Connection;
    std::weak_ptr<io::ConnectionUser> user_;
  };
  Weak weak() const noexcept {
    Weak w;
    w.user_ = user_;
    return w;
  }

 private:
  friend class io::ConnectionCore;
  explicit Connection(std::shared_ptr<io::ConnectionUser> user) noexcept;

  static void start_open_stream(const std::shared_ptr<io::ConnectionUser>& user, StreamHandler handler);
  static void start_accept_stream(const std::shared_ptr<io::ConnectionUser>& user, StreamHandler handler);
  static void start_receive_datagram(const std::shared_ptr<io::ConnectionUser>& user,
                                     boost::asio::mutable_buffer buffer, SizeHandler handler);

  std::shared_ptr<io::ConnectionUser> user_;
};

}  // namespace srudp
