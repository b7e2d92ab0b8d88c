#include "stream/send_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

namespace srudp::stream {
namespace {

constexpr std::uint64_t kNoLimit = kMaxStreamOffset;

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed = 0) {
  std::vector<std::uint8_t> bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + seed);
  return bytes;
}

std::vector<std::uint8_t> bytes_of(const SendBuffer::Chunk& chunk) {
  return {chunk.data.begin(), chunk.data.end()};
}

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t from, std::size_t n) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from),
          v.begin() + static_cast<std::ptrdiff_t>(from + n)};
}

TEST(SendBufferTest, WriteTakesOnlyTheFreeCapacity) {
  SendBuffer buffer(100);
  const auto data = pattern(150);
  EXPECT_EQ(buffer.writable(), 100u);
  EXPECT_EQ(buffer.write(data), 100u);
  EXPECT_EQ(buffer.writable(), 0u);
  EXPECT_EQ(buffer.write(data), 0u);
  const auto chunk = buffer.next_chunk(40, kNoLimit);
  ASSERT_TRUE(chunk);
  buffer.on_acked(chunk->offset, chunk->data.size(), chunk->fin);
  EXPECT_EQ(buffer.writable(), 40u);  // acknowledged bytes free capacity at once
  EXPECT_EQ(buffer.write(std::span(data).subspan(100)), 40u);
  EXPECT_EQ(buffer.write_offset(), 140u);
}

// The unsent limit bounds what waits to be sent, not what is in flight; a writer is told to go on
// once half of it went out.
TEST(SendBufferTest, UnsentLimitBoundsTheQueueAheadOfTheConnectionButNotTheFlight) {
  SendBuffer buffer(1000);
  buffer.limit_unsent(100);
  const auto data = pattern(1000);
  EXPECT_EQ(buffer.writable(), 100u);
  ASSERT_EQ(buffer.write(data), 100u);
  EXPECT_EQ(buffer.writable(), 0u);
  EXPECT_FALSE(buffer.writer_may_resume());
  ASSERT_TRUE(buffer.next_chunk(40, kNoLimit));  // 60 still unsent: more than half the limit
  EXPECT_EQ(buffer.writable(), 40u);
  EXPECT_FALSE(buffer.writer_may_resume());
  ASSERT_TRUE(buffer.next_chunk(10, kNoLimit));  // 50 unsent
  EXPECT_TRUE(buffer.writer_may_resume());
  EXPECT_EQ(buffer.write(std::span(data).subspan(100)), 50u);
  // Nothing acknowledged: 150 bytes held, 50 of them in flight. Sending everything lets the
  // writer fill the limit again, up to the capacity, which still counts what is in flight.
  while (buffer.next_chunk(100, kNoLimit)) {
  }
  EXPECT_EQ(buffer.bytes_in_flight(), 150u);
  EXPECT_EQ(buffer.writable(), 100u);
  std::uint64_t written = 150;
  while (written < 1000) {
    const std::size_t n = buffer.write(std::span(data).subspan(written));
    ASSERT_GT(n, 0u);
    written += n;
    while (buffer.next_chunk(100, kNoLimit)) {
    }
  }
  EXPECT_EQ(buffer.bytes_in_flight(), 1000u);
  EXPECT_EQ(buffer.writable(), 0u);  // the capacity is what stops it now
  EXPECT_FALSE(buffer.writer_may_resume());
  buffer.on_acked(0, 1, false);
  EXPECT_TRUE(buffer.writer_may_resume());  // any room under the capacity: nothing is waiting unsent
}

TEST(SendBufferTest, NewDataComesOutInOrderWithinMaxBytes) {
  SendBuffer buffer(1000);
  const auto data = pattern(250);
  ASSERT_EQ(buffer.write(data), 250u);
  std::vector<std::uint8_t> sent;
  std::uint64_t expected_offset = 0;
  while (auto chunk = buffer.next_chunk(100, kNoLimit)) {
    EXPECT_EQ(chunk->offset, expected_offset);
    EXPECT_LE(chunk->data.size(), 100u);
    EXPECT_FALSE(chunk->fin);
    expected_offset = chunk->end();
    sent.insert(sent.end(), chunk->data.begin(), chunk->data.end());
  }
  EXPECT_EQ(sent, data);
  EXPECT_EQ(buffer.unsent_bytes(), 0u);
  EXPECT_EQ(buffer.bytes_in_flight(), 250u);
  EXPECT_FALSE(buffer.has_pending(kNoLimit));
}

