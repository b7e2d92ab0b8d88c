// Frames: the contents of a data packet's decrypted payload (see docs/WIRE_FORMAT.md).
// Each frame starts with its type as a minimally encoded varint. Decoding STREAM, DATAGRAM and
// CLOSE gives views into the input (zero-copy) and never allocates; only ACK allocates (its
// vector of ranges).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "common/result.hpp"
#include "wire/buffer.hpp"

namespace srudp::wire {

enum class FrameType : std::uint64_t {
  Padding = 0x00,
  Ping = 0x01,
  Ack = 0x02,
  ResetStream = 0x04,
  StopSending = 0x05,
  Stream = 0x08,  // 0x08..0x0f: base | OFF | LEN | FIN
  MaxData = 0x10,
  MaxStreamData = 0x11,
  MaxStreamsBidi = 0x12,
  MaxStreamsUni = 0x13,
  PathChallenge = 0x1a,
  PathResponse = 0x1b,
  Close = 0x1c,
  Established = 0x1e,
  Datagram = 0x30,            // data runs to the end of the packet
  DatagramWithLength = 0x31,
};

inline constexpr std::uint8_t kStreamOffBit = 0x04;
inline constexpr std::uint8_t kStreamLenBit = 0x02;
inline constexpr std::uint8_t kStreamFinBit = 0x01;

inline constexpr std::size_t kMaxAckRanges = 256;
inline constexpr std::size_t kMaxCloseReasonSize = 1024;
inline constexpr std::uint64_t kMaxStreamCount = std::uint64_t{1} << 60;
inline constexpr std::uint64_t kMaxStreamOffset = varint::kMax;  // offset + length <= this
inline constexpr std::size_t kPathDataSize = 8;

namespace detail {
inline bool bytes_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}
}  // namespace detail

// A run of `length` (>= 1) zero bytes: each is a one-byte PADDING frame; decoding merges them.
struct Padding {
  std::uint64_t length = 1;
  friend bool operator==(const Padding&, const Padding&) = default;
};

struct Ping {
  friend bool operator==(const Ping&, const Ping&) = default;
};

// Packet numbers smallest..largest, inclusive.
struct AckRange {
  std::uint64_t smallest = 0;
  std::uint64_t largest = 0;
  friend bool operator==(const AckRange&, const AckRange&) = default;
};

// ranges: descending (newest first), disjoint and not adjacent (a gap of at least one missing
// packet between them). The encoder writes at most kMaxAckRanges, the newest.
// An ACK usually holds a handful of ranges: those live inside the frame, more on the heap.
using AckRanges = boost::container::small_vector<AckRange, 4>;

struct Ack {
  std::uint64_t ack_delay_us = 0;
  AckRanges ranges;

  std::uint64_t largest() const noexcept { return ranges.empty() ? 0 : ranges.front().largest; }
  friend bool operator==(const Ack&, const Ack&) = default;
};

struct ResetStream {
  std::uint64_t stream_id = 0;
  std::uint64_t error_code = 0;
  std::uint64_t final_size = 0;
  friend bool operator==(const ResetStream&, const ResetStream&) = default;
};

struct StopSending {
  std::uint64_t stream_id = 0;
  std::uint64_t error_code = 0;
  friend bool operator==(const StopSending&, const StopSending&) = default;
};

struct Stream {
  std::uint64_t stream_id = 0;
  std::uint64_t offset = 0;
  std::span<const std::uint8_t> data;
  bool fin = false;
  // Without a length the data runs to the end of the packet: only for the last frame.
  bool has_length = true;

  friend bool operator==(const Stream& a, const Stream& b) noexcept {
    return a.stream_id == b.stream_id && a.offset == b.offset && a.fin == b.fin &&
           a.has_length == b.has_length && detail::bytes_equal(a.data, b.data);
  }
};

struct MaxData {
  std::uint64_t max = 0;
  friend bool operator==(const MaxData&, const MaxData&) = default;
};

