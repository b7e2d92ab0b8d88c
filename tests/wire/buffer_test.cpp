#include "wire/buffer.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace srudp::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(Reader, ReadsBigEndianIntegers) {
  const Bytes in{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
                 0x0c, 0x0d, 0x0e, 0x0f};
  Reader r(in);
  EXPECT_EQ(*r.read_u8(), 0x01u);
  EXPECT_EQ(*r.read_u16(), 0x0203u);
  EXPECT_EQ(*r.read_u32(), 0x04050607u);
  EXPECT_EQ(*r.read_u64(), 0x08090a0b0c0d0e0full);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.position(), in.size());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Reader, ReadPastEndFailsAndKeepsPosition) {
  const Bytes in{0xaa, 0xbb, 0xcc};
  Reader r(in);
  ASSERT_TRUE(r.read_u8().has_value());
  EXPECT_EQ(r.read_u32().error(), errc::truncated);
  EXPECT_EQ(r.read_u64().error(), errc::truncated);
  EXPECT_EQ(r.read_bytes(3).error(), errc::truncated);
  EXPECT_EQ(r.skip(3), errc::truncated);
  EXPECT_EQ(r.read_uint(4).error(), errc::truncated);
  EXPECT_EQ(r.position(), 1u);
  EXPECT_EQ(*r.read_u16(), 0xbbccu);
  EXPECT_EQ(r.read_u8().error(), errc::truncated);
  EXPECT_EQ(r.peek_u8().error(), errc::truncated);
  EXPECT_EQ(r.read_u16().error(), errc::truncated);
}

TEST(Reader, ReadsVarints) {
  const Bytes in{0x25, 0x7b, 0xbd, 0x40, 0x01, 0x80};
  Reader r(in);
  EXPECT_EQ(*r.read_varint(), 37u);
  EXPECT_EQ(*r.read_varint(), 15293u);
  EXPECT_EQ(r.read_varint().error(), errc::non_minimal_varint);
  EXPECT_EQ(r.position(), 3u);  // unchanged by the failed read
  ASSERT_EQ(r.skip(2), std::error_code{});
  EXPECT_EQ(r.read_varint().error(), errc::truncated);
  EXPECT_EQ(r.position(), 5u);
}

TEST(Reader, ReadBytesIsZeroCopy) {
  const Bytes in{1, 2, 3, 4, 5};
  Reader r(in);
  ASSERT_EQ(r.skip(1), std::error_code{});
  auto b = r.read_bytes(3);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->data(), in.data() + 1);
  EXPECT_EQ(b->size(), 3u);
  EXPECT_EQ(r.consumed().size(), 4u);
  EXPECT_EQ(r.rest().data(), in.data() + 4);
  auto none = r.read_bytes(0);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(*r.peek_u8(), 5u);
  auto rest = r.read_rest();
  EXPECT_EQ(rest.size(), 1u);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.read_rest().empty());
}

TEST(Reader, ReadUintOfEachWidth) {
  const Bytes in{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
  for (std::size_t n = 1; n <= 8; ++n) {
    Reader r(in);
    std::uint64_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) expected = (expected << 8) | in[i];
    EXPECT_EQ(*r.read_uint(n), expected);
    EXPECT_EQ(r.position(), n);
  }
  Reader r(in);
  EXPECT_EQ(r.read_uint(0).error(), errc::invalid_argument);
  EXPECT_EQ(r.read_uint(9).error(), errc::invalid_argument);
}

TEST(Reader, ReadInto) {
  const Bytes in{9, 8, 7};
  Reader r(in);
  std::array<std::uint8_t, 2> two{};
  EXPECT_EQ(r.read_into(two), std::error_code{});
  EXPECT_EQ(two, (std::array<std::uint8_t, 2>{9, 8}));
  EXPECT_EQ(r.read_into(two), errc::truncated);
  EXPECT_EQ(r.position(), 2u);
}

TEST(Reader, EmptyInput) {
  Reader r(std::span<const std::uint8_t>{});
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.read_u8().error(), errc::truncated);
  EXPECT_EQ(r.read_varint().error(), errc::truncated);
  EXPECT_TRUE(r.read_bytes(0).has_value());
}

