#include "transport/outstanding_packets.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace srudp::transport {
namespace {

SentPacket packet(std::uint64_t pn) {
  SentPacket p;
  p.packet_number = pn;
  p.size = 1000 + pn;
  return p;
}

std::vector<std::uint64_t> numbers(const OutstandingPackets& o) {
  std::vector<std::uint64_t> out;
  for (const auto& [pn, p] : o) {
    EXPECT_EQ(p.packet_number, pn);
    out.push_back(pn);
  }
  return out;
}

TEST(OutstandingPackets, SkippedNumbersAreHolesThatIterationAndFindStepOver) {
  OutstandingPackets o;
  EXPECT_TRUE(o.empty());
  EXPECT_EQ(o.begin(), o.end());
  for (std::uint64_t pn : {5u, 6u, 9u, 10u}) o.push_back(packet(pn));  // 7 and 8 skipped
  EXPECT_EQ(o.size(), 4u);
  EXPECT_EQ(o.first_number(), 5u);
  EXPECT_EQ(o.last_number(), 10u);
  EXPECT_EQ(numbers(o), (std::vector<std::uint64_t>{5, 6, 9, 10}));
  EXPECT_EQ(o.find(8), nullptr);
  EXPECT_EQ(o.find(4), nullptr);
  EXPECT_EQ(o.find(11), nullptr);
  ASSERT_NE(o.find(9), nullptr);
  EXPECT_EQ(o.find(9)->size, 1009u);
  EXPECT_EQ(o.at(10).packet_number, 10u);
}

TEST(OutstandingPackets, TakingTheOldestMovesTheStartPastEveryHole) {
  OutstandingPackets o;
  for (std::uint64_t pn : {1u, 2u, 3u, 6u, 7u}) o.push_back(packet(pn));
  // From the middle: the start stays.
  auto two = o.take(2);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->size, 1002u);
  EXPECT_EQ(o.first_number(), 1u);
  EXPECT_FALSE(o.take(2));  // not outstanding any more
  // The oldest, then the next: the start moves over 2 (taken) and 4, 5 (never sent).
  EXPECT_TRUE(o.take(1));
  EXPECT_EQ(o.first_number(), 3u);
  EXPECT_TRUE(o.take(3));
  EXPECT_EQ(o.first_number(), 6u);
  EXPECT_EQ(numbers(o), (std::vector<std::uint64_t>{6, 7}));
  // Out of range, or never sent: nothing happens.
  EXPECT_FALSE(o.take(0));
  EXPECT_FALSE(o.take(100));
  EXPECT_FALSE(o.erase(5));
  EXPECT_FALSE(o.erase(3));
  EXPECT_EQ(o.size(), 2u);
  EXPECT_EQ(o.first_number(), 6u);
  EXPECT_TRUE(o.erase(7));
  EXPECT_EQ(o.last_number(), 7u);  // a removed newest packet leaves its slot until the start passes it
  EXPECT_TRUE(o.take(6));
  EXPECT_TRUE(o.empty());
  // Empty, it starts again wherever the next packet is.
  o.push_back(packet(50));
  EXPECT_EQ(o.first_number(), 50u);
  EXPECT_EQ(numbers(o), (std::vector<std::uint64_t>{50}));
}

TEST(OutstandingPackets, AnEmptiedRingGivesItsMemoryBack) {
  OutstandingPackets o;
  // A window's worth outstanding, then all acknowledged: an idle connection keeps no more than
  // kMaxIdleSlots slots (the next burst grows from there).
  for (std::uint64_t pn = 0; pn < 1000; ++pn) o.push_back(packet(pn));
  EXPECT_GE(o.capacity(), 1000u);
  for (std::uint64_t pn = 0; pn < 1000; ++pn) ASSERT_TRUE(o.take(pn));
  EXPECT_TRUE(o.empty());
  const std::size_t kept = o.capacity();
  EXPECT_GE(kept, OutstandingPackets::kMaxIdleSlots);
  EXPECT_LE(kept, 2 * OutstandingPackets::kMaxIdleSlots);
  // The next burst starts in those slots: up to kMaxIdleSlots packets need no reallocation, and
  // emptying the ring again keeps them.
  for (int round = 0; round < 2; ++round) {
    const std::uint64_t base = 1000 + 100 * static_cast<std::uint64_t>(round);
    for (std::uint64_t pn = base; pn < base + OutstandingPackets::kMaxIdleSlots; ++pn) o.push_back(packet(pn));
    EXPECT_EQ(o.capacity(), kept);
    for (std::uint64_t pn = base; pn < base + OutstandingPackets::kMaxIdleSlots; ++pn) ASSERT_TRUE(o.take(pn));
    EXPECT_EQ(o.capacity(), kept);
  }
  // A small flow keeps its few slots between bursts (no allocation per burst).
  for (int burst = 0; burst < 3; ++burst) {
    for (std::uint64_t pn = 2000 + 10 * static_cast<std::uint64_t>(burst); pn < 2005 + 10 * static_cast<std::uint64_t>(burst); ++pn) {
      o.push_back(packet(pn));
    }
    for (std::uint64_t pn = 2000 + 10 * static_cast<std::uint64_t>(burst); pn < 2005 + 10 * static_cast<std::uint64_t>(burst); ++pn) {
      ASSERT_TRUE(o.take(pn));
    }
    EXPECT_GT(o.capacity(), 0u);
  }
}

}  // namespace
}  // namespace srudp::transport
