// Length-prefixed messages on a byte stream: each message is its length as a varint (wire/varint,
// minimal encoding) followed by that many bytes. Chat and game code sends discrete messages; a
// reliable stream delivers bytes in arbitrary chunks, so the receiver needs framing.
//
// The decoder is incremental (fed chunks of any size, down to one byte) and bounded: a length above
// the maximum message size is rejected as soon as its varint is complete, and the decoder only
// ever holds bytes that actually arrived, never the announced size, so a hostile length costs the
// receiver nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "common/result.hpp"
#include "wire/varint.hpp"

namespace srudp::stream {

// A sensible default for chat and game messages; callers choose their own.
inline constexpr std::size_t kDefaultMaxMessageSize = 1024 * 1024;

// The varint length in front of a message, kept by value so it can go out as its own buffer
// (scatter-gather write of prefix + payload, no copy of the payload).
struct MessagePrefix {
  std::array<std::uint8_t, wire::varint::kMaxSize> bytes{};
  std::size_t size = 0;
  std::span<const std::uint8_t> span() const noexcept { return std::span(bytes).first(size); }
};

// The prefix for a payload of `payload_size` bytes. Error: value_out_of_range (above 2^62-1).
Result<MessagePrefix> encode_message_prefix(std::uint64_t payload_size) noexcept;

// Bytes a message with a payload of `payload_size` takes on the stream; 0 if it cannot be encoded.
constexpr std::size_t encoded_message_size(std::size_t payload_size) noexcept {
  const std::size_t prefix = wire::varint::encoded_size(payload_size);
  return prefix == 0 ? 0 : prefix + payload_size;
}

// Writes prefix + payload at the start of `out`; returns the bytes written.
// Errors: value_out_of_range, buffer_too_small (then `out` is left as it was).
Result<std::size_t> encode_message(std::span<const std::uint8_t> payload, std::span<std::uint8_t> out);

// Appends prefix + payload to `out`. Error: value_out_of_range (nothing appended).
std::error_code append_message(std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out);

// Total prefix length announced by its first byte: 1, 2, 4 or 8.
constexpr std::size_t message_prefix_size(std::uint8_t first_byte) noexcept {
  return wire::varint::length_from_first_byte(first_byte);
}

// The payload length from a complete prefix (exactly message_prefix_size(prefix[0]) bytes).
// Errors: truncated (prefix too short), non_minimal_varint, value_out_of_range (length above
// `max_message_size`).
Result<std::uint64_t> decode_message_length(std::span<const std::uint8_t> prefix,
                                            std::size_t max_message_size) noexcept;

// Splits a byte stream back into messages. Typical use, for each chunk received:
//   while (!chunk.empty()) {
//     auto used = decoder.feed(chunk);        // stop on error: the stream is not framed right
//     chunk = chunk.subspan(*used);
//     if (decoder.has_message()) { handle(decoder.message()); decoder.next(); }
//   }
class MessageDecoder {
 public:
  // After a message, a buffer up to this size is kept for the next one; a bigger one is released,
  // so one large message does not pin its memory for the life of the connection.
  static constexpr std::size_t kRetainedCapacity = 64 * 1024;

  explicit MessageDecoder(std::size_t max_message_size = kDefaultMaxMessageSize);

  // Takes bytes from the front of `in`, up to the end of the next message, and returns how many
  // it took: less than in.size() only when a message is complete. While has_message(), feed()
  // takes nothing (returns 0) until next().
  // Errors: non_minimal_varint, value_out_of_range (length above the maximum). An error is final:
  // every later feed() returns it again, since the stream has lost its framing.
  Result<std::size_t> feed(std::span<const std::uint8_t> in);

  bool has_message() const noexcept { return complete_; }
  // The complete message. Zero-copy when it arrived whole in one feed(): then it points into that
  // input, otherwise into the decoder. Valid until next() or the next feed(), and as long as the
  // input given to the last feed() is.
  std::span<const std::uint8_t> message() const noexcept {
    return complete_ ? message_ : std::span<const std::uint8_t>{};
  }
  // Done with the current message: the decoder waits for the next one.
  void next() noexcept;

  std::size_t max_message_size() const noexcept { return max_message_size_; }
  // Bytes of the current message (prefix and payload) received so far; 0 between messages.
  std::size_t buffered_bytes() const noexcept { return prefix_received_ + body_.size(); }
  // Memory held for partial messages: about twice what arrived of the current one (vector growth)
  // or kRetainedCapacity, whichever is larger; never the announced size.
  std::size_t allocated_bytes() const noexcept { return body_.capacity(); }

 private:
  std::size_t max_message_size_;
  std::error_code error_;
  MessagePrefix prefix_;                 // the length varint, possibly partial
  std::size_t prefix_received_ = 0;
  std::uint64_t length_ = 0;             // valid once the prefix is complete
  bool have_length_ = false;
  std::vector<std::uint8_t> body_;       // a payload split across feed() calls
  std::span<const std::uint8_t> message_;
  bool complete_ = false;
};

}  // namespace srudp::stream