TEST(Writer, WritesBigEndianIntegersAndVarints) {
  std::array<std::uint8_t, 32> buf{};
  Writer w(buf);
  EXPECT_EQ(w.write_u8(0x01), std::error_code{});
  EXPECT_EQ(w.write_u16(0x0203), std::error_code{});
  EXPECT_EQ(w.write_u32(0x04050607), std::error_code{});
  EXPECT_EQ(w.write_u64(0x08090a0b0c0d0e0full), std::error_code{});
  EXPECT_EQ(w.write_varint(15293), std::error_code{});
  EXPECT_EQ(w.write_uint(0x0a0b0c, 3), std::error_code{});
  EXPECT_EQ(w.write_bytes(Bytes{0xde, 0xad}), std::error_code{});
  EXPECT_EQ(w.write_zeros(2), std::error_code{});
  const Bytes expected{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
                       0x0d, 0x0e, 0x0f, 0x7b, 0xbd, 0x0a, 0x0b, 0x0c, 0xde, 0xad, 0x00, 0x00};
  EXPECT_EQ(w.position(), expected.size());
  EXPECT_EQ(Bytes(w.written().begin(), w.written().end()), expected);
  EXPECT_EQ(w.remaining(), buf.size() - expected.size());
}

TEST(Writer, WriteThatDoesNotFitWritesNothing) {
  std::array<std::uint8_t, 3> buf{0xaa, 0xaa, 0xaa};
  Writer w(buf);
  ASSERT_EQ(w.write_u8(1), std::error_code{});
  EXPECT_EQ(w.write_u32(0), errc::buffer_too_small);
  EXPECT_EQ(w.write_u64(0), errc::buffer_too_small);
  EXPECT_EQ(w.write_varint(16384), errc::buffer_too_small);
  EXPECT_EQ(w.write_bytes(Bytes{1, 2, 3}), errc::buffer_too_small);
  EXPECT_EQ(w.write_zeros(3), errc::buffer_too_small);
  EXPECT_EQ(w.write_uint(0, 3), errc::buffer_too_small);
  EXPECT_EQ(w.position(), 1u);
  EXPECT_EQ(buf, (std::array<std::uint8_t, 3>{1, 0xaa, 0xaa}));
  EXPECT_EQ(w.write_u16(0x0203), std::error_code{});
  EXPECT_EQ(w.write_u8(0), errc::buffer_too_small);
  EXPECT_EQ(w.write_bytes(Bytes{}), std::error_code{});
}

TEST(Writer, RejectsValuesThatCannotBeEncoded) {
  std::array<std::uint8_t, 16> buf{};
  Writer w(buf);
  EXPECT_EQ(w.write_varint(varint::kMax + 1), errc::value_out_of_range);
  EXPECT_EQ(w.write_uint(0x100, 1), errc::value_out_of_range);
  EXPECT_EQ(w.write_uint(0x10000, 2), errc::value_out_of_range);
  EXPECT_EQ(w.write_uint(1, 0), errc::invalid_argument);
  EXPECT_EQ(w.write_uint(1, 9), errc::invalid_argument);
  EXPECT_EQ(w.position(), 0u);
  EXPECT_EQ(w.write_uint(UINT64_MAX, 8), std::error_code{});
}

TEST(ReaderWriter, RoundTrip) {
  std::array<std::uint8_t, 64> buf{};
  Writer w(buf);
  const std::uint64_t values[] = {0, 63, 64, 16383, 16384, varint::kMax};
  for (auto v : values) ASSERT_EQ(w.write_varint(v), std::error_code{});
  ASSERT_EQ(w.write_u32(0xdeadbeef), std::error_code{});
  Reader r(w.written());
  for (auto v : values) EXPECT_EQ(*r.read_varint(), v);
  EXPECT_EQ(*r.read_u32(), 0xdeadbeefu);
  EXPECT_TRUE(r.empty());
}

}  // namespace
}  // namespace srudp::wire
