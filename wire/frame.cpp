#include "wire/frame.hpp"

#include <algorithm>
#include <utility>

namespace srudp::wire {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Shorthand for "read a varint or return its error" inside the decoders below.
#define SRUDP_TRY_VARINT(name, reader)   \
  auto name##_r = (reader).read_varint(); \
  if (!name##_r) return name##_r.error(); \
  const std::uint64_t name = *name##_r

// ---- Decoding -----------------------------------------------------------------------------------

Result<Frame> decode_padding(Reader& r) {
  // The type byte (0x00) is already consumed; every further zero byte is another PADDING frame.
  const auto rest = r.rest();
  const auto zeros = static_cast<std::size_t>(
      std::find_if(rest.begin(), rest.end(), [](std::uint8_t b) { return b != 0; }) - rest.begin());
  (void)r.skip(zeros);
  return Frame{Padding{1 + zeros}};
}

Result<Frame> decode_ack(Reader& r) {
  SRUDP_TRY_VARINT(largest, r);
  SRUDP_TRY_VARINT(ack_delay, r);
  SRUDP_TRY_VARINT(range_count, r);
  SRUDP_TRY_VARINT(first_range, r);
  if (range_count > kMaxAckRanges - 1) return errc::value_out_of_range;
  if (first_range > largest) return errc::value_out_of_range;  // would go below packet 0
  // Each (gap, length) pair takes at least two bytes: refuse before allocating.
  if (r.remaining() < 2 * range_count) return errc::truncated;
  Ack ack;
  ack.ack_delay_us = ack_delay;
  ack.ranges.reserve(static_cast<std::size_t>(range_count) + 1);
  ack.ranges.push_back({largest - first_range, largest});
  for (std::uint64_t i = 0; i < range_count; ++i) {
    SRUDP_TRY_VARINT(gap, r);
    SRUDP_TRY_VARINT(length, r);
    const std::uint64_t previous_smallest = ack.ranges.back().smallest;
    // largest = previous_smallest - gap - 2 (RFC 9000 §19.3.1); neither may go below 0.
    if (previous_smallest < 2 || gap > previous_smallest - 2) return errc::value_out_of_range;
    const std::uint64_t range_largest = previous_smallest - gap - 2;
    if (length > range_largest) return errc::value_out_of_range;
    ack.ranges.push_back({range_largest - length, range_largest});
  }
  return Frame{std::move(ack)};
}

Result<Frame> decode_stream(Reader& r, std::uint64_t type) {
  Stream f;
  SRUDP_TRY_VARINT(stream_id, r);
  f.stream_id = stream_id;
  if ((type & kStreamOffBit) != 0) {
    SRUDP_TRY_VARINT(offset, r);
    f.offset = offset;
  }
  f.fin = (type & kStreamFinBit) != 0;
  f.has_length = (type & kStreamLenBit) != 0;
  if (f.has_length) {
    SRUDP_TRY_VARINT(length, r);
    if (length > r.remaining()) return errc::length_past_end;
    f.data = *r.read_bytes(static_cast<std::size_t>(length));
  } else {
    f.data = r.read_rest();
  }
  if (f.data.size() > kMaxStreamOffset - f.offset) return errc::value_out_of_range;
  if (f.data.empty() && !f.fin) return errc::empty_not_allowed;
  return Frame{f};
}

Result<Frame> decode_close(Reader& r) {
  SRUDP_TRY_VARINT(error_code, r);
  SRUDP_TRY_VARINT(reason_length, r);
  if (reason_length > kMaxCloseReasonSize) return errc::value_out_of_range;
  if (reason_length > r.remaining()) return errc::length_past_end;
  return Frame{Close{error_code, *r.read_bytes(static_cast<std::size_t>(reason_length))}};
}

Result<Frame> decode_datagram(Reader& r, bool has_length) {
  if (!has_length) return Frame{Datagram{r.read_rest(), false}};
  SRUDP_TRY_VARINT(length, r);
  if (length > r.remaining()) return errc::length_past_end;
  return Frame{Datagram{*r.read_bytes(static_cast<std::size_t>(length)), true}};
}

template <class PathFrame>
Result<Frame> decode_path(Reader& r) {
  PathFrame f;
  if (auto ec = r.read_into(f.data)) return ec;
  return Frame{f};
}

// ---- Validation, size and writing, per frame type -----------------------------------------------
// encode_frame validates first and checks the size, so writing cannot fail half-way.

constexpr std::size_t vsize(std::uint64_t v) noexcept { return varint::encoded_size(v); }
constexpr bool fits(std::uint64_t v) noexcept { return v <= varint::kMax; }

std::size_t ack_range_count(const Ack& f) noexcept { return std::min(f.ranges.size(), kMaxAckRanges); }

std::error_code validate(const Ack& f) {
  const std::size_t n = ack_range_count(f);
  if (n == 0) return errc::invalid_argument;
  if (!fits(f.ack_delay_us)) return errc::value_out_of_range;
  for (std::size_t i = 0; i < n; ++i) {
    const AckRange& range = f.ranges[i];
    if (range.smallest > range.largest) return errc::invalid_argument;
    if (!fits(range.largest)) return errc::value_out_of_range;
    // Descending, with at least one missing packet between neighbours (else they are one range).
    if (i > 0 && (f.ranges[i - 1].smallest < 2 || range.largest > f.ranges[i - 1].smallest - 2)) {
      return errc::invalid_argument;
    }
  }
  return {};
}

std::uint8_t stream_type(const Stream& f) noexcept {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(FrameType::Stream) |
                                   (f.offset != 0 ? kStreamOffBit : 0) |
                                   (f.has_length ? kStreamLenBit : 0) | (f.fin ? kStreamFinBit : 0));
}

std::error_code validate_frame(const Frame& frame) {
  return std::visit(
      Overloaded{
          [](const Padding& f) -> std::error_code {
            return f.length == 0 ? make_error_code(errc::empty_not_allowed) : std::error_code{};
          },
          [](const Ack& f) { return validate(f); },
          [](const ResetStream& f) -> std::error_code {
            if (!fits(f.stream_id) || !fits(f.error_code) || !fits(f.final_size)) {
              return errc::value_out_of_range;
            }
            return {};
          },
          [](const StopSending& f) -> std::error_code {
            if (!fits(f.stream_id) || !fits(f.error_code)) return errc::value_out_of_range;
            return {};
          },
          [](const Stream& f) -> std::error_code {
            if (!fits(f.stream_id) || !fits(f.offset)) return errc::value_out_of_range;
            if (f.data.size() > kMaxStreamOffset - f.offset) return errc::value_out_of_range;
            if (f.data.empty() && !f.fin) return errc::empty_not_allowed;
            return {};
          },
          [](const MaxData& f) -> std::error_code {
            return fits(f.max) ? std::error_code{} : make_error_code(errc::value_out_of_range);
          },
          [](const MaxStreamData& f) -> std::error_code {
            if (!fits(f.stream_id) || !fits(f.max)) return errc::value_out_of_range;
            return {};
          },
          [](const MaxStreams& f) -> std::error_code {
            return f.max <= kMaxStreamCount ? std::error_code{}
                                            : make_error_code(errc::value_out_of_range);
          },
          [](const Close& f) -> std::error_code {
            if (!fits(f.error_code) || f.reason.size() > kMaxCloseReasonSize) {
              return errc::value_out_of_range;
            }
            return {};
          },
          [](const auto&) -> std::error_code { return {}; },
      },
      frame);
}

void write_frame(const Frame& frame, Writer& w) {
  // Sizes were checked by the caller: the writes below cannot fail.
  auto type = [&w](FrameType t) { (void)w.write_varint(static_cast<std::uint64_t>(t)); };
  auto v = [&w](std::uint64_t value) { (void)w.write_varint(value); };
  std::visit(Overloaded{
                 [&](const Padding& f) { (void)w.write_zeros(static_cast<std::size_t>(f.length)); },
                 [&](const Ping&) { type(FrameType::Ping); },
                 [&](const Ack& f) {
                   const std::size_t n = ack_range_count(f);
                   type(FrameType::Ack);
                   v(f.ranges[0].largest);
                   v(f.ack_delay_us);
                   v(n - 1);
                   v(f.ranges[0].largest - f.ranges[0].smallest);
                   for (std::size_t i = 1; i < n; ++i) {
                     v(f.ranges[i - 1].smallest - f.ranges[i].largest - 2);
                     v(f.ranges[i].largest - f.ranges[i].smallest);
                   }
                 },
                 [&](const ResetStream& f) {
                   type(FrameType::ResetStream);
                   v(f.stream_id);
                   v(f.error_code);
                   v(f.final_size);
                 },
                 [&](const StopSending& f) {
                   type(FrameType::StopSending);
                   v(f.stream_id);
                   v(f.error_code);
                 },
                 [&](const Stream& f) {
                   (void)w.write_u8(stream_type(f));
                   v(f.stream_id);
                   if (f.offset != 0) v(f.offset);
                   if (f.has_length) v(f.data.size());
                   (void)w.write_bytes(f.data);
                 },
                 [&](const MaxData& f) {
                   type(FrameType::MaxData);
                   v(f.max);
                 },
                 [&](const MaxStreamData& f) {
                   type(FrameType::MaxStreamData);
                   v(f.stream_id);
                   v(f.max);
                 },
                 [&](const MaxStreams& f) {
                   type(f.bidirectional ? FrameType::MaxStreamsBidi : FrameType::MaxStreamsUni);
                   v(f.max);
                 },
                 [&](const PathChallenge& f) {
                   type(FrameType::PathChallenge);
                   (void)w.write_bytes(f.data);
                 },
                 [&](const PathResponse& f) {
                   type(FrameType::PathResponse);
                   (void)w.write_bytes(f.data);
                 },
                 [&](const Close& f) {
                   type(FrameType::Close);
                   v(f.error_code);
                   v(f.reason.size());
                   (void)w.write_bytes(f.reason);
                 },
                 [&](const Established&) { type(FrameType::Established); },
                 [&](const Datagram& f) {
                   type(f.has_length ? FrameType::DatagramWithLength : FrameType::Datagram);
                   if (f.has_length) v(f.data.size());
                   (void)w.write_bytes(f.data);
                 },
             },
             frame);
}

}  // namespace

