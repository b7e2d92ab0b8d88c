#include "wire/frame.hpp"

#include <algorithm>
#include <utility>

namespace srudp::wire {
namespace {

// Shorthand for "read a varint or return its error" inside the decoders below.
#define SRUDP_TRY_VARINT(name, reader)   \
  auto name##_r = (reader).read_varint(); \
  if (!name##_r) return name##_r.error(); \
  const std::uint64_t name = *name##_r

// ---- Validation, size and writing, per frame type -----------------------------------------------
// encode_frame validates first and checks the size, so writing cannot fail half-way.

constexpr std::size_t vsize(std::uint64_t v) noexcept { return varint::encoded_size(v); }
constexpr bool fits(std::uint64_t v) noexcept { return v <= varint::kMax; }

std::size_t ack_range_count(const Ack& f) noexcept { return std::min(f.ranges.size(), kMaxAckRanges); }

std::uint8_t stream_type(const Stream& f) noexcept {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(FrameType::Stream) |
                                   (f.offset != 0 ? kStreamOffBit : 0) |
                                   (f.has_length ? kStreamLenBit : 0) | (f.fin ? kStreamFinBit : 0));
}

void put_type(Writer& w, FrameType t) { (void)w.write_varint(static_cast<std::uint64_t>(t)); }
void put(Writer& w, std::uint64_t value) { (void)w.write_varint(value); }

std::error_code validate(const Padding& f) {
  return f.length == 0 ? make_error_code(errc::empty_not_allowed) : std::error_code{};
}
std::size_t size_of(const Padding& f) { return static_cast<std::size_t>(f.length); }
void write(const Padding& f, Writer& w) { (void)w.write_zeros(static_cast<std::size_t>(f.length)); }

std::error_code validate(const Ping&) { return {}; }
std::size_t size_of(const Ping&) { return 1; }
void write(const Ping&, Writer& w) { put_type(w, FrameType::Ping); }

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
std::size_t size_of(const Ack& f) {
  const std::size_t n = ack_range_count(f);
  if (n == 0) return 0;
  std::size_t size = 1 + vsize(f.ranges[0].largest) + vsize(f.ack_delay_us) + vsize(n - 1) +
                     vsize(f.ranges[0].largest - f.ranges[0].smallest);
  for (std::size_t i = 1; i < n; ++i) {
    size += vsize(f.ranges[i - 1].smallest - f.ranges[i].largest - 2) + vsize(f.ranges[i].largest - f.ranges[i].smallest);
  }
  return size;
}
void write(const Ack& f, Writer& w) {
  const std::size_t n = ack_range_count(f);
  put_type(w, FrameType::Ack);
  put(w, f.ranges[0].largest);
  put(w, f.ack_delay_us);
  put(w, n - 1);
  put(w, f.ranges[0].largest - f.ranges[0].smallest);
  for (std::size_t i = 1; i < n; ++i) {
    put(w, f.ranges[i - 1].smallest - f.ranges[i].largest - 2);
    put(w, f.ranges[i].largest - f.ranges[i].smallest);
  }
}

std::error_code validate(const ResetStream& f) {
  if (!fits(f.stream_id) || !fits(f.error_code) || !fits(f.final_size)) return errc::value_out_of_range;
  return {};
}
std::size_t size_of(const ResetStream& f) {
  return 1 + vsize(f.stream_id) + vsize(f.error_code) + vsize(f.final_size);
}
void write(const ResetStream& f, Writer& w) {
  put_type(w, FrameType::ResetStream);
  put(w, f.stream_id);
  put(w, f.error_code);
  put(w, f.final_size);
}

std::error_code validate(const StopSending& f) {
  if (!fits(f.stream_id) || !fits(f.error_code)) return errc::value_out_of_range;
  return {};
}
std::size_t size_of(const StopSending& f) { return 1 + vsize(f.stream_id) + vsize(f.error_code); }
void write(const StopSending& f, Writer& w) {
  put_type(w, FrameType::StopSending);
  put(w, f.stream_id);
  put(w, f.error_code);
}

std::error_code validate(const Stream& f) {
  if (!fits(f.stream_id) || !fits(f.offset)) return errc::value_out_of_range;
  if (f.data.size() > kMaxStreamOffset - f.offset) return errc::value_out_of_range;
  if (f.data.empty() && !f.fin) return errc::empty_not_allowed;
  return {};
}
std::size_t size_of(const Stream& f) {
  return 1 + vsize(f.stream_id) + (f.offset != 0 ? vsize(f.offset) : 0) + (f.has_length ? vsize(f.data.size()) : 0) +
         f.data.size();
}
void write(const Stream& f, Writer& w) {
  (void)w.write_u8(stream_type(f));
  put(w, f.stream_id);
  if (f.offset != 0) put(w, f.offset);
  if (f.has_length) put(w, f.data.size());
  (void)w.write_bytes(f.data);
}

std::error_code validate(const MaxData& f) {
  return fits(f.max) ? std::error_code{} : make_error_code(errc::value_out_of_range);
}
std::size_t size_of(const MaxData& f) { return 1 + vsize(f.max); }
void write(const MaxData& f, Writer& w) {
  put_type(w, FrameType::MaxData);
  put(w, f.max);
}

std::error_code validate(const MaxStreamData& f) {
  if (!fits(f.stream_id) || !fits(f.max)) return errc::value_out_of_range;
  return {};
}
std::size_t size_of(const MaxStreamData& f) { return 1 + vsize(f.stream_id) + vsize(f.max); }
void write(const MaxStreamData& f, Writer& w) {
  put_type(w, FrameType::MaxStreamData);
  put(w, f.stream_id);
  put(w, f.max);
}

std::error_code validate(const MaxStreams& f) {
  return f.max <= kMaxStreamCount ? std::error_code{} : make_error_code(errc::value_out_of_range);
}
std::size_t size_of(const MaxStreams& f) { return 1 + vsize(f.max); }
void write(const MaxStreams& f, Writer& w) {
  put_type(w, f.bidirectional ? FrameType::MaxStreamsBidi : FrameType::MaxStreamsUni);
  put(w, f.max);
}

std::error_code validate(const PathChallenge&) { return {}; }
std::size_t size_of(const PathChallenge&) { return 1 + kPathDataSize; }
void write(const PathChallenge& f, Writer& w) {
  put_type(w, FrameType::PathChallenge);
  (void)w.write_bytes(f.data);
}

std::error_code validate(const PathResponse&) { return {}; }
std::size_t size_of(const PathResponse&) { return 1 + kPathDataSize; }
void write(const PathResponse& f, Writer& w) {
  put_type(w, FrameType::PathResponse);
  (void)w.write_bytes(f.data);
}

std::error_code validate(const Close& f) {
  if (!fits(f.error_code) || f.reason.size() > kMaxCloseReasonSize) return errc::value_out_of_range;
  return {};
}
std::size_t size_of(const Close& f) { return 1 + vsize(f.error_code) + vsize(f.reason.size()) + f.reason.size(); }
void write(const Close& f, Writer& w) {
  put_type(w, FrameType::Close);
  put(w, f.error_code);
  put(w, f.reason.size());
  (void)w.write_bytes(f.reason);
}

std::error_code validate(const Established&) { return {}; }
std::size_t size_of(const Established&) { return 1; }
void write(const Established&, Writer& w) { put_type(w, FrameType::Established); }

std::error_code validate(const Datagram&) { return {}; }
std::size_t size_of(const Datagram& f) { return 1 + (f.has_length ? vsize(f.data.size()) : 0) + f.data.size(); }
void write(const Datagram& f, Writer& w) {
  put_type(w, f.has_length ? FrameType::DatagramWithLength : FrameType::Datagram);
  if (f.has_length) put(w, f.data.size());
  (void)w.write_bytes(f.data);
}

// ---- Decoding: the body of each frame type, its type varint already read ----------------------


std::error_code decode(Reader& r, std::uint64_t, Padding& out) {
  // The type byte (0x00) is already consumed; every further zero byte is another PADDING frame.
  const auto rest = r.rest();
  const auto zeros = static_cast<std::size_t>(
      std::find_if(rest.begin(), rest.end(), [](std::uint8_t b) { return b != 0; }) - rest.begin());
  (void)r.skip(zeros);
  out.length = 1 + zeros;
  return {};
}

std::error_code decode(Reader&, std::uint64_t, Ping&) {
  return {};
}

std::error_code decode(Reader& r, std::uint64_t, Ack& out) {
  SRUDP_TRY_VARINT(largest, r);
  SRUDP_TRY_VARINT(ack_delay, r);
  SRUDP_TRY_VARINT(range_count, r);
  SRUDP_TRY_VARINT(first_range, r);
  if (range_count > kMaxAckRanges - 1) return errc::value_out_of_range;
  if (first_range > largest) return errc::value_out_of_range;  // would go below packet 0
  // Each (gap, length) pair takes at least two bytes: refuse before allocating.
  if (r.remaining() < 2 * range_count) return errc::truncated;
  out.ack_delay_us = ack_delay;
  out.ranges.reserve(static_cast<std::size_t>(range_count) + 1);
  out.ranges.push_back({largest - first_range, largest});
  for (std::uint64_t i = 0; i < range_count; ++i) {
    SRUDP_TRY_VARINT(gap, r);
    SRUDP_TRY_VARINT(length, r);
    const std::uint64_t previous_smallest = out.ranges.back().smallest;
    // largest = previous_smallest - gap - 2 (RFC 9000 §19.3.1); neither may go below 0.
    if (previous_smallest < 2 || gap > previous_smallest - 2) return errc::value_out_of_range;
    const std::uint64_t range_largest = previous_smallest - gap - 2;
    if (length > range_largest) return errc::value_out_of_range;
    out.ranges.push_back({range_largest - length, range_largest});
  }
  return {};
}

std::error_code decode(Reader& r, std::uint64_t, ResetStream& out) {
  SRUDP_TRY_VARINT(stream_id, r);
  SRUDP_TRY_VARINT(error_code, r);
  SRUDP_TRY_VARINT(final_size, r);
  out = ResetStream{stream_id, error_code, final_size};
  return {};
}

std::error_code decode(Reader& r, std::uint64_t, StopSending& out) {
  SRUDP_TRY_VARINT(stream_id, r);
  SRUDP_TRY_VARINT(error_code, r);
  out = StopSending{stream_id, error_code};
  return {};
}

std::error_code decode(Reader& r, std::uint64_t type, Stream& out) {
  SRUDP_TRY_VARINT(stream_id, r);
  out.stream_id = stream_id;
  if ((type & kStreamOffBit) != 0) {
    SRUDP_TRY_VARINT(offset, r);
    out.offset = offset;
  }
  out.fin = (type & kStreamFinBit) != 0;
  out.has_length = (type & kStreamLenBit) != 0;
  if (out.has_length) {
    SRUDP_TRY_VARINT(length, r);
    if (length > r.remaining()) return errc::length_past_end;
    out.data = *r.read_bytes(static_cast<std::size_t>(length));
  } else {
    out.data = r.read_rest();
  }
  if (out.data.size() > kMaxStreamOffset - out.offset) return errc::value_out_of_range;
  if (out.data.empty() && !out.fin) return errc::empty_not_allowed;
  return {};
}

std::error_code decode(Reader& r, std::uint64_t, MaxData& out) {
  SRUDP_TRY_VARINT(max, r);
  out.max = max;
  return {};
}

std::error_code decode(Reader& r, std::uint64_t, MaxStreamData& out) {
  SRUDP_TRY_VARINT(stream_id, r);
  SRUDP_TRY_VARINT(max, r);
  out = MaxStreamData{stream_id, max};
  return {};
}

std::error_code decode(Reader& r, std::uint64_t type, MaxStreams& out) {
  SRUDP_TRY_VARINT(max, r);
  if (max > kMaxStreamCount) return errc::value_out_of_range;
  out = MaxStreams{type == static_cast<std::uint64_t>(FrameType::MaxStreamsBidi), max};
  return {};
}

std::error_code decode(Reader& r, std::uint64_t, PathChallenge& out) {
  return r.read_into(out.data);
}

std::error_code decode(Reader& r, std::uint64_t, PathResponse& out) {
  return r.read_into(out.data);
}

std::error_code decode(Reader& r, std::uint64_t, Close& out) {
  SRUDP_TRY_VARINT(error_code, r);
  SRUDP_TRY_VARINT(reason_length, r);
  if (reason_length > kMaxCloseReasonSize) return errc::value_out_of_range;
  if (reason_length > r.remaining()) return errc::length_past_end;
  out = Close{error_code, *r.read_bytes(static_cast<std::size_t>(reason_length))};
  return {};
}

std::error_code decode(Reader&, std::uint64_t, Established&) {
  return {};
}

std::error_code decode(Reader& r, std::uint64_t type, Datagram& out) {
  out.has_length = type == static_cast<std::uint64_t>(FrameType::DatagramWithLength);
  if (!out.has_length) {
    out.data = r.read_rest();
    return {};
  }
  SRUDP_TRY_VARINT(length, r);
  if (length > r.remaining()) return errc::length_past_end;
  out.data = *r.read_bytes(static_cast<std::size_t>(length));
  return {};
}

}  // namespace

template <FrameAlternative T>
std::error_code detail::decode_body(Reader& reader, std::uint64_t type, T& out) {
  return decode(reader, type, out);
}

Result<Frame> decode_frame(Reader& r) {
  Frame out;
  if (const std::error_code ec = visit_next_frame(r, [&](auto& f) { out = std::move(f); })) return ec;
  return out;
}

// ---- Encoding ------------------------------------------------------------------------------------

template <FrameAlternative T>
std::error_code encode_frame(const T& frame, Writer& writer) {
  if (const std::error_code ec = validate(frame)) return ec;
  if (size_of(frame) > writer.remaining()) return errc::buffer_too_small;
  write(frame, writer);
  return {};
}

template <FrameAlternative T>
std::size_t encoded_size(const T& frame) noexcept {
  return size_of(frame);
}

// Every FrameAlternative has its decode_body, encode_frame and encoded_size here.
#define SRUDP_FRAME_FUNCTIONS(T)                                                       \
  template std::error_code detail::decode_body<T>(Reader&, std::uint64_t, T&);        \
  template std::error_code encode_frame<T>(const T&, Writer&);                        \
  template std::size_t encoded_size<T>(const T&) noexcept;
SRUDP_FRAME_FUNCTIONS(Padding)
SRUDP_FRAME_FUNCTIONS(Ping)
SRUDP_FRAME_FUNCTIONS(Ack)
SRUDP_FRAME_FUNCTIONS(ResetStream)
SRUDP_FRAME_FUNCTIONS(StopSending)
SRUDP_FRAME_FUNCTIONS(Stream)
SRUDP_FRAME_FUNCTIONS(MaxData)
SRUDP_FRAME_FUNCTIONS(MaxStreamData)
SRUDP_FRAME_FUNCTIONS(MaxStreams)
SRUDP_FRAME_FUNCTIONS(PathChallenge)
SRUDP_FRAME_FUNCTIONS(PathResponse)
SRUDP_FRAME_FUNCTIONS(Close)
SRUDP_FRAME_FUNCTIONS(Established)
SRUDP_FRAME_FUNCTIONS(Datagram)
#undef SRUDP_FRAME_FUNCTIONS
static_assert(std::variant_size_v<Frame> == 14, "a new frame type needs its SRUDP_FRAME_FUNCTIONS line");

std::error_code encode_frame(const Frame& frame, Writer& writer) {
  return std::visit([&](const auto& f) { return encode_frame(f, writer); }, frame);
}

std::size_t encoded_size(const Frame& frame) noexcept {
  return std::visit([](const auto& f) { return size_of(f); }, frame);
}

FrameType frame_type(const Frame& frame) noexcept {
  struct Type {
    FrameType operator()(const Padding&) const { return FrameType::Padding; }
    FrameType operator()(const Ping&) const { return FrameType::Ping; }
    FrameType operator()(const Ack&) const { return FrameType::Ack; }
    FrameType operator()(const ResetStream&) const { return FrameType::ResetStream; }
    FrameType operator()(const StopSending&) const { return FrameType::StopSending; }
    FrameType operator()(const Stream&) const { return FrameType::Stream; }
    FrameType operator()(const MaxData&) const { return FrameType::MaxData; }
    FrameType operator()(const MaxStreamData&) const { return FrameType::MaxStreamData; }
    FrameType operator()(const MaxStreams& f) const {
      return f.bidirectional ? FrameType::MaxStreamsBidi : FrameType::MaxStreamsUni;
    }
    FrameType operator()(const PathChallenge&) const { return FrameType::PathChallenge; }
    FrameType operator()(const PathResponse&) const { return FrameType::PathResponse; }
    FrameType operator()(const Close&) const { return FrameType::Close; }
    FrameType operator()(const Established&) const { return FrameType::Established; }
    FrameType operator()(const Datagram& f) const {
      return f.has_length ? FrameType::DatagramWithLength : FrameType::Datagram;
    }
  };
  return std::visit(Type{}, frame);
}

bool is_ack_eliciting(const Frame& frame) noexcept {
  return std::visit([](const auto& f) { return is_ack_eliciting(f); }, frame);
}

#undef SRUDP_TRY_VARINT

}  // namespace srudp::wire
