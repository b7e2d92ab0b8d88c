// srudp::Stream: one reliable, ordered byte stream of a connection. It models Asio's
// AsyncReadStream and AsyncWriteStream, so asio::async_read/async_write and Boost.Beast
// (websocket::stream<srudp::Stream>, http::async_read ...) work on it unchanged.
//
// Completion tokens: every async operation takes one last (callbacks, use_future, use_awaitable,
// deferred ...). Reads complete with boost::asio::error::eof once the peer's FIN has been read, with
// srudp::errc::stream_reset when the peer reset the stream, and with the connection's error when
// it closes. Cancelling a pending read or write through its cancellation slot completes it with
// operation_aborted and consumes or sends nothing (any cancellation type).
//
// Thread safety: a Stream is a handle, not thread-safe. Async operations may be started from any
// thread (they hop to the endpoint's executor); the synchronous members must run on that executor
// (inside a handler), or while nothing runs it. One pending read and one pending write at a time.
// Dropping (destroying) an open Stream closes it, as close() does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

namespace srudp {

namespace io {  // the implementation (io/)
class EndpointCore;
class ConnectionCore;
class ConnectionUser;
class StreamCore;
}  // namespace io

namespace detail {

// The buffers of one operation, copied out of the caller's sequence so the non-template
// implementation can take them. Empty buffers are skipped; a longer sequence is served in part
// (read_some and write_some may transfer less than asked).
template <class Buffer>
struct BufferList {
  static constexpr std::size_t kMaxBuffers = 16;
  std::array<Buffer, kMaxBuffers> items{};
  std::size_t count = 0;

  std::span<const Buffer> span() const { return {items.data(), count}; }
};

template <class Buffer, class Sequence>
BufferList<Buffer> collect_buffers(const Sequence& sequence) {
  BufferList<Buffer> list;
  const auto end = boost::asio::buffer_sequence_end(sequence);
  for (auto it = boost::asio::buffer_sequence_begin(sequence); it != end && list.count < list.kMaxBuffers; ++it) {
    Buffer b(*it);
    if (b.size() > 0) list.items[list.count++] = b;
  }
  return list;
}

}  // namespace detail

class Stream {
 public:
  using executor_type = boost::asio::any_io_executor;
  using IoHandler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

  Stream() noexcept;  // an empty handle: operations fail with bad_descriptor
  ~Stream();
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  executor_type get_executor() const noexcept;
  bool is_open() const noexcept;
  std::uint64_t id() const noexcept;  // the stream id (bit 0: who opened it)

  // Reads at least one byte, or completes with eof / an error. (error_code, bytes_read)
  template <class MutableBufferSequence,
            class ReadToken = boost::asio::default_completion_token_t<executor_type>>
  auto async_read_some(const MutableBufferSequence& buffers,
                       ReadToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<ReadToken, void(boost::system::error_code, std::size_t)>(
        [core = core_](auto handler, const detail::BufferList<boost::asio::mutable_buffer>& list) {
          start_read(core, list, IoHandler(std::move(handler)));
        },
        token, detail::collect_buffers<boost::asio::mutable_buffer>(buffers));
  }

  // Copies at least one byte into the stream's send buffer (waiting for room: flow control and
  // congestion control push back here). (error_code, bytes_written)
  template <class ConstBufferSequence,
            class WriteToken = boost::asio::default_completion_token_t<executor_type>>
  auto async_write_some(const ConstBufferSequence& buffers,
                        WriteToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
    return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
        [core = core_](auto handler, const detail::BufferList<boost::asio::const_buffer>& list) {
          start_write(core, list, IoHandler(std::move(handler)));
        },
        token, detail::collect_buffers<boost::asio::const_buffer>(buffers));
  }

  // Half-close: FIN after the bytes written so far; reading goes on.
  boost::system::error_code shutdown_send();
  // Abandons sending (RESET_STREAM with `app_error`): unsent and unacknowledged bytes are dropped.
  boost::system::error_code reset(std::uint64_t app_error = 0);
  // Asks the peer to stop sending (STOP_SENDING with `app_error`); its next write fails.
  boost::system::error_code stop_sending(std::uint64_t app_error = 0);
  // Scheduling urgency 0 (first) .. 7 (last); 3 by default. Equal urgencies share round robin.
  boost::system::error_code set_priority(int urgency);
  // Done with the stream: FIN if not sent yet, STOP_SENDING if the peer's data is not all read,
  // pending operations complete with operation_aborted. The handle stays, closed.
  void close();

 private:
  friend class io::ConnectionCore;
  Stream(std::shared_ptr<io::StreamCore> core, std::shared_ptr<io::ConnectionUser> connection) noexcept;

  static void start_read(const std::shared_ptr<io::StreamCore>& core,
                         const detail::BufferList<boost::asio::mutable_buffer>& buffers, IoHandler handler);
  static void start_write(const std::shared_ptr<io::StreamCore>& core,
                          const detail::BufferList<boost::asio::const_buffer>& buffers, IoHandler handler);

  std::shared_ptr<io::StreamCore> core_;
  std::shared_ptr<io::ConnectionUser> connection_;  // keeps the connection open while we are
};

}  // namespace srudp