TEST(SendBufferTest, RetransmitsLostRangeBeforeNewData) {
  SendBuffer buffer(1000);
  const auto data = pattern(400);
  ASSERT_EQ(buffer.write(data), 400u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(buffer.next_chunk(100, kNoLimit));  // [0, 300)
  buffer.on_lost(100, 100, false);
  EXPECT_EQ(buffer.lost_bytes(), 100u);
  EXPECT_EQ(buffer.bytes_in_flight(), 200u);
  auto chunk = buffer.next_chunk(60, kNoLimit);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 100u);
  EXPECT_EQ(bytes_of(*chunk), slice(data, 100, 60));
  chunk = buffer.next_chunk(100, kNoLimit);  // the rest of the lost range only
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 160u);
  EXPECT_EQ(bytes_of(*chunk), slice(data, 160, 40));
  EXPECT_EQ(buffer.lost_bytes(), 0u);
  chunk = buffer.next_chunk(100, kNoLimit);  // then new data
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 300u);
  EXPECT_EQ(buffer.bytes_in_flight(), 400u);
}

TEST(SendBufferTest, OutOfOrderAcksAreRememberedUntilThePrefixCloses) {
  SendBuffer buffer(1000);
  ASSERT_EQ(buffer.write(pattern(300)), 300u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(buffer.next_chunk(100, kNoLimit));
  buffer.on_acked(200, 100, false);
  buffer.on_acked(100, 100, false);
  EXPECT_EQ(buffer.acked_offset(), 0u);
  EXPECT_EQ(buffer.outstanding_ack_ranges(), 1u);  // [100, 300) merged
  EXPECT_EQ(buffer.bytes_in_flight(), 100u);
  EXPECT_EQ(buffer.writable(), 700u);  // capacity follows the contiguous prefix
  buffer.on_acked(0, 100, false);
  EXPECT_EQ(buffer.acked_offset(), 300u);
  EXPECT_EQ(buffer.outstanding_ack_ranges(), 0u);
  EXPECT_EQ(buffer.bytes_in_flight(), 0u);
  EXPECT_EQ(buffer.writable(), 1000u);
  EXPECT_FALSE(buffer.all_acked());  // no FIN yet
}

TEST(SendBufferTest, MemoryIsReleasedAsTheAckedPrefixGrows) {
  constexpr std::size_t kBlock = SendBuffer::kBlockSize;
  SendBuffer buffer(4 * kBlock);
  ASSERT_EQ(buffer.write(pattern(4 * kBlock)), 4 * kBlock);
  EXPECT_EQ(buffer.allocated_bytes(), 4 * kBlock);
  while (buffer.next_chunk(1200, kNoLimit)) {
  }
  buffer.on_acked(kBlock, 3 * kBlock, false);  // out of order: nothing can go yet
  EXPECT_EQ(buffer.allocated_bytes(), 4 * kBlock);
  buffer.on_acked(0, kBlock - 1, false);
  EXPECT_EQ(buffer.allocated_bytes(), 4 * kBlock);
  buffer.on_acked(kBlock - 1, 1, false);
  // Every block is acknowledged; only one is kept as a spare for the next writes.
  EXPECT_EQ(buffer.allocated_bytes(), kBlock);
  EXPECT_EQ(buffer.write(pattern(10)), 10u);  // reuses the spare
  EXPECT_EQ(buffer.allocated_bytes(), kBlock);
}

// A bulk writer refills what each ACK releases: while bytes are held the released blocks wait as
// spares (up to kMaxSpareBlocks) and the next writes take them instead of allocating.
TEST(SendBufferTest, ReleasedBlocksAreReusedWhileBytesAreHeld) {
  constexpr std::size_t kBlock = SendBuffer::kBlockSize;
  SendBuffer buffer(16 * kBlock);
  ASSERT_EQ(buffer.write(pattern(12 * kBlock)), 12 * kBlock);
  while (buffer.next_chunk(1200, kNoLimit)) {
  }
  buffer.on_acked(0, 10 * kBlock, false);
  EXPECT_EQ(buffer.allocated_bytes(), 10 * kBlock);  // 2 blocks held, 8 spares
  ASSERT_EQ(buffer.write(pattern(8 * kBlock)), 8 * kBlock);
  EXPECT_EQ(buffer.allocated_bytes(), 10 * kBlock);  // the spares took the new bytes
  ASSERT_EQ(buffer.write(pattern(kBlock)), kBlock);
  EXPECT_EQ(buffer.allocated_bytes(), 11 * kBlock);  // none left: a new block
  while (buffer.next_chunk(1200, kNoLimit)) {
  }
  buffer.on_acked(10 * kBlock, 11 * kBlock, false);  // everything: one spare stays
  EXPECT_EQ(buffer.acked_offset(), 21 * kBlock);
  EXPECT_EQ(buffer.allocated_bytes(), kBlock);
}

TEST(SendBufferTest, ChunksNeverCrossBlocksButCarryTheRightBytes) {
  constexpr std::size_t kBlock = SendBuffer::kBlockSize;
  SendBuffer buffer(3 * kBlock);
  const auto data = pattern(3 * kBlock, 3);
  ASSERT_EQ(buffer.write(data), data.size());
  std::vector<std::uint8_t> sent;
  while (auto chunk = buffer.next_chunk(5000, kNoLimit)) {
    EXPECT_EQ(chunk->offset / kBlock, (chunk->end() - 1) / kBlock);
    sent.insert(sent.end(), chunk->data.begin(), chunk->data.end());
  }
  EXPECT_EQ(sent, data);
}

TEST(SendBufferTest, FinRidesOnTheLastData) {
  SendBuffer buffer(100);
  ASSERT_EQ(buffer.write(pattern(30)), 30u);
  buffer.finish();
  EXPECT_EQ(buffer.final_size(), 30u);
  EXPECT_EQ(buffer.writable(), 0u);
  EXPECT_EQ(buffer.write(pattern(5)), 0u);
  auto chunk = buffer.next_chunk(20, kNoLimit);
  ASSERT_TRUE(chunk);
  EXPECT_FALSE(chunk->fin);
  chunk = buffer.next_chunk(20, kNoLimit);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 20u);
  EXPECT_EQ(chunk->data.size(), 10u);
  EXPECT_TRUE(chunk->fin);
  EXPECT_FALSE(buffer.next_chunk(20, kNoLimit));
  EXPECT_FALSE(buffer.has_pending(kNoLimit));
  buffer.on_acked(20, 10, true);
  EXPECT_FALSE(buffer.all_acked());  // [0, 20) still outstanding
  buffer.on_acked(0, 20, false);
  EXPECT_TRUE(buffer.all_acked());
}

