// Length-prefixed messages over any Asio byte stream: srudp::Stream, a TCP socket, an SSL stream,
// Beast's test stream. Each message goes out as its length (a QUIC-style varint, minimal encoding)
// followed by its bytes; stream/message_codec.hpp is the same framing for sans-IO code.
//
//   co_await srudp::async_write_message(stream, boost::asio::buffer(text), use_awaitable);
//   std::vector<std::uint8_t> message;
//   co_await srudp::async_read_message(stream, message, 64 * 1024, use_awaitable);
//
// Completion signature of both: void(boost::system::error_code, std::size_t message_size).
// Errors from reading, besides the stream's own:
//   boost::asio::error::eof     the stream ended cleanly between two messages
//   srudp::errc::truncated      the stream ended inside a message
//   srudp::errc::value_out_of_range   the announced length is above max_size; nothing of the
//                                     payload is read, and the stream has lost its framing
//   srudp::errc::non_minimal_varint   a malformed length prefix
// The reader never reserves the announced length: it grows its buffer as bytes arrive (doubling,
// from 64 KiB), so a peer announcing a huge message and sending little costs little.
// Like asio::async_read/async_write, one operation of each kind at a time per stream: the stream
// is owned by the operation until it completes.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include "srudp/error.hpp"
#include "stream/message_codec.hpp"

namespace srudp {
namespace message_detail {

template <class AsyncWriteStream>
class WriteMessageOp {
 public:
  WriteMessageOp(AsyncWriteStream& stream, boost::asio::const_buffer payload)
      : stream_(stream), payload_(payload) {}

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t written = 0) {
    switch (state_) {
      case State::start: {
        state_ = State::writing;
        auto prefix = stream::encode_message_prefix(payload_.size());
        if (!prefix) {
          // Complete through the executor: never from inside the initiating call.
          state_ = State::failed;
          boost::asio::post(stream_.get_executor(),
                            boost::asio::append(std::move(self),
                                                boost::system::error_code(prefix.error()),
                                                std::size_t{0}));
          return;
        }
        // The prefix needs an address that survives the moves of this operation object.
        prefix_ = std::make_unique<stream::MessagePrefix>(*prefix);
        const std::array<boost::asio::const_buffer, 2> buffers{
            boost::asio::buffer(prefix_->bytes.data(), prefix_->size), payload_};
        boost::asio::async_write(stream_, buffers, std::move(self));
        return;
      }
      case State::writing: {
        const std::size_t prefix_size = prefix_->size;
        prefix_.reset();
        self.complete(ec, written > prefix_size ? written - prefix_size : 0);
        return;
      }
      case State::failed:
        self.complete(ec, 0);
        return;
    }
  }

 private:
  enum class State { start, writing, failed };
  AsyncWriteStream& stream_;
  boost::asio::const_buffer payload_;
  std::unique_ptr<stream::MessagePrefix> prefix_;
  State state_ = State::start;
};

// Reads straight into the dynamic buffer: first the prefix (one byte, which gives the prefix
// length, then the rest), which is then taken off again, then the payload in growing steps.
template <class AsyncReadStream, class DynamicBuffer>
class ReadMessageOp {
 public:
  ReadMessageOp(AsyncReadStream& stream, DynamicBuffer buffer, std::size_t max_size)
      : stream_(stream), buffer_(std::move(buffer)), max_size_(max_size), start_(buffer_.size()) {}

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t read = 0) {
    switch (state_) {
      case State::start:
        if (buffer_.max_size() - start_ < 1) {
          // Complete through the executor: never from inside the initiating call.
          state_ = State::failed;
          boost::asio::post(stream_.get_executor(),
                            boost::asio::append(std::move(self), error(errc::value_out_of_range),
                                                std::size_t{0}));
          return;
        }
        state_ = State::prefix_first;
        buffer_.grow(1);
        boost::asio::async_read(stream_, buffer_.data(start_, 1), std::move(self));
        return;
      case State::failed:
        self.complete(ec, 0);
        return;
      case State::prefix_first:
        if (ec) return fail(self, ec);  // eof here is the clean end between messages
        prefix_size_ = stream::message_prefix_size(first_byte());
        if (prefix_size_ > 1) {
          if (buffer_.max_size() - buffer_.size() < prefix_size_ - 1) {
            return fail(self, error(errc::value_out_of_range));
          }
          state_ = State::prefix_rest;
          buffer_.grow(prefix_size_ - 1);
          boost::asio::async_read(stream_, buffer_.data(start_ + 1, prefix_size_ - 1),
                                  std::move(self));
          return;
        }
        return on_prefix(self);
      case State::prefix_rest:
        if (ec) return fail(self, truncated_if_eof(ec));
        return on_prefix(self);
      case State::payload:
        if (ec) return fail(self, truncated_if_eof(ec));
        received_ += read;
        if (received_ == length_) return self.complete({}, length_);
        return read_payload(self);
    }
  }

