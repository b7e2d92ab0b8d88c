#include "stream/message_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace srudp::stream {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes pattern(std::size_t n, std::uint8_t seed = 0) {
  Bytes bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 13 + seed);
  return bytes;
}

Bytes encode_all(const std::vector<Bytes>& messages) {
  Bytes stream;
  for (const auto& m : messages) EXPECT_FALSE(append_message(m, stream));
  return stream;
}

// Feeds `stream` in chunks whose sizes come from `next_chunk` and collects every message.
template <class ChunkSize>
std::vector<Bytes> decode_all(const Bytes& stream, MessageDecoder& decoder, ChunkSize next_chunk) {
  std::vector<Bytes> out;
  std::span<const std::uint8_t> rest(stream);
  while (!rest.empty()) {
    auto chunk = rest.first(std::min(rest.size(), next_chunk()));
    rest = rest.subspan(chunk.size());
    while (!chunk.empty()) {
      auto used = decoder.feed(chunk);
      if (!used) {
        ADD_FAILURE() << used.error().message();
        return out;
      }
      chunk = chunk.subspan(*used);
      if (decoder.has_message()) {
        out.emplace_back(decoder.message().begin(), decoder.message().end());
        decoder.next();
      }
    }
  }
  EXPECT_EQ(decoder.buffered_bytes(), 0u);  // nothing left half-decoded
  return out;
}

TEST(MessageCodecTest, PrefixIsTheMinimalVarintOfTheLength) {
  EXPECT_EQ(encode_all({pattern(5)}), (Bytes{0x05, 0, 13, 26, 39, 52}));
  const Bytes b64 = encode_all({pattern(64)});
  ASSERT_EQ(b64.size(), 66u);
  EXPECT_EQ(b64[0], 0x40);
  EXPECT_EQ(b64[1], 0x40);
  EXPECT_EQ(Bytes(b64.begin() + 2, b64.end()), pattern(64));
  const Bytes b16k = encode_all({pattern(16384)});
  ASSERT_EQ(b16k.size(), 16388u);
  EXPECT_EQ(Bytes(b16k.begin(), b16k.begin() + 4), (Bytes{0x80, 0x00, 0x40, 0x00}));
  EXPECT_EQ(encode_all({Bytes{}}), Bytes{0x00});  // an empty message is one zero byte

  EXPECT_EQ(encoded_message_size(0), 1u);
  EXPECT_EQ(encoded_message_size(63), 64u);
  EXPECT_EQ(encoded_message_size(64), 66u);
  EXPECT_EQ(encoded_message_size(16384), 16388u);
  auto prefix = encode_message_prefix(wire::varint::kMax);
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->size, 8u);
  EXPECT_EQ(encode_message_prefix(wire::varint::kMax + 1).error(), errc::value_out_of_range);
}

TEST(MessageCodecTest, EncodeIntoASpanChecksTheRoomFirst) {
  const Bytes payload = pattern(100);
  Bytes out(encoded_message_size(payload.size()) - 1, 0xee);
  EXPECT_EQ(encode_message(payload, out).error(), errc::buffer_too_small);
  EXPECT_EQ(out, Bytes(out.size(), 0xee));  // untouched
  out.resize(out.size() + 5, 0xee);
  auto written = encode_message(payload, out);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, 102u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 102), encode_all({payload}));
  EXPECT_EQ(out[102], 0xee);
}

TEST(MessageCodecTest, AWholeMessageIsHandedOutWithoutCopy) {
  const Bytes stream = encode_all({pattern(300)});
  MessageDecoder decoder;
  auto used = decoder.feed(stream);
  ASSERT_TRUE(used);
  EXPECT_EQ(*used, stream.size());
  ASSERT_TRUE(decoder.has_message());
  EXPECT_EQ(decoder.message().data(), stream.data() + 2);
  EXPECT_EQ(Bytes(decoder.message().begin(), decoder.message().end()), pattern(300));
  EXPECT_EQ(decoder.allocated_bytes(), 0u);
}

TEST(MessageCodecTest, FeedStopsAtTheEndOfEachMessage) {
  const Bytes stream = encode_all({pattern(3, 1), pattern(4, 2)});
  MessageDecoder decoder;
  auto used = decoder.feed(stream);
  ASSERT_TRUE(used);
  EXPECT_EQ(*used, 4u);
  ASSERT_TRUE(decoder.has_message());
  EXPECT_EQ(Bytes(decoder.message().begin(), decoder.message().end()), pattern(3, 1));
  // Until next(), the decoder takes nothing more and the message stays put.
  auto again = decoder.feed(std::span(stream).subspan(4));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(Bytes(decoder.message().begin(), decoder.message().end()), pattern(3, 1));
  decoder.next();
  EXPECT_FALSE(decoder.has_message());
  EXPECT_TRUE(decoder.message().empty());
  used = decoder.feed(std::span(stream).subspan(4));
  ASSERT_TRUE(used);
  EXPECT_EQ(*used, 5u);
  EXPECT_EQ(Bytes(decoder.message().begin(), decoder.message().end()), pattern(4, 2));
}

// Sizes on both sides of every varint length boundary, and the empty message.
std::vector<Bytes> boundary_messages() {
  std::vector<Bytes> messages;
  std::uint8_t seed = 0;
  for (std::size_t n : {0u, 1u, 63u, 64u, 0u, 200u, 16383u, 16384u, 5u, 0u}) {
    messages.push_back(pattern(n, seed++));
  }
  return messages;
}