TEST(SendBufferTest, FinAloneAfterAllDataWasSent) {
  SendBuffer buffer(100);
  ASSERT_EQ(buffer.write(pattern(10)), 10u);
  ASSERT_TRUE(buffer.next_chunk(100, kNoLimit));
  EXPECT_FALSE(buffer.has_pending(kNoLimit));
  buffer.finish();
  EXPECT_TRUE(buffer.has_pending(kNoLimit));
  const auto chunk = buffer.next_chunk(0, kNoLimit);  // no room for data still allows a FIN
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 10u);
  EXPECT_TRUE(chunk->data.empty());
  EXPECT_TRUE(chunk->fin);
  // The FIN alone is lost, and is sent alone again.
  buffer.on_lost(10, 0, true);
  EXPECT_TRUE(buffer.has_pending(kNoLimit));
  const auto again = buffer.next_chunk(100, kNoLimit);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->offset, 10u);
  EXPECT_TRUE(again->data.empty());
  EXPECT_TRUE(again->fin);
  buffer.on_acked(0, 10, false);
  buffer.on_acked(10, 0, true);
  EXPECT_TRUE(buffer.all_acked());
}

TEST(SendBufferTest, EmptyStreamIsJustAFin) {
  SendBuffer buffer(100);
  buffer.finish();
  const auto chunk = buffer.next_chunk(100, 0);  // even with no flow credit at all
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 0u);
  EXPECT_TRUE(chunk->fin);
  EXPECT_TRUE(chunk->data.empty());
  buffer.on_acked(0, 0, true);
  EXPECT_TRUE(buffer.all_acked());
}