Result<Frame> decode_frame(Reader& r) {
  SRUDP_TRY_VARINT(type, r);
  switch (type) {
    case 0x00: return decode_padding(r);
    case 0x01: return Frame{Ping{}};
    case 0x02: return decode_ack(r);
    case 0x04: {
      SRUDP_TRY_VARINT(stream_id, r);
      SRUDP_TRY_VARINT(error_code, r);
      SRUDP_TRY_VARINT(final_size, r);
      return Frame{ResetStream{stream_id, error_code, final_size}};
    }
    case 0x05: {
      SRUDP_TRY_VARINT(stream_id, r);
      SRUDP_TRY_VARINT(error_code, r);
      return Frame{StopSending{stream_id, error_code}};
    }
    case 0x08: case 0x09: case 0x0a: case 0x0b:
    case 0x0c: case 0x0d: case 0x0e: case 0x0f:
      return decode_stream(r, type);
    case 0x10: {
      SRUDP_TRY_VARINT(max, r);
      return Frame{MaxData{max}};
    }
    case 0x11: {
      SRUDP_TRY_VARINT(stream_id, r);
      SRUDP_TRY_VARINT(max, r);
      return Frame{MaxStreamData{stream_id, max}};
    }
    case 0x12: case 0x13: {
      SRUDP_TRY_VARINT(max, r);
      if (max > kMaxStreamCount) return errc::value_out_of_range;
      return Frame{MaxStreams{type == 0x12, max}};
    }
    case 0x1a: return decode_path<PathChallenge>(r);
    case 0x1b: return decode_path<PathResponse>(r);
    case 0x1c: return decode_close(r);
    case 0x1e: return Frame{Established{}};
    case 0x30: return decode_datagram(r, false);
    case 0x31: return decode_datagram(r, true);
    default: return errc::unknown_frame_type;
  }
}