TEST(MessageCodecTest, EverySplitPointNearAMessageBoundaryDecodesTheSameMessages) {
  const auto messages = boundary_messages();
  const Bytes stream = encode_all(messages);
  // Splits within 10 bytes of a message start (inside or around its prefix) or of the end, and a
  // sparse sample in between: every split point would repeat the long payloads' copies 30 000 times.
  std::vector<std::size_t> starts{0};
  for (const auto& m : messages) starts.push_back(starts.back() + encoded_message_size(m.size()));
  std::size_t checked = 0;
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    const bool near_boundary = std::any_of(starts.begin(), starts.end(), [&](std::size_t start) {
      return split + 10 >= start && split <= start + 10;
    });
    if (!near_boundary && split % 257 != 0) continue;
    ++checked;
    MessageDecoder decoder;
    bool first = true;
    const auto got = decode_all(stream, decoder, [&] {
      const std::size_t n = first ? split : stream.size();
      first = false;
      return n;
    });
    ASSERT_EQ(got, messages) << "split at " << split;
  }
  EXPECT_GT(checked, 200u);
}

TEST(MessageCodecTest, OneByteAtATimeAndRandomChunksDecodeTheSameMessages) {
  const auto messages = boundary_messages();
  const Bytes stream = encode_all(messages);
  MessageDecoder bytewise;
  EXPECT_EQ(decode_all(stream, bytewise, [] { return std::size_t{1}; }), messages);
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    std::mt19937_64 rng(seed);
    MessageDecoder decoder;
    const auto got =
        decode_all(stream, decoder, [&] { return static_cast<std::size_t>(1 + rng() % 700); });
    ASSERT_EQ(got, messages) << "seed " << seed;
  }
}

TEST(MessageCodecTest, ALengthAboveTheMaximumIsRejectedBeforeAnyPayload) {
  MessageDecoder decoder(1000);
  const Bytes at_limit = encode_all({pattern(1000)});
  auto used = decoder.feed(at_limit);
  ASSERT_TRUE(used);
  ASSERT_TRUE(decoder.has_message());
  decoder.next();

  // 1001 = 0x43e9: the error comes with the second prefix byte, no payload needed.
  EXPECT_TRUE(decoder.feed(Bytes{0x43}));
  EXPECT_EQ(decoder.feed(Bytes{0xe9}).error(), errc::value_out_of_range);
  // The stream has lost its framing: the error sticks.
  EXPECT_EQ(decoder.feed(encode_all({pattern(1)})).error(), errc::value_out_of_range);
  EXPECT_FALSE(decoder.has_message());
  EXPECT_EQ(decoder.allocated_bytes(), 0u);
}

TEST(MessageCodecTest, ANonMinimalLengthIsRejected) {
  MessageDecoder decoder;
  EXPECT_EQ(decoder.feed(Bytes{0x40, 0x05, 1, 2, 3, 4, 5}).error(), errc::non_minimal_varint);
}

TEST(MessageCodecTest, AHostileLengthCostsOnlyTheBytesThatArrive) {
  // The peer announces 1 GiB (allowed by this maximum) and trickles bytes: memory follows what
  // arrived, never the announcement.
  MessageDecoder decoder(std::size_t{1} << 30);
  auto prefix = encode_message_prefix(std::uint64_t{1} << 30);
  ASSERT_TRUE(prefix);
  ASSERT_TRUE(decoder.feed(prefix->span()));
  EXPECT_EQ(decoder.allocated_bytes(), 0u);
  const Bytes chunk = pattern(100);
  for (int i = 0; i < 100; ++i) {
    auto used = decoder.feed(chunk);
    ASSERT_TRUE(used);
    ASSERT_EQ(*used, chunk.size());
  }
  EXPECT_FALSE(decoder.has_message());
  EXPECT_EQ(decoder.buffered_bytes(), prefix->size + 10000u);
  EXPECT_LE(decoder.allocated_bytes(), 2u * 10000u);
}

TEST(MessageCodecTest, ALargeMessageReleasesItsMemoryAfterwards) {
  const auto big = pattern(200 * 1024);
  const Bytes stream = encode_all({big, pattern(10)});
  MessageDecoder decoder;
  std::span<const std::uint8_t> rest(stream);
  while (!decoder.has_message()) {
    auto used = decoder.feed(rest.first(std::min<std::size_t>(rest.size(), 1000)));
    ASSERT_TRUE(used);
    rest = rest.subspan(*used);
  }
  EXPECT_EQ(Bytes(decoder.message().begin(), decoder.message().end()), big);
  EXPECT_GE(decoder.allocated_bytes(), big.size());
  decoder.next();
  EXPECT_EQ(decoder.allocated_bytes(), 0u);
}

TEST(MessageCodecTest, DecodeMessageLengthChecksPrefixAndLimit) {
  EXPECT_EQ(decode_message_length(Bytes{0x25}, 100).value(), 37u);
  EXPECT_EQ(decode_message_length(Bytes{0x7b, 0xbd}, 15293).value(), 15293u);
  EXPECT_EQ(decode_message_length(Bytes{0x7b, 0xbd}, 15292).error(), errc::value_out_of_range);
  EXPECT_EQ(decode_message_length(Bytes{0x7b}, 20000).error(), errc::truncated);
  EXPECT_EQ(decode_message_length(Bytes{0x40, 0x25}, 100).error(), errc::non_minimal_varint);
  EXPECT_EQ(message_prefix_size(0x25), 1u);
  EXPECT_EQ(message_prefix_size(0x7b), 2u);
  EXPECT_EQ(message_prefix_size(0x9d), 4u);
  EXPECT_EQ(message_prefix_size(0xc2), 8u);
}

}  // namespace
}  // namespace srudp::stream