TEST(SendBufferTest, LostFinIsRetransmittedWithItsData) {
  SendBuffer buffer(100);
  ASSERT_EQ(buffer.write(pattern(50)), 50u);
  buffer.finish();
  auto chunk = buffer.next_chunk(100, kNoLimit);
  ASSERT_TRUE(chunk && chunk->fin);
  buffer.on_lost(0, 50, true);
  chunk = buffer.next_chunk(30, kNoLimit);
  ASSERT_TRUE(chunk);
  EXPECT_FALSE(chunk->fin);
  chunk = buffer.next_chunk(30, kNoLimit);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 30u);
  EXPECT_EQ(chunk->data.size(), 20u);
  EXPECT_TRUE(chunk->fin);
  EXPECT_FALSE(buffer.has_pending(kNoLimit));
}

TEST(SendBufferTest, LateAckOfALostFinCancelsItsRetransmission) {
  SendBuffer buffer(100);
  buffer.finish();
  ASSERT_TRUE(buffer.next_chunk(10, kNoLimit));
  buffer.on_lost(0, 0, true);
  EXPECT_TRUE(buffer.has_pending(kNoLimit));
  buffer.on_acked(0, 0, true);  // the "lost" packet was only late
  EXPECT_FALSE(buffer.has_pending(kNoLimit));
  EXPECT_TRUE(buffer.all_acked());
  buffer.on_lost(0, 0, true);  // a later loss of another copy changes nothing
  EXPECT_FALSE(buffer.has_pending(kNoLimit));
}

TEST(SendBufferTest, LossOfAcknowledgedBytesIsIgnored) {
  SendBuffer buffer(1000);
  const auto data = pattern(300);
  ASSERT_EQ(buffer.write(data), 300u);
  while (buffer.next_chunk(100, kNoLimit)) {
  }
  buffer.on_acked(100, 100, false);
  buffer.on_lost(0, 300, false);  // only [0, 100) and [200, 300) need sending again
  EXPECT_EQ(buffer.lost_bytes(), 200u);
  EXPECT_EQ(buffer.bytes_in_flight(), 0u);
  auto chunk = buffer.next_chunk(1000, kNoLimit);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 0u);
  EXPECT_EQ(bytes_of(*chunk), slice(data, 0, 100));
  chunk = buffer.next_chunk(1000, kNoLimit);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, 200u);
  EXPECT_EQ(bytes_of(*chunk), slice(data, 200, 100));
  EXPECT_FALSE(buffer.next_chunk(1000, kNoLimit));
  // Everything acknowledged: a loss report for any of it queues nothing.
  buffer.on_acked(0, 300, false);
  buffer.on_lost(0, 300, false);
  buffer.on_lost(250, 50, false);
  EXPECT_EQ(buffer.lost_bytes(), 0u);
  EXPECT_FALSE(buffer.has_pending(kNoLimit));
}

TEST(SendBufferTest, AckOfALostRangeCancelsItsRetransmission) {
  SendBuffer buffer(1000);
  ASSERT_EQ(buffer.write(pattern(200)), 200u);
  ASSERT_TRUE(buffer.next_chunk(200, kNoLimit));
  buffer.on_lost(0, 200, false);
  buffer.on_acked(50, 100, false);  // spurious loss: part of it arrives after all
  EXPECT_EQ(buffer.lost_bytes(), 100u);
  EXPECT_EQ(buffer.outstanding_lost_ranges(), 2u);
}

