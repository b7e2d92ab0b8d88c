// Frames: the contents of a data packet's decrypted payload (see docs/WIRE_FORMAT.md).
// Each frame starts with its type as a minimally encoded varint. Decoding STREAM, DATAGRAM and
// CLOSE gives views into the input (zero-copy) and never allocates; only an ACK of more than four
// ranges allocates.
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

// The types a Frame holds. Each function below also takes one of them directly, which is how the
// data path uses it: no Frame is built and no variant is visited per frame.
namespace detail {
template <class T, class Variant>
struct is_alternative_of : std::false_type {};
template <class T, class... Ts>
struct is_alternative_of<T, std::variant<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};
}  // namespace detail
template <class T>
concept FrameAlternative = detail::is_alternative_of<T, Frame>::value;

namespace detail {
// Decodes the body of a frame whose type varint (`type`) was just read. Defined for every
// FrameAlternative in frame.cpp; `type` tells the variants of one type apart (STREAM's flags,
// MAX_STREAMS bidi/uni, DATAGRAM with or without a length).
template <FrameAlternative T>
std::error_code decode_body(Reader& reader, std::uint64_t type, T& out);

template <class F, class T>
std::error_code call_on_frame(F& on_frame, T& frame) {
  if constexpr (std::is_convertible_v<std::invoke_result_t<F&, T&>, std::error_code>) {
    return on_frame(frame);
  } else {
    on_frame(frame);
    return {};
  }
}
}  // namespace detail

// Decodes one frame at the reader's position, advances past it and calls on_frame with it as its
// own type (Stream&, Ack&, ...; a function taking Frame&& gets a Frame made from it). on_frame may
// return void, or a std::error_code that is returned. On error the reader's position is
// unspecified. Errors: truncated, non_minimal_varint, unknown_frame_type, length_past_end,
// value_out_of_range, empty_not_allowed, malformed.
template <class F>
std::error_code visit_next_frame(Reader& reader, F&& on_frame) {
  const auto type = reader.read_varint();
  if (!type) return type.error();
  const auto as = [&]<class T>(std::type_identity<T>) -> std::error_code {
    T frame;
    if (const std::error_code ec = detail::decode_body(reader, *type, frame)) return ec;
    return detail::call_on_frame(on_frame, frame);
  };
  switch (*type) {
    case 0x00: return as(std::type_identity<Padding>{});
    case 0x01: return as(std::type_identity<Ping>{});
    case 0x02: return as(std::type_identity<Ack>{});
    case 0x04: return as(std::type_identity<ResetStream>{});
    case 0x05: return as(std::type_identity<StopSending>{});
    case 0x08: case 0x09: case 0x0a: case 0x0b:
    case 0x0c: case 0x0d: case 0x0e: case 0x0f:
      return as(std::type_identity<Stream>{});
    case 0x10: return as(std::type_identity<MaxData>{});
    case 0x11: return as(std::type_identity<MaxStreamData>{});
    case 0x12: case 0x13: return as(std::type_identity<MaxStreams>{});
    case 0x1a: return as(std::type_identity<PathChallenge>{});
    case 0x1b: return as(std::type_identity<PathResponse>{});
    case 0x1c: return as(std::type_identity<Close>{});
    case 0x1e: return as(std::type_identity<Established>{});
    case 0x30: case 0x31: return as(std::type_identity<Datagram>{});
    default: return errc::unknown_frame_type;
  }
}

// Decodes one frame at the reader's position and advances past it, as visit_next_frame does.
Result<Frame> decode_frame(Reader& reader);

// Writes the frame. On error the writer may hold a partial frame: discard the packet. Errors:
// buffer_too_small, value_out_of_range, invalid_argument (e.g. an ACK without ranges or with
// ranges out of order), empty_not_allowed (STREAM with no data and no FIN, Padding{0}).
template <FrameAlternative T>
std::error_code encode_frame(const T& frame, Writer& writer);
std::error_code encode_frame(const Frame& frame, Writer& writer);

// Bytes encode_frame writes for a valid frame.
template <FrameAlternative T>
std::size_t encoded_size(const T& frame) noexcept;
std::size_t encoded_size(const Frame& frame) noexcept;

// The frame's type; every STREAM variant (0x08..0x0f) gives FrameType::Stream.
FrameType frame_type(const Frame& frame) noexcept;

// Everything except ACK, PADDING and CLOSE asks the receiver to acknowledge the packet.
template <FrameAlternative T>
constexpr bool is_ack_eliciting(const T&) noexcept {
  return !std::is_same_v<T, Ack> && !std::is_same_v<T, Padding> && !std::is_same_v<T, Close>;
}
bool is_ack_eliciting(const Frame& frame) noexcept;

// Calls on_frame for each frame of a decrypted payload, in order, as visit_next_frame does.
// on_frame may return void, or a std::error_code that stops parsing when set (and is returned).
// Errors: empty_not_allowed (empty payload: a packet holds at least one frame) and the first
// decode error.
template <class F>
std::error_code parse_frames(std::span<const std::uint8_t> payload, F&& on_frame) {
  if (payload.empty()) return errc::empty_not_allowed;
  Reader reader(payload);
  while (!reader.empty()) {
    if (const std::error_code ec = visit_next_frame(reader, on_frame)) return ec;
  }
  return {};
}

}  // namespace srudp::wire