std::error_code encode_frame(const Frame& frame, Writer& writer) {
  if (auto ec = validate_frame(frame)) return ec;
  if (encoded_size(frame) > writer.remaining()) return errc::buffer_too_small;
  write_frame(frame, writer);
  return {};
}

std::size_t encoded_size(const Frame& frame) noexcept {
  return std::visit(
      Overloaded{
          [](const Padding& f) { return static_cast<std::size_t>(f.length); },
          [](const Ping&) -> std::size_t { return 1; },
          [](const Ack& f) -> std::size_t {
            const std::size_t n = ack_range_count(f);
            if (n == 0) return 0;
            std::size_t size = 1 + vsize(f.ranges[0].largest) + vsize(f.ack_delay_us) + vsize(n - 1) +
                               vsize(f.ranges[0].largest - f.ranges[0].smallest);
            for (std::size_t i = 1; i < n; ++i) {
              size += vsize(f.ranges[i - 1].smallest - f.ranges[i].largest - 2) +
                      vsize(f.ranges[i].largest - f.ranges[i].smallest);
            }
            return size;
          },
          [](const ResetStream& f) -> std::size_t {
            return 1 + vsize(f.stream_id) + vsize(f.error_code) + vsize(f.final_size);
          },
          [](const StopSending& f) -> std::size_t { return 1 + vsize(f.stream_id) + vsize(f.error_code); },
          [](const Stream& f) -> std::size_t {
            return 1 + vsize(f.stream_id) + (f.offset != 0 ? vsize(f.offset) : 0) +
                   (f.has_length ? vsize(f.data.size()) : 0) + f.data.size();
          },
          [](const MaxData& f) -> std::size_t { return 1 + vsize(f.max); },
          [](const MaxStreamData& f) -> std::size_t { return 1 + vsize(f.stream_id) + vsize(f.max); },
          [](const MaxStreams& f) -> std::size_t { return 1 + vsize(f.max); },
          [](const PathChallenge&) -> std::size_t { return 1 + kPathDataSize; },
          [](const PathResponse&) -> std::size_t { return 1 + kPathDataSize; },
          [](const Close& f) -> std::size_t {
            return 1 + vsize(f.error_code) + vsize(f.reason.size()) + f.reason.size();
          },
          [](const Established&) -> std::size_t { return 1; },
          [](const Datagram& f) -> std::size_t {
            return 1 + (f.has_length ? vsize(f.data.size()) : 0) + f.data.size();
          },
      },
      frame);
}

