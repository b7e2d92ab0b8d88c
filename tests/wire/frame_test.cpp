#include "wire/frame.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/random.hpp"

namespace srudp::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

const Bytes kData{'h', 'e', 'l', 'l', 'o'};
const Bytes kReason{'b', 'y', 'e'};

Bytes encode(const Frame& f) {
  Bytes out(encoded_size(f) + 16, 0xee);
  Writer w(out);
  const std::error_code ec = encode_frame(f, w);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(w.position(), encoded_size(f));
  out.resize(w.position());
  return out;
}

Frame decode_one(const Bytes& in) {
  Reader r(in);
  auto f = decode_frame(r);
  EXPECT_TRUE(f.has_value()) << f.error().message();
  EXPECT_TRUE(r.empty());
  return f ? *f : Frame{Ping{}};
}

std::error_code decode_error(const Bytes& in) {
  Reader r(in);
  auto f = decode_frame(r);
  return f ? std::error_code{} : f.error();
}

Ack make_ack(std::vector<AckRange> ranges, std::uint64_t delay = 0) {
  Ack a;
  a.ack_delay_us = delay;
  a.ranges.assign(ranges.begin(), ranges.end());
  return a;
}

// One valid frame of every kind (and every STREAM/DATAGRAM flavour).
std::vector<Frame> sample_frames() {
  return {
      Padding{1},
      Padding{7},
      Ping{},
      make_ack({{5, 5}}, 25'000),
      make_ack({{90, 100}, {40, 60}, {0, 10}}, 1),
      ResetStream{4, 17, 123456},
      StopSending{8, 3},
      Stream{0, 0, kData, false, true},
      Stream{5, 70000, kData, true, true},
      Stream{9, 1, {}, true, true},
      Stream{12, 0, kData, false, false},
      Stream{13, 64, kData, true, false},
      MaxData{1u << 30},
      MaxStreamData{4, 65536},
      MaxStreams{true, 100},
      MaxStreams{false, kMaxStreamCount},
      PathChallenge{{1, 2, 3, 4, 5, 6, 7, 8}},
      PathResponse{{8, 7, 6, 5, 4, 3, 2, 1}},
      Close{0, {}},
      Close{0x1234, kReason},
      Established{},
      Datagram{kData, true},
      Datagram{{}, true},
      Datagram{kData, false},
  };
}

// Frames whose body runs to the end of the packet (a prefix of them is still a valid frame).
bool runs_to_end(const Frame& f) {
  if (std::holds_alternative<Padding>(f)) return true;
  if (auto* s = std::get_if<Stream>(&f)) return !s->has_length;
  if (auto* d = std::get_if<Datagram>(&f)) return !d->has_length;
  return false;
}

TEST(Frame, EveryTypeRoundTrips) {
  for (const Frame& f : sample_frames()) {
    const Bytes enc = encode(f);
    EXPECT_EQ(decode_one(enc), f) << "index " << f.index();
  }
}

TEST(Frame, ExactEncodings) {
  EXPECT_EQ(encode(Ping{}), Bytes{0x01});
  EXPECT_EQ(encode(Established{}), Bytes{0x1e});
  EXPECT_EQ(encode(Padding{3}), (Bytes{0, 0, 0}));
  EXPECT_EQ(encode(MaxStreams{false, 64}), (Bytes{0x13, 0x40, 0x40}));
  EXPECT_EQ(encode(ResetStream{1, 2, 3}), (Bytes{0x04, 1, 2, 3}));
  EXPECT_EQ(encode(StopSending{1, 2}), (Bytes{0x05, 1, 2}));
  EXPECT_EQ(encode(MaxData{15293}), (Bytes{0x10, 0x7b, 0xbd}));
  EXPECT_EQ(encode(MaxStreamData{1, 2}), (Bytes{0x11, 1, 2}));
  EXPECT_EQ(encode(PathChallenge{{1, 2, 3, 4, 5, 6, 7, 8}}), (Bytes{0x1a, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(encode(PathResponse{{1, 2, 3, 4, 5, 6, 7, 8}}), (Bytes{0x1b, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(encode(Close{7, kReason}), (Bytes{0x1c, 7, 3, 'b', 'y', 'e'}));
  EXPECT_EQ(encode(Datagram{kData, true}), (Bytes{0x31, 5, 'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(encode(Datagram{kData, false}), (Bytes{0x30, 'h', 'e', 'l', 'l', 'o'}));
  // STREAM type bits: OFF only when the offset is non-zero, LEN when has_length, FIN.
  EXPECT_EQ(encode(Stream{4, 0, kData, false, true}), (Bytes{0x0a, 4, 5, 'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(encode(Stream{4, 9, kData, true, true}),
            (Bytes{0x0f, 4, 9, 5, 'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(encode(Stream{4, 9, kData, false, false}), (Bytes{0x0c, 4, 9, 'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(encode(Stream{4, 0, {}, true, false}), (Bytes{0x09, 4}));
}

TEST(Frame, AckEncodingFollowsRfc9000Section19_3) {
  // Ranges [90,100], [40,60], [0,10]: first range 10, then gap 90-60-2 = 28, length 20,
  // gap 40-10-2 = 28, length 10.
  const Bytes enc = encode(make_ack({{90, 100}, {40, 60}, {0, 10}}, 300));
  EXPECT_EQ(enc, (Bytes{0x02, 0x40, 100, 0x41, 0x2c, 2, 10, 28, 20, 28, 10}));
  const auto ack = std::get<Ack>(decode_one(enc));
  EXPECT_EQ(ack.largest(), 100u);
  EXPECT_EQ(ack.ack_delay_us, 300u);
  ASSERT_EQ(ack.ranges.size(), 3u);
  EXPECT_EQ(ack.ranges[2], (AckRange{0, 10}));
}

TEST(Frame, AckRangesGoingBelowZeroAreRejected) {
  // first range larger than largest
  EXPECT_EQ(decode_error({0x02, 5, 0, 0, 6}), errc::value_out_of_range);
  EXPECT_TRUE(decode_error({0x02, 5, 0, 0, 5}) == std::error_code{});
  // largest 10, first 2 -> smallest 8; gap 7 -> next largest 8-7-2 = -1
  EXPECT_EQ(decode_error({0x02, 10, 0, 1, 2, 7, 0}), errc::value_out_of_range);
  // gap 6 -> next largest 0, length 1 -> smallest -1
  EXPECT_EQ(decode_error({0x02, 10, 0, 1, 2, 6, 1}), errc::value_out_of_range);
  EXPECT_TRUE(decode_error({0x02, 10, 0, 1, 2, 6, 0}) == std::error_code{});
  // previous smallest 1: no room for any gap
  EXPECT_EQ(decode_error({0x02, 1, 0, 1, 0, 0, 0}), errc::value_out_of_range);
}

std::vector<AckRange> every_other_packet(std::size_t count, std::uint64_t top) {
  std::vector<AckRange> ranges;
  for (std::size_t i = 0; i < count; ++i) ranges.push_back({top - 2 * i, top - 2 * i});
  return ranges;
}

TEST(Frame, AckRangeCountLimit) {
  // 256 ranges decode; 257 do not.
  const Bytes max_ack = encode(make_ack(every_other_packet(kMaxAckRanges, 10'000)));
  EXPECT_EQ(std::get<Ack>(decode_one(max_ack)).ranges.size(), kMaxAckRanges);
  Bytes too_many{0x02, 0x67, 0x10, 0, 0x41, 0x00, 0};  // count 256
  for (int i = 0; i < 256; ++i) {
    too_many.push_back(0);
    too_many.push_back(0);
  }
  EXPECT_EQ(decode_error(too_many), errc::value_out_of_range);
  // A huge count with little data is rejected before anything is allocated.
  EXPECT_EQ(decode_error({0x02, 0x67, 0x10, 0, 0x40, 0xff, 0}), errc::truncated);
  EXPECT_EQ(decode_error({0x02, 0x67, 0x10, 0, 0xbf, 0xff, 0xff, 0xff, 0}), errc::value_out_of_range);
}

TEST(Frame, AckEncoderWritesOnlyTheNewestRanges) {
  const Ack big = make_ack(every_other_packet(300, 100'000));
  const Bytes enc = encode(big);
  const auto ack = std::get<Ack>(decode_one(enc));
  ASSERT_EQ(ack.ranges.size(), kMaxAckRanges);
  EXPECT_EQ(ack.ranges.front(), big.ranges.front());
  EXPECT_EQ(ack.ranges.back(), big.ranges[kMaxAckRanges - 1]);
}

TEST(Frame, AckEncoderRejectsInvalidRanges) {
  std::array<std::uint8_t, 64> buf{};
  auto err = [&](const Ack& a) {
    Writer w(buf);
    auto ec = encode_frame(a, w);
    EXPECT_EQ(w.position(), ec ? 0u : encoded_size(a));
    return ec;
  };
  EXPECT_EQ(err(make_ack({})), errc::invalid_argument);
  EXPECT_EQ(err(make_ack({{5, 4}})), errc::invalid_argument);               // smallest > largest
  EXPECT_EQ(err(make_ack({{10, 12}, {5, 9}})), errc::invalid_argument);     // adjacent: one range
  EXPECT_EQ(err(make_ack({{10, 12}, {5, 8}})), std::error_code{});          // one packet missing
  EXPECT_EQ(err(make_ack({{1, 2}, {5, 8}})), errc::invalid_argument);       // ascending
  EXPECT_EQ(err(make_ack({{0, varint::kMax + 1}})), errc::value_out_of_range);
  EXPECT_EQ(err(make_ack({{0, 1}}, varint::kMax + 1)), errc::value_out_of_range);
}

TEST(Frame, PaddingCollapsesConsecutiveZeros) {
  const Bytes in{0, 0, 0, 0x01, 0, 0};
  std::vector<Frame> frames;
  ASSERT_EQ(parse_frames(in, [&](Frame&& f) { frames.push_back(std::move(f)); }), std::error_code{});
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], Frame{Padding{3}});
  EXPECT_EQ(frames[1], Frame{Ping{}});
  EXPECT_EQ(frames[2], Frame{Padding{2}});
}

TEST(Frame, StreamDecodingIsZeroCopy) {
  const Bytes in{0x0e, 4, 9, 5, 'h', 'e', 'l', 'l', 'o', 0x01};
  Reader r(in);
  auto f = decode_frame(r);
  ASSERT_TRUE(f.has_value());
  const auto& s = std::get<Stream>(*f);
  EXPECT_EQ(s.data.data(), in.data() + 4);
  EXPECT_EQ(s.offset, 9u);
  EXPECT_FALSE(s.fin);
  EXPECT_EQ(r.position(), 9u);  // the PING after it is still to be read
}

TEST(Frame, StreamWithoutLengthRunsToEndOfPacket) {
  const Bytes in{0x08, 4, 'a', 'b', 0x01, 0x01};
  const auto s = std::get<Stream>(decode_one(in));
  EXPECT_EQ(s.data.size(), 4u);
  EXPECT_FALSE(s.has_length);
}

TEST(Frame, StreamWithNoDataAndNoFinIsRejected) {
  EXPECT_EQ(decode_error({0x0a, 4, 0}), errc::empty_not_allowed);
  EXPECT_EQ(decode_error({0x08, 4}), errc::empty_not_allowed);
  EXPECT_EQ(decode_error({0x0c, 4, 9}), errc::empty_not_allowed);
  EXPECT_EQ(decode_error({0x0b, 4, 0}), std::error_code{});  // FIN alone is fine
  std::array<std::uint8_t, 16> buf{};
  Writer w(buf);
  EXPECT_EQ(encode_frame(Stream{4, 0, {}, false, true}, w), errc::empty_not_allowed);
}

TEST(Frame, StreamOffsetPlusLengthLimit) {
  const Bytes three{'a', 'b', 'c'};
  const Stream edge{4, varint::kMax - 3, three, false, true};
  EXPECT_EQ(decode_one(encode(edge)), Frame{edge});
  Bytes over = encode(edge);
  over.push_back('d');
  over[10] = 4;  // type, id, 8-byte offset, then the length byte
  EXPECT_EQ(decode_error(over), errc::value_out_of_range);
  std::array<std::uint8_t, 32> buf{};
  Writer w(buf);
  EXPECT_EQ(encode_frame(Stream{4, varint::kMax - 2, three, false, true}, w), errc::value_out_of_range);
  EXPECT_EQ(encode_frame(Stream{4, varint::kMax, {}, true, true}, w), std::error_code{});
  EXPECT_EQ(encode_frame(Stream{varint::kMax + 1, 0, three, false, true}, w), errc::value_out_of_range);
}

TEST(Frame, LengthPastEnd) {
  EXPECT_EQ(decode_error({0x0a, 4, 6, 'h', 'e', 'l', 'l', 'o'}), errc::length_past_end);
  EXPECT_EQ(decode_error({0x31, 6, 'h', 'e', 'l', 'l', 'o'}), errc::length_past_end);
  EXPECT_EQ(decode_error({0x1c, 0, 4, 'b', 'y', 'e'}), errc::length_past_end);
  EXPECT_EQ(decode_error({0x31, 0x80, 0x01, 0x00, 0x00}), errc::length_past_end);
}

TEST(Frame, CloseReasonLimit) {
  const Bytes reason(kMaxCloseReasonSize, 'x');
  EXPECT_EQ(decode_one(encode(Close{1, reason})), (Frame{Close{1, reason}}));
  const Bytes too_long(kMaxCloseReasonSize + 1, 'x');
  std::vector<std::uint8_t> buf(2048);
  Writer w(buf);
  EXPECT_EQ(encode_frame(Close{1, too_long}, w), errc::value_out_of_range);
  Bytes in{0x1c, 1, 0x44, 0x01};  // reason length 1025
  in.insert(in.end(), too_long.begin(), too_long.end());
  EXPECT_EQ(decode_error(in), errc::value_out_of_range);
}

TEST(Frame, MaxStreamsLimit) {
  EXPECT_EQ(decode_one(encode(MaxStreams{true, kMaxStreamCount})),
            (Frame{MaxStreams{true, kMaxStreamCount}}));
  // 2^60 + 1 as an 8-byte varint
  EXPECT_EQ(decode_error({0x12, 0xd0, 0, 0, 0, 0, 0, 0, 1}), errc::value_out_of_range);
  EXPECT_EQ(decode_error({0x13, 0xd0, 0, 0, 0, 0, 0, 0, 1}), errc::value_out_of_range);
  std::array<std::uint8_t, 16> buf{};
  Writer w(buf);
  EXPECT_EQ(encode_frame(MaxStreams{false, kMaxStreamCount + 1}, w), errc::value_out_of_range);
}

TEST(Frame, HugeValuesAtTheVarintLimit) {
  const Frame frames[] = {MaxData{varint::kMax}, MaxStreamData{varint::kMax, varint::kMax},
                          ResetStream{varint::kMax, varint::kMax, varint::kMax},
                          StopSending{varint::kMax, varint::kMax}, Close{varint::kMax, {}},
                          make_ack({{varint::kMax, varint::kMax}}, varint::kMax)};
  for (const Frame& f : frames) EXPECT_EQ(decode_one(encode(f)), f);
  std::array<std::uint8_t, 64> buf{};
  for (const Frame& f : {Frame{MaxData{varint::kMax + 1}}, Frame{MaxStreamData{0, varint::kMax + 1}},
                         Frame{ResetStream{0, 0, varint::kMax + 1}}, Frame{StopSending{0, UINT64_MAX}},
                         Frame{Close{varint::kMax + 1, {}}}}) {
    Writer w(buf);
    EXPECT_EQ(encode_frame(f, w), errc::value_out_of_range);
    EXPECT_EQ(w.position(), 0u);
  }
}

TEST(Frame, UnknownTypes) {
  for (int t : {0x03, 0x06, 0x07, 0x14, 0x18, 0x19, 0x1d, 0x1f, 0x20, 0x2f, 0x32, 0x3f}) {
    EXPECT_EQ(decode_error({static_cast<std::uint8_t>(t), 0, 0, 0}), errc::unknown_frame_type) << t;
  }
  EXPECT_EQ(decode_error({0x40, 0x40}), errc::unknown_frame_type);  // type 64
  EXPECT_EQ(decode_error({0x40, 0x01}), errc::non_minimal_varint);  // PING, overlong
  EXPECT_EQ(decode_error({0x02, 0x40, 0x05, 0, 0, 0}), errc::non_minimal_varint);
}

TEST(Frame, TruncatedAtEveryByte) {
  for (const Frame& f : sample_frames()) {
    if (runs_to_end(f)) continue;
    const Bytes enc = encode(f);
    for (std::size_t len = 0; len < enc.size(); ++len) {
      Reader r(std::span<const std::uint8_t>(enc).first(len));
      auto d = decode_frame(r);
      ASSERT_FALSE(d.has_value()) << "frame " << f.index() << " len " << len;
      const auto e = d.error();
      EXPECT_TRUE(e == errc::truncated || e == errc::length_past_end) << e.message();
    }
  }
}

TEST(Frame, EncodeIntoSmallBufferWritesNothing) {
  for (const Frame& f : sample_frames()) {
    const std::size_t size = encoded_size(f);
    Bytes buf(size - 1);
    Writer w(buf);
    EXPECT_EQ(encode_frame(f, w), errc::buffer_too_small);
    EXPECT_EQ(w.position(), 0u);
  }
  Bytes buf(4);
  Writer w(buf);
  EXPECT_EQ(encode_frame(Padding{0}, w), errc::empty_not_allowed);
}

TEST(Frame, AckElicitingAndTypes) {
  EXPECT_FALSE(is_ack_eliciting(make_ack({{1, 1}})));
  EXPECT_FALSE(is_ack_eliciting(Padding{1}));
  EXPECT_FALSE(is_ack_eliciting(Close{}));
  EXPECT_TRUE(is_ack_eliciting(Ping{}));
  EXPECT_TRUE(is_ack_eliciting(Stream{0, 0, kData, false, true}));
  EXPECT_TRUE(is_ack_eliciting(Datagram{kData, true}));
  EXPECT_TRUE(is_ack_eliciting(Established{}));
  EXPECT_TRUE(is_ack_eliciting(PathResponse{}));
  EXPECT_EQ(frame_type(Stream{0, 5, kData, true, false}), FrameType::Stream);
  EXPECT_EQ(frame_type(MaxStreams{false, 1}), FrameType::MaxStreamsUni);
  EXPECT_EQ(frame_type(Datagram{kData, false}), FrameType::Datagram);
  for (const Frame& f : sample_frames()) {
    const Bytes enc = encode(f);
    if (std::holds_alternative<Stream>(f)) {
      EXPECT_EQ(enc[0] & 0xf8, 0x08);
    } else {
      EXPECT_EQ(enc[0], static_cast<std::uint8_t>(frame_type(f)));
    }
  }
}

TEST(ParseFrames, EmptyPayloadIsRejected) {
  int calls = 0;
  EXPECT_EQ(parse_frames({}, [&](Frame&&) { ++calls; }), errc::empty_not_allowed);
  EXPECT_EQ(calls, 0);
}

TEST(ParseFrames, ParsesAPacketInOrder) {
  Bytes payload;
  const std::vector<Frame> frames = {make_ack({{3, 9}}, 10), Stream{4, 0, kData, false, true},
                                     Datagram{kData, true}, Ping{}, Stream{8, 100, kData, true, false}};
  for (const Frame& f : frames) {
    const Bytes enc = encode(f);
    payload.insert(payload.end(), enc.begin(), enc.end());
  }
  std::vector<Frame> seen;
  ASSERT_EQ(parse_frames(payload, [&](Frame&& f) { seen.push_back(std::move(f)); }), std::error_code{});
  EXPECT_EQ(seen, frames);
}

TEST(ParseFrames, StopsAtFirstErrorOrWhenTheCallbackSaysSo) {
  const Bytes payload{0x01, 0x01, 0x03, 0x01};
  int calls = 0;
  EXPECT_EQ(parse_frames(payload, [&](Frame&&) { ++calls; }), errc::unknown_frame_type);
  EXPECT_EQ(calls, 2);
  calls = 0;
  const Bytes pings{0x01, 0x01, 0x01};
  auto stop_on_second = [&](Frame&&) -> std::error_code {
    return ++calls == 2 ? make_error_code(errc::protocol_violation) : std::error_code{};
  };
  EXPECT_EQ(parse_frames(pings, stop_on_second), errc::protocol_violation);
  EXPECT_EQ(calls, 2);
}

// Every prefix of a valid payload, and seeded random mutations of it, decode without crashing; a
// decoded frame re-encodes to the same value, and to the same bytes when the sizes match.
TEST(FrameRobustness, PrefixesAndSeededMutations) {
  Bytes payload;
  for (const Frame& f : sample_frames()) {
    if (runs_to_end(f)) continue;
    const Bytes enc = encode(f);
    payload.insert(payload.end(), enc.begin(), enc.end());
  }
  auto check = [](std::span<const std::uint8_t> in) {
    Reader r(in);
    while (!r.empty()) {
      const std::size_t start = r.position();
      auto f = decode_frame(r);
      if (!f) return;
      const auto consumed = in.subspan(start, r.position() - start);
      Bytes re(encoded_size(*f));
      Writer w(re);
      ASSERT_EQ(encode_frame(*f, w), std::error_code{});
      Reader r2(re);
      auto again = decode_frame(r2);
      ASSERT_TRUE(again.has_value());
      EXPECT_EQ(*again, *f);
      if (re.size() == consumed.size()) {
        EXPECT_TRUE(std::equal(re.begin(), re.end(), consumed.begin()));
      }
    }
  };
  for (std::size_t len = 0; len <= payload.size(); ++len) check(std::span(payload).first(len));
  SeededRandom rng(7);
  for (int i = 0; i < 5000; ++i) {
    Bytes m = payload;
    const int flips = 1 + static_cast<int>(rng.uniform(6));
    for (int f = 0; f < flips; ++f) m[rng.uniform(m.size())] = static_cast<std::uint8_t>(rng.uniform(256));
    check(m);
    (void)parse_frames(m, [](Frame&&) {});
  }
}

}  // namespace
}  // namespace srudp::wire
