#include "io/stream_core.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <boost/asio/error.hpp>

#include "io/connection_core.hpp"

namespace srudp::io {
namespace {

std::span<std::uint8_t> bytes(const boost::asio::mutable_buffer& b) {
  return {static_cast<std::uint8_t*>(b.data()), b.size()};
}
std::span<const std::uint8_t> bytes(const boost::asio::const_buffer& b) {
  return {static_cast<const std::uint8_t*>(b.data()), b.size()};
}

}  // namespace

StreamCore::StreamCore(std::shared_ptr<ConnectionCore> connection, std::uint64_t id)
    : connection_(std::move(connection)), id_(id) {}

const boost::asio::any_io_executor& StreamCore::executor() const { return connection_->executor(); }

boost::system::error_code StreamCore::closed_error() const {
  if (connection_error_) return connection_error_;
  if (auto ec = connection_->error()) return ec;
  return make_error_code(errc::connection_closed);
}

// ---- reading -------------------------------------------------------------------------------------

void StreamCore::read(const detail::BufferList<boost::asio::mutable_buffer>& buffers, IoOperation op) {
  if (closed_) return op.complete(boost::asio::error::bad_descriptor, 0);
  if (read_op_) return op.complete(boost::asio::error::already_started, 0);
  if (buffers.count == 0) return op.complete({}, 0);
  read_buffers_ = buffers;
  read_op_ = std::move(op);
  read_op_.on_cancel([weak = weak_from_this()](boost::asio::cancellation_type) {
    // Nothing was consumed: whatever the cancellation type, the read simply did not happen.
    if (auto self = weak.lock()) self->read_op_.complete(boost::asio::error::operation_aborted, 0);
  });
  try_read();
}

void StreamCore::try_read() {
  if (!read_op_) return;
  if (input_error_) return read_op_.complete(input_error_, 0);
  auto* connection = connection_->transport();
  if (connection == nullptr) return read_leftover();
  std::size_t total = 0;
  std::error_code error;
  for (const auto& b : read_buffers_.span()) {
    auto n = connection->stream_read(id_, bytes(b));
    if (!n) {
      error = n.error();
      break;
    }
    total += *n;
    if (*n < b.size()) break;
  }
  if (total > 0) {
    read_op_.complete({}, total);
    connection_->request_drive();  // reading may have opened the window: MAX_STREAM_DATA
    return;
  }
  if (error) {
    // Sticky: the core forgets a reset stream once it has said so.
    input_error_ = error;
    return read_op_.complete(input_error_, 0);
  }
  if (connection->stream_at_end(id_)) {
    input_error_ = boost::asio::error::eof;
    return read_op_.complete(input_error_, 0);
  }
  // Nothing yet: stream_readable will call again.
}

void StreamCore::read_leftover() {
  std::size_t total = 0;
  for (const auto& b : read_buffers_.span()) {
    const std::size_t n = std::min(b.size(), leftover_.size() - leftover_read_);
    if (n > 0) std::memcpy(b.data(), leftover_.data() + leftover_read_, n);
    leftover_read_ += n;
    total += n;
    if (n < b.size()) break;
  }
  if (total > 0) return read_op_.complete({}, total);
  if (leftover_end_) {
    input_error_ = boost::asio::error::eof;
    return read_op_.complete(input_error_, 0);
  }
  read_op_.complete(closed_error(), 0);
}

void StreamCore::salvage_input(transport::Connection& connection) {
  if (closed_ || input_error_) return;
  std::array<std::uint8_t, 16384> chunk;
  for (;;) {
    auto n = connection.stream_read(id_, chunk);
    if (!n || *n == 0) break;
    leftover_.insert(leftover_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  leftover_end_ = connection.stream_at_end(id_);
}

void StreamCore::on_readable() {
  if (read_op_) {
    try_read();
  } else if (closed_) {
    discard_input();
  }
}

void StreamCore::discard_input() {
  auto self = shared_from_this();  // forget_stream may drop the connection's reference
  auto* connection = connection_->transport();
  if (connection == nullptr) return;
  std::array<std::uint8_t, 16384> sink;
  for (;;) {
    auto n = connection->stream_read(id_, sink);
    if (!n || *n == 0) break;
  }
  connection_->request_drive();
  if (input_over()) connection_->forget_stream(id_);
}

bool StreamCore::input_over() {
  if (input_error_) return true;
  auto* connection = connection_->transport();
  if (connection == nullptr) return true;
  if (connection->stream_at_end(id_)) return true;
  std::array<std::uint8_t, 1> probe;  // empty reads report a reset without consuming anything
  auto n = connection->stream_read(id_, std::span(probe).first(0));
  return !n;
}

// ---- writing -------------------------------------------------------------------------------------

void StreamCore::write(const detail::BufferList<boost::asio::const_buffer>& buffers, IoOperation op) {
  if (closed_) return op.complete(boost::asio::error::bad_descriptor, 0);
  if (write_op_) return op.complete(boost::asio::error::already_started, 0);
  if (buffers.count == 0) return op.complete({}, 0);
  write_buffers_ = buffers;
  write_op_ = std::move(op);
  write_op_.on_cancel([weak = weak_from_this()](boost::asio::cancellation_type) {
    // A write waits only while nothing of it was taken: cancelling leaves the stream unchanged.
    if (auto self = weak.lock()) self->write_op_.complete(boost::asio::error::operation_aborted, 0);
  });
  try_write();
}

void StreamCore::try_write() {
  if (!write_op_) return;
  auto* connection = connection_->transport();
  if (connection == nullptr) return write_op_.complete(closed_error(), 0);
  std::size_t total = 0;
  std::error_code error;
  for (const auto& b : write_buffers_.span()) {
    auto n = connection->stream_write(id_, bytes(b));
    if (!n) {
      error = n.error();
      break;
    }
    total += *n;
    if (*n < b.size()) break;
  }
  if (total > 0) {
    write_op_.complete({}, total);
    connection_->request_drive();
    return;
  }
  if (error) return write_op_.complete(error, 0);
  // The send buffer is full: stream_writable will call again.
}

void StreamCore::on_writable() { try_write(); }

// ---- control -------------------------------------------------------------------------------------

void StreamCore::on_connection_closed(std::error_code ec) {
  connection_error_ = ec;
  if (read_op_) read_leftover();  // what was salvaged first, then the error
  write_op_.complete(ec, 0);
}

boost::system::error_code StreamCore::shutdown_send() {
  if (closed_) return boost::asio::error::bad_descriptor;
  auto* connection = connection_->transport();
  if (connection == nullptr) return closed_error();
  if (auto ec = connection->stream_finish(id_)) return ec;
  connection_->request_drive();
  return {};
}

boost::system::error_code StreamCore::reset(std::uint64_t app_error) {
  if (closed_) return boost::asio::error::bad_descriptor;
  auto* connection = connection_->transport();
  if (connection == nullptr) return closed_error();
  if (auto ec = connection->stream_reset(id_, app_error)) return ec;
  write_op_.complete(errc::stream_stopped, 0);  // nothing more will be sent
  connection_->request_drive();
  return {};
}

boost::system::error_code StreamCore::stop_sending(std::uint64_t app_error) {
  if (closed_) return boost::asio::error::bad_descriptor;
  auto* connection = connection_->transport();
  if (connection == nullptr) return closed_error();
  if (auto ec = connection->stream_stop_sending(id_, app_error)) return ec;
  try_read();  // a waiting read ends now (stream_stopped)
  connection_->request_drive();
  return {};
}

boost::system::error_code StreamCore::set_priority(int urgency) {
  if (closed_) return boost::asio::error::bad_descriptor;
  if (urgency < 0 || urgency > 7) return errc::invalid_argument;
  auto* connection = connection_->transport();
  if (connection == nullptr) return closed_error();
  return connection->set_stream_priority(id_, static_cast<std::uint8_t>(urgency));
}

void StreamCore::close() {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();
  read_op_.complete(boost::asio::error::operation_aborted, 0);
  write_op_.complete(boost::asio::error::operation_aborted, 0);
  if (connection_->transport() == nullptr) {
    connection_->forget_stream(id_);
    return;
  }
  auto* connection = connection_->transport();
  connection->stream_finish(id_);  // what was written still arrives
  // Unread input is not wanted: the peer stops sending, what is buffered is discarded, and the
  // stream can retire (its credit goes back to the peer).
  if (!input_over()) connection->stream_stop_sending(id_, 0);
  discard_input();  // forgets us once the input is over
}

}  // namespace srudp::io