FrameType frame_type(const Frame& frame) noexcept {
  return std::visit(
      Overloaded{
          [](const Padding&) { return FrameType::Padding; },
          [](const Ping&) { return FrameType::Ping; },
          [](const Ack&) { return FrameType::Ack; },
          [](const ResetStream&) { return FrameType::ResetStream; },
          [](const StopSending&) { return FrameType::StopSending; },
          [](const Stream&) { return FrameType::Stream; },
          [](const MaxData&) { return FrameType::MaxData; },
          [](const MaxStreamData&) { return FrameType::MaxStreamData; },
          [](const MaxStreams& f) {
            return f.bidirectional ? FrameType::MaxStreamsBidi : FrameType::MaxStreamsUni;
          },
          [](const PathChallenge&) { return FrameType::PathChallenge; },
          [](const PathResponse&) { return FrameType::PathResponse; },
          [](const Close&) { return FrameType::Close; },
          [](const Established&) { return FrameType::Established; },
          [](const Datagram& f) {
            return f.has_length ? FrameType::DatagramWithLength : FrameType::Datagram;
          },
      },
      frame);
}

bool is_ack_eliciting(const Frame& frame) noexcept {
  return !std::holds_alternative<Ack>(frame) && !std::holds_alternative<Padding>(frame) &&
         !std::holds_alternative<Close>(frame);
}

#undef SRUDP_TRY_VARINT

}  // namespace srudp::wire