struct MaxStreamData {
  std::uint64_t stream_id = 0;
  std::uint64_t max = 0;
  friend bool operator==(const MaxStreamData&, const MaxStreamData&) = default;
};

struct MaxStreams {
  bool bidirectional = true;  // 0x12 when true, 0x13 when false
  std::uint64_t max = 0;      // <= kMaxStreamCount
  friend bool operator==(const MaxStreams&, const MaxStreams&) = default;
};

struct PathChallenge {
  std::array<std::uint8_t, kPathDataSize> data{};
  friend bool operator==(const PathChallenge&, const PathChallenge&) = default;
};

struct PathResponse {
  std::array<std::uint8_t, kPathDataSize> data{};
  friend bool operator==(const PathResponse&, const PathResponse&) = default;
};

// reason is meant to be UTF-8 text for humans; it is not validated, so a peer's close is never
// ignored because of a bad reason string.
struct Close {
  std::uint64_t error_code = 0;
  std::span<const std::uint8_t> reason;  // <= kMaxCloseReasonSize bytes

  friend bool operator==(const Close& a, const Close& b) noexcept {
    return a.error_code == b.error_code && detail::bytes_equal(a.reason, b.reason);
  }
};

// The handshake's explicit key confirmation: the sender has the final keys.
struct Established {
  friend bool operator==(const Established&, const Established&) = default;
};

struct Datagram {
  std::span<const std::uint8_t> data;
  bool has_length = true;  // 0x31 when true; 0x30 (to the end of the packet) when false

  friend bool operator==(const Datagram& a, const Datagram& b) noexcept {
    return a.has_length == b.has_length && detail::bytes_equal(a.data, b.data);
  }
};

using Frame = std::variant<Padding, Ping, Ack, ResetStream, StopSending, Stream, MaxData,
                           MaxStreamData, MaxStreams, PathChallenge, PathResponse, Close,
                           Established, Datagram>;

// Decodes one frame at the reader's position and advances past it. On error the reader's
// position is unspecified. Errors: truncated, non_minimal_varint, unknown_frame_type,
// length_past_end, value_out_of_range, empty_not_allowed, malformed.
Result<Frame> decode_frame(Reader& reader);

// Writes the frame. On error the writer may hold a partial frame: discard the packet. Errors:
// buffer_too_small, value_out_of_range, invalid_argument (e.g. an ACK without ranges or with
// ranges out of order), empty_not_allowed (STREAM with no data and no FIN, Padding{0}).
std::error_code encode_frame(const Frame& frame, Writer& writer);

// Bytes encode_frame writes for a valid frame.
std::size_t encoded_size(const Frame& frame) noexcept;

// The frame's type; every STREAM variant (0x08..0x0f) gives FrameType::Stream.
FrameType frame_type(const Frame& frame) noexcept;

// Everything except ACK, PADDING and CLOSE asks the receiver to acknowledge the packet.
bool is_ack_eliciting(const Frame& frame) noexcept;

// Calls on_frame(Frame&&) for each frame of a decrypted payload, in order. on_frame may return
// void, or a std::error_code that stops parsing when set (and is returned). Errors: empty_not_allowed
// (empty payload: a packet holds at least one frame) and the first decode error.
template <class F>
std::error_code parse_frames(std::span<const std::uint8_t> payload, F&& on_frame) {
  if (payload.empty()) return errc::empty_not_allowed;
  Reader reader(payload);
  while (!reader.empty()) {
    auto frame = decode_frame(reader);
    if (!frame) return frame.error();
    if constexpr (std::is_convertible_v<std::invoke_result_t<F&, Frame&&>, std::error_code>) {
      if (std::error_code ec = on_frame(std::move(*frame))) return ec;
    } else {
      on_frame(std::move(*frame));
    }
  }
  return {};
}

}  // namespace srudp::wire