 private:
  enum class State { start, failed, prefix_first, prefix_rest, payload };
  // The first step of a payload, and the most each step adds beyond what already arrived.
  static constexpr std::size_t kFirstStep = 64 * 1024;

  static boost::system::error_code error(errc e) {
    return boost::system::error_code(make_error_code(e));
  }
  static boost::system::error_code truncated_if_eof(const boost::system::error_code& ec) {
    return ec == boost::asio::error::eof ? error(errc::truncated) : ec;
  }

  std::uint8_t first_byte() {
    std::uint8_t byte = 0;
    boost::asio::buffer_copy(boost::asio::buffer(&byte, 1), buffer_.data(start_, 1));
    return byte;
  }

  template <class Self>
  void on_prefix(Self& self) {
    std::array<std::uint8_t, wire::varint::kMaxSize> prefix{};
    boost::asio::buffer_copy(boost::asio::buffer(prefix.data(), prefix_size_),
                             buffer_.data(start_, prefix_size_));
    buffer_.shrink(prefix_size_);
    auto length = stream::decode_message_length(std::span(prefix).first(prefix_size_), max_size_);
    if (!length) return fail(self, boost::system::error_code(length.error()));
    if (*length > buffer_.max_size() - start_) return fail(self, error(errc::value_out_of_range));
    length_ = static_cast<std::size_t>(*length);
    if (length_ == 0) return self.complete({}, 0);
    read_payload(self);
  }

  template <class Self>
  void read_payload(Self& self) {
    const std::size_t step = std::min(length_ - received_, std::max(kFirstStep, received_));
    state_ = State::payload;
    buffer_.grow(step);
    boost::asio::async_read(stream_, buffer_.data(start_ + received_, step), std::move(self));
  }

  // Leaves the buffer as it was before the operation.
  template <class Self>
  void fail(Self& self, boost::system::error_code ec) {
    buffer_.shrink(buffer_.size() - start_);
    self.complete(ec, 0);
  }

  AsyncReadStream& stream_;
  DynamicBuffer buffer_;
  std::size_t max_size_;
  std::size_t start_;             // size of the buffer before this message
  std::size_t prefix_size_ = 0;
  std::size_t length_ = 0;        // the payload length, once the prefix is in
  std::size_t received_ = 0;      // payload bytes read so far
  State state_ = State::start;
};

}  // namespace message_detail

// Writes one message: prefix and payload in one gathered write. Completes with the payload size.
template <class AsyncWriteStream,
          class CompletionToken =
              boost::asio::default_completion_token_t<typename AsyncWriteStream::executor_type>>
auto async_write_message(AsyncWriteStream& stream, boost::asio::const_buffer payload,
                         CompletionToken&& token = CompletionToken()) {
  return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, std::size_t)>(
      message_detail::WriteMessageOp<AsyncWriteStream>(stream, payload), token, stream);
}

// Reads one message and appends it to `buffer` (a DynamicBuffer_v2, e.g.
// boost::asio::dynamic_buffer(my_string)). Completes with the message size. On error the buffer
// holds what it held before.
template <class AsyncReadStream, class DynamicBuffer,
          class CompletionToken =
              boost::asio::default_completion_token_t<typename AsyncReadStream::executor_type>>
  requires boost::asio::is_dynamic_buffer_v2<DynamicBuffer>::value
auto async_read_message(AsyncReadStream& stream, DynamicBuffer buffer, std::size_t max_size,
                        CompletionToken&& token = CompletionToken()) {
  return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, std::size_t)>(
      message_detail::ReadMessageOp<AsyncReadStream, DynamicBuffer>(stream, std::move(buffer),
                                                                    max_size),
      token, stream);
}

// Reads one message into `message`, replacing its contents (empty on error).
template <class AsyncReadStream,
          class CompletionToken =
              boost::asio::default_completion_token_t<typename AsyncReadStream::executor_type>>
auto async_read_message(AsyncReadStream& stream, std::vector<std::uint8_t>& message,
                        std::size_t max_size, CompletionToken&& token = CompletionToken()) {
  message.clear();
  return async_read_message(stream, boost::asio::dynamic_buffer(message), max_size,
                            std::forward<CompletionToken>(token));
}

}  // namespace srudp
