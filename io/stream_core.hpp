// io::StreamCore: the state behind one srudp::Stream: its pending read and write, turned into
// transport stream_read / stream_write calls when the connection says the stream is readable or
// writable. Everything here runs on the endpoint's executor.
//
// A stream the application closed (or dropped) stays here until its input is over, reading and
// discarding what still arrives, so the transport can retire it and give the peer its stream
// credit back.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "io/pending_operation.hpp"
#include "srudp/stream.hpp"

namespace srudp::transport {
class Connection;
}  // namespace srudp::transport

namespace srudp::io {

class ConnectionCore;

class StreamCore : public std::enable_shared_from_this<StreamCore> {
 public:
  using IoOperation = PendingOperation<std::size_t>;

  StreamCore(std::shared_ptr<ConnectionCore> connection, std::uint64_t id);
  StreamCore(const StreamCore&) = delete;
  StreamCore& operator=(const StreamCore&) = delete;

  std::uint64_t id() const { return id_; }
  const boost::asio::any_io_executor& executor() const;
  bool is_open() const { return !closed_; }

  // From the connection's events.
  void on_readable();
  void on_writable();
  void on_connection_closed(std::error_code ec);
  // The peer closed the connection gracefully: what was received and not read yet is taken out
  // of the transport (which forgets it soon) and read from here, then the stream's end (if the
  // peer finished it) or the connection's error. Bounded by the stream's receive window.
  void salvage_input(transport::Connection& connection);

  // The application's calls (on the executor).
  void read(const detail::BufferList<boost::asio::mutable_buffer>& buffers, IoOperation op);
  void write(const detail::BufferList<boost::asio::const_buffer>& buffers, IoOperation op);
  boost::system::error_code shutdown_send();
  boost::system::error_code reset(std::uint64_t app_error);
  boost::system::error_code stop_sending(std::uint64_t app_error);
  boost::system::error_code set_priority(int urgency);
  void close();

 private:
  void try_read();
  void read_leftover();  // after the connection is over: from what salvage_input kept
  void try_write();
  void discard_input();
  bool input_over();  // FIN read or reset: the connection may forget us once closed_
  boost::system::error_code closed_error() const;

  std::shared_ptr<ConnectionCore> connection_;
  std::uint64_t id_;
  IoOperation read_op_;
  detail::BufferList<boost::asio::mutable_buffer> read_buffers_;
  IoOperation write_op_;
  detail::BufferList<boost::asio::const_buffer> write_buffers_;
  bool closed_ = false;  // by the application
  boost::system::error_code input_error_;       // eof or reset, once reported
  boost::system::error_code connection_error_;  // the connection is over
  std::vector<std::uint8_t> leftover_;          // salvaged input, read from leftover_read_ on
  std::size_t leftover_read_ = 0;
  bool leftover_end_ = false;                   // the salvaged input ends the stream (FIN)
};

}  // namespace srudp::io