TEST(SendBufferTest, FlowLimitIsRespectedExactly) {
  SendBuffer buffer(1000);
  ASSERT_EQ(buffer.write(pattern(300)), 300u);
  std::uint64_t end = 0;
  while (auto chunk = buffer.next_chunk(64, 150)) end = chunk->end();
  EXPECT_EQ(end, 150u);
  EXPECT_EQ(buffer.sent_offset(), 150u);
  EXPECT_FALSE(buffer.has_pending(150));
  EXPECT_TRUE(buffer.blocked_by_flow_control(150));
  EXPECT_FALSE(buffer.blocked_by_flow_control(151));
  EXPECT_TRUE(buffer.has_pending(151));
  const auto one = buffer.next_chunk(64, 151);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->offset, 150u);
  EXPECT_EQ(one->data.size(), 1u);
  // Retransmissions are not limited again: their bytes were within an earlier limit.
  buffer.on_lost(0, 64, false);
  const auto resent = buffer.next_chunk(64, 0);
  ASSERT_TRUE(resent);
  EXPECT_EQ(resent->offset, 0u);
  EXPECT_EQ(resent->data.size(), 64u);
}

TEST(SendBufferTest, NotBlockedWhenNothingIsWaiting) {
  SendBuffer buffer(100);
  EXPECT_FALSE(buffer.blocked_by_flow_control(0));
  ASSERT_EQ(buffer.write(pattern(10)), 10u);
  EXPECT_TRUE(buffer.blocked_by_flow_control(0));
  EXPECT_FALSE(buffer.next_chunk(10, 0));
}

TEST(SendBufferTest, OffsetsStopAtTwoToThe62MinusOne) {
  SendBuffer buffer(100, kMaxStreamOffset - 10);
  EXPECT_EQ(buffer.writable(), 10u);
  EXPECT_EQ(buffer.write(pattern(100)), 10u);
  EXPECT_EQ(buffer.write_offset(), kMaxStreamOffset);
  EXPECT_EQ(buffer.write(pattern(1)), 0u);
  buffer.finish();
  const auto chunk = buffer.next_chunk(100, kNoLimit);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->offset, kMaxStreamOffset - 10);
  EXPECT_EQ(chunk->end(), kMaxStreamOffset);
  EXPECT_TRUE(chunk->fin);
  // Absurd lengths and offsets from a confused caller are clamped, never overflow.
  buffer.on_lost(kMaxStreamOffset - 5, std::numeric_limits<std::uint64_t>::max(), false);
  EXPECT_EQ(buffer.lost_bytes(), 5u);
  buffer.on_acked(std::numeric_limits<std::uint64_t>::max(), 10, false);
  buffer.on_acked(kMaxStreamOffset - 10, std::numeric_limits<std::uint64_t>::max(), true);
  EXPECT_TRUE(buffer.all_acked());
  EXPECT_EQ(buffer.lost_bytes(), 0u);
}

TEST(SendBufferTest, ResetDiscardsEverythingAndReportsTheSentSize) {
  SendBuffer buffer(1000);
  ASSERT_EQ(buffer.write(pattern(500)), 500u);
  ASSERT_TRUE(buffer.next_chunk(120, kNoLimit));
  ASSERT_TRUE(buffer.next_chunk(120, kNoLimit));
  buffer.on_lost(0, 120, false);
  EXPECT_EQ(buffer.reset(), 240u);
  EXPECT_TRUE(buffer.is_reset());
  EXPECT_EQ(buffer.reset(), 240u);  // idempotent
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(buffer.write(pattern(10)), 0u);
  EXPECT_FALSE(buffer.next_chunk(100, kNoLimit));
  EXPECT_FALSE(buffer.has_pending(kNoLimit));
  EXPECT_FALSE(buffer.all_acked());
  buffer.on_acked(0, 240, false);  // late reports are harmless
  buffer.on_lost(0, 240, true);
  EXPECT_FALSE(buffer.next_chunk(100, kNoLimit));
}

TEST(SendBufferTest, ZeroCapacityTakesNothing) {
  SendBuffer buffer(0);
  EXPECT_EQ(buffer.write(pattern(10)), 0u);
  EXPECT_FALSE(buffer.next_chunk(100, kNoLimit));
}

}  // namespace
}  // namespace srudp::stream
