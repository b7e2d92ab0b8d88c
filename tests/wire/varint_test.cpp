#include "wire/varint.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace srudp::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::uint64_t decode_ok(const Bytes& in, std::size_t expected_size) {
  auto d = varint::decode(in);
  EXPECT_TRUE(d.has_value()) << d.error().message();
  if (!d) return 0;
  EXPECT_EQ(d->size, expected_size);
  return d->value;
}

Bytes encode_ok(std::uint64_t v) {
  Bytes out(8, 0xee);
  auto n = varint::encode(v, out);
  EXPECT_TRUE(n.has_value());
  out.resize(n ? *n : 0);
  return out;
}

// RFC 9000 Appendix A.1 (sample variable-length integer decodings).
TEST(Varint, Rfc9000SampleDecodings) {
  EXPECT_EQ(decode_ok({0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}, 8), 151288809941952652u);
  EXPECT_EQ(decode_ok({0x9d, 0x7f, 0x3e, 0x7d}, 4), 494878333u);
  EXPECT_EQ(decode_ok({0x7b, 0xbd}, 2), 15293u);
  EXPECT_EQ(decode_ok({0x25}, 1), 37u);
  // The RFC notes 0x4025 also means 37; srudp insists on the shortest form.
  EXPECT_EQ(varint::decode(Bytes{0x40, 0x25}).error(), errc::non_minimal_varint);
}

TEST(Varint, Rfc9000SampleEncodings) {
  EXPECT_EQ(encode_ok(151288809941952652u), (Bytes{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}));
  EXPECT_EQ(encode_ok(494878333u), (Bytes{0x9d, 0x7f, 0x3e, 0x7d}));
  EXPECT_EQ(encode_ok(15293u), (Bytes{0x7b, 0xbd}));
  EXPECT_EQ(encode_ok(37u), (Bytes{0x25}));
}

TEST(Varint, EncodedSizeBoundaries) {
  EXPECT_EQ(varint::encoded_size(0), 1u);
  EXPECT_EQ(varint::encoded_size(63), 1u);
  EXPECT_EQ(varint::encoded_size(64), 2u);
  EXPECT_EQ(varint::encoded_size(16383), 2u);
  EXPECT_EQ(varint::encoded_size(16384), 4u);
  EXPECT_EQ(varint::encoded_size((1u << 30) - 1), 4u);
  EXPECT_EQ(varint::encoded_size(1u << 30), 8u);
  EXPECT_EQ(varint::encoded_size(varint::kMax), 8u);
  EXPECT_EQ(varint::encoded_size(varint::kMax + 1), 0u);
  EXPECT_EQ(varint::encoded_size(UINT64_MAX), 0u);
}

TEST(Varint, RoundTripsBoundaryValues) {
  const std::uint64_t values[] = {0,           1,           63,          64,
                                  16383,       16384,       (1u << 30) - 1, 1u << 30,
                                  varint::kMax - 1, varint::kMax};
  for (std::uint64_t v : values) {
    const Bytes enc = encode_ok(v);
    EXPECT_EQ(enc.size(), varint::encoded_size(v)) << v;
    EXPECT_EQ(decode_ok(enc, enc.size()), v);
  }
  EXPECT_EQ(encode_ok(varint::kMax), Bytes(8, 0xff));
}

TEST(Varint, EncodingOutOfRangeFails) {
  std::array<std::uint8_t, 8> out{};
  EXPECT_EQ(varint::encode(varint::kMax + 1, out).error(), errc::value_out_of_range);
  EXPECT_EQ(varint::encode(UINT64_MAX, out).error(), errc::value_out_of_range);
}

TEST(Varint, EncodingIntoSmallBufferFailsWithoutWriting) {
  std::array<std::uint8_t, 3> out{0xaa, 0xaa, 0xaa};
  EXPECT_EQ(varint::encode(16384, out).error(), errc::buffer_too_small);
  EXPECT_EQ(out, (std::array<std::uint8_t, 3>{0xaa, 0xaa, 0xaa}));
  EXPECT_EQ(varint::encode(1, std::span<std::uint8_t>{}).error(), errc::buffer_too_small);
}

TEST(Varint, RejectsNonMinimalEncodingsOfEveryLength) {
  EXPECT_EQ(varint::decode(Bytes{0x40, 0x00}).error(), errc::non_minimal_varint);
  EXPECT_EQ(varint::decode(Bytes{0x40, 0x3f}).error(), errc::non_minimal_varint);
  EXPECT_EQ(varint::decode(Bytes{0x80, 0x00, 0x3f, 0xff}).error(), errc::non_minimal_varint);
  EXPECT_EQ(varint::decode(Bytes{0xc0, 0, 0, 0, 0x3f, 0xff, 0xff, 0xff}).error(),
            errc::non_minimal_varint);
  EXPECT_EQ(varint::decode(Bytes{0xc0, 0, 0, 0, 0, 0, 0, 0}).error(), errc::non_minimal_varint);
  // The smallest value of each length is accepted.
  EXPECT_EQ(decode_ok({0x40, 0x40}, 2), 64u);
  EXPECT_EQ(decode_ok({0x80, 0x00, 0x40, 0x00}, 4), 16384u);
  EXPECT_EQ(decode_ok({0xc0, 0, 0, 0, 0x40, 0, 0, 0}, 8), 1u << 30);
}

TEST(Varint, EveryTwoByteEncodingIsAcceptedExactlyWhenMinimal) {
  for (unsigned v = 0; v < (1u << 14); ++v) {
    const Bytes in{static_cast<std::uint8_t>(0x40 | (v >> 8)), static_cast<std::uint8_t>(v)};
    auto d = varint::decode(in);
    if (v < 64) {
      EXPECT_EQ(d.error(), errc::non_minimal_varint) << v;
    } else {
      ASSERT_TRUE(d.has_value()) << v;
      EXPECT_EQ(d->value, v);
    }
  }
}

TEST(Varint, TruncatedAtEveryByte) {
  EXPECT_EQ(varint::decode(Bytes{}).error(), errc::truncated);
  for (std::uint64_t v : {std::uint64_t{15293}, std::uint64_t{494878333}, varint::kMax}) {
    const Bytes enc = encode_ok(v);
    for (std::size_t len = 0; len < enc.size(); ++len) {
      EXPECT_EQ(varint::decode(std::span(enc).first(len)).error(), errc::truncated) << v << " " << len;
    }
  }
}

TEST(Varint, DecodeIgnoresTrailingBytes) {
  auto d = varint::decode(Bytes{0x7b, 0xbd, 0xff, 0xff});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->value, 15293u);
  EXPECT_EQ(d->size, 2u);
}

}  // namespace
}  // namespace srudp::wire
