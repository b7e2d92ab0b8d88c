#include "stream/receive_buffer.hpp"

#include <gtest/gtest.h>

#include "tests/stream/receive_buffer_model.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "srudp/error.hpp"

namespace srudp::stream {
namespace {

constexpr std::uint64_t kMax = (std::uint64_t{1} << 62) - 1;
const std::error_code kFlowControl = make_error_code(errc::flow_control_error);
const std::error_code kFinalSize = make_error_code(errc::final_size_error);

std::vector<std::uint8_t> text(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed = 0) {
  std::vector<std::uint8_t> bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(i * 13 + seed);
  return bytes;
}

std::vector<std::uint8_t> read_all(ReceiveBuffer& buffer) {
  std::vector<std::uint8_t> out(buffer.readable());
  EXPECT_EQ(buffer.read(out), out.size());
  return out;
}

TEST(ReceiveBufferTest, InOrderDataIsReadableAtOnce) {
  ReceiveBuffer buffer(1000);
  EXPECT_FALSE(buffer.insert(0, text("hello "), false));
  EXPECT_FALSE(buffer.insert(6, text("world"), false));
  EXPECT_EQ(buffer.readable(), 11u);
  std::vector<std::uint8_t> out(4);
  EXPECT_EQ(buffer.read(out), 4u);
  EXPECT_EQ(out, text("hell"));
  EXPECT_EQ(read_all(buffer), text("o world"));
  EXPECT_EQ(buffer.read(out), 0u);
  EXPECT_EQ(buffer.read_offset(), 11u);
}

TEST(ReceiveBufferTest, ReassemblesOutOfOrderData) {
  ReceiveBuffer buffer(1000);
  EXPECT_FALSE(buffer.insert(10, text("KLMNO"), false));
  EXPECT_FALSE(buffer.insert(5, text("FGHIJ"), false));
  EXPECT_EQ(buffer.readable(), 0u);
  EXPECT_FALSE(buffer.insert(15, {}, true));
  EXPECT_FALSE(buffer.insert(0, text("ABCDE"), false));
  EXPECT_EQ(buffer.readable(), 15u);
  EXPECT_FALSE(buffer.is_finished());
  EXPECT_EQ(read_all(buffer), text("ABCDEFGHIJKLMNO"));
  EXPECT_TRUE(buffer.is_finished());
}

TEST(ReceiveBufferTest, OverlapsKeepTheFirstCopy) {
  ReceiveBuffer buffer(1000);
  EXPECT_FALSE(buffer.insert(0, text("aa"), false));
  EXPECT_FALSE(buffer.insert(4, text("cc"), false));
  EXPECT_FALSE(buffer.insert(8, text("ee"), false));
  EXPECT_FALSE(buffer.insert(0, text("xxxxxxxxxx"), false));  // fills the gaps only
  EXPECT_EQ(read_all(buffer), text("aaxxccxxee"));
  EXPECT_FALSE(buffer.insert(5, text("yyyyyyy"), false));  // partly read already
  EXPECT_EQ(read_all(buffer), text("yy"));
  EXPECT_FALSE(buffer.insert(0, text("zzzzzzzzzzzz"), false));  // all read: ignored
  EXPECT_EQ(buffer.readable(), 0u);
}

TEST(ReceiveBufferTest, OneBytePastTheWindowIsAFlowControlError) {
  ReceiveBuffer buffer(100);
  EXPECT_EQ(buffer.max_stream_data(), 100u);
  EXPECT_EQ(buffer.insert(1, pattern(100), false), kFlowControl);
  EXPECT_EQ(buffer.insert(100, pattern(1), false), kFlowControl);
  EXPECT_EQ(buffer.insert(101, {}, false), kFlowControl);
  EXPECT_EQ(buffer.highest_received(), 0u);  // a refused frame changes nothing
  EXPECT_EQ(buffer.readable(), 0u);
  EXPECT_FALSE(buffer.insert(100, {}, false));
  EXPECT_FALSE(buffer.insert(0, pattern(100), false));
  EXPECT_EQ(buffer.readable(), 100u);
  std::vector<std::uint8_t> out(50);
  ASSERT_EQ(buffer.read(out), 50u);
  EXPECT_EQ(buffer.insert(100, pattern(1), false), kFlowControl);  // no update sent yet
  EXPECT_EQ(buffer.take_window_update(), 150u);
  EXPECT_FALSE(buffer.insert(100, pattern(50), false));
  EXPECT_EQ(buffer.insert(150, pattern(1), false), kFlowControl);
}

TEST(ReceiveBufferTest, WindowUpdatesAfterHalfTheWindowIsRead) {
  ReceiveBuffer buffer(100);
  EXPECT_FALSE(buffer.take_window_update());
  ASSERT_FALSE(buffer.insert(0, pattern(100), false));
  std::vector<std::uint8_t> out(49);
  ASSERT_EQ(buffer.read(out), 49u);
  EXPECT_FALSE(buffer.take_window_update());
  ASSERT_EQ(buffer.read(std::span(out).first(1)), 1u);
  EXPECT_EQ(buffer.take_window_update(), 150u);
  EXPECT_EQ(buffer.max_stream_data(), 150u);
  EXPECT_FALSE(buffer.take_window_update());  // already advertised
  ASSERT_EQ(buffer.read(out), 49u);
  EXPECT_FALSE(buffer.take_window_update());
  // A larger window is worth advertising at once.
  buffer.set_window(1000);
  EXPECT_EQ(buffer.take_window_update(), 1099u);
  buffer.set_window(10);  // shrinking is ignored
  EXPECT_EQ(buffer.window(), 1000u);
  // Once the final size is known the peer needs no more credit.
  ASSERT_FALSE(buffer.insert(100, pattern(10), true));
  ASSERT_EQ(read_all(buffer).size(), 11u);
  EXPECT_FALSE(buffer.take_window_update());
  EXPECT_TRUE(buffer.is_finished());
}

TEST(ReceiveBufferTest, FinalSizeRules) {
  ReceiveBuffer buffer(1000);
  ASSERT_FALSE(buffer.insert(0, pattern(20), false));
  EXPECT_EQ(buffer.insert(0, pattern(10), true), kFinalSize);  // below data already received
  EXPECT_FALSE(buffer.final_size());
  ASSERT_FALSE(buffer.insert(20, pattern(10), true));
  EXPECT_EQ(buffer.final_size(), 30u);
  EXPECT_EQ(buffer.insert(25, pattern(10), false), kFinalSize);  // data past the final size
  EXPECT_EQ(buffer.insert(31, {}, false), kFinalSize);
  EXPECT_EQ(buffer.insert(20, pattern(5), true), kFinalSize);  // a different final size
  EXPECT_EQ(buffer.insert(30, pattern(1), true), kFinalSize);
  EXPECT_FALSE(buffer.insert(30, {}, true));      // the same final size again is fine
  EXPECT_FALSE(buffer.insert(20, pattern(10), true));
  EXPECT_FALSE(buffer.insert(5, pattern(10), false));  // data within it too
  EXPECT_EQ(buffer.final_size(), 30u);
  EXPECT_EQ(read_all(buffer).size(), 30u);
  EXPECT_TRUE(buffer.is_finished());
}

TEST(ReceiveBufferTest, FinAtTheHighestOffsetAlone) {
  ReceiveBuffer buffer(1000);
  ASSERT_FALSE(buffer.insert(10, pattern(10), false));
  ASSERT_FALSE(buffer.insert(20, {}, true));
  EXPECT_EQ(buffer.final_size(), 20u);
  EXPECT_FALSE(buffer.is_finished());
  ASSERT_FALSE(buffer.insert(0, pattern(10), false));
  EXPECT_EQ(read_all(buffer).size(), 20u);
  EXPECT_TRUE(buffer.is_finished());
}

TEST(ReceiveBufferTest, EmptyStreamFinishesImmediately) {
  ReceiveBuffer buffer(1000);
  ASSERT_FALSE(buffer.insert(0, {}, true));
  EXPECT_TRUE(buffer.is_finished());
  EXPECT_EQ(buffer.final_size(), 0u);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

TEST(ReceiveBufferTest, OffsetsBeyondTwoToThe62AreRefused) {
  ReceiveBuffer buffer(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(buffer.max_stream_data(), kMax);
  EXPECT_EQ(buffer.insert(kMax, pattern(1), false), kFlowControl);
  EXPECT_EQ(buffer.insert(std::numeric_limits<std::uint64_t>::max(), {}, false), kFlowControl);
  EXPECT_EQ(buffer.insert(kMax + 1, {}, true), kFlowControl);
  EXPECT_FALSE(buffer.insert(kMax, {}, true));  // a final size of exactly 2^62-1 is legal
  EXPECT_EQ(buffer.final_size(), kMax);
  EXPECT_EQ(buffer.highest_received(), kMax);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
}

TEST(ReceiveBufferTest, RingWrapsAroundManyTimes) {
  ReceiveBuffer buffer(10);
  std::vector<std::uint8_t> received;
  const auto data = pattern(1000, 5);
  std::uint64_t offset = 0;
  while (offset < data.size()) {
    const std::uint64_t limit = std::min<std::uint64_t>(buffer.max_stream_data(), data.size());
    // Two halves of the allowed span, the second half first.
    const std::uint64_t mid = offset + (limit - offset) / 2;
    ASSERT_FALSE(buffer.insert(mid, std::span(data).subspan(mid, limit - mid), false));
    ASSERT_FALSE(buffer.insert(offset, std::span(data).subspan(offset, mid - offset), false));
    offset = limit;
    const auto chunk = read_all(buffer);
    received.insert(received.end(), chunk.begin(), chunk.end());
    ASSERT_TRUE(buffer.take_window_update());
    EXPECT_LE(buffer.allocated_bytes(), 10u + 8u);
  }
  EXPECT_EQ(received, data);
}

// A hostile peer sends every other byte of the window, each as its own frame, and repeats it:
// the memory stays within the window plus its bitmap, and the data is right once the gaps fill.
TEST(ReceiveBufferTest, MemoryStaysBoundedUnderTinyDisjointSegments) {
  constexpr std::uint64_t kWindow = 64 * 1024;
  ReceiveBuffer buffer(kWindow);
  const auto data = pattern(kWindow, 9);
  for (int pass = 0; pass < 3; ++pass) {
    for (std::uint64_t offset = 1; offset < kWindow; offset += 2) {
      ASSERT_FALSE(buffer.insert(offset, std::span(data).subspan(offset, 1), false));
    }
  }
  EXPECT_LE(buffer.allocated_bytes(), kWindow + kWindow / 8);
  EXPECT_EQ(buffer.readable(), 0u);
  EXPECT_EQ(buffer.insert(kWindow, pattern(1), false), kFlowControl);
  for (std::uint64_t offset = 0; offset < kWindow; offset += 2) {
    ASSERT_FALSE(buffer.insert(offset, std::span(data).subspan(offset, 1), false));
  }
  EXPECT_EQ(buffer.readable(), kWindow);
  EXPECT_EQ(read_all(buffer), data);
  EXPECT_LE(buffer.allocated_bytes(), kWindow + kWindow / 8);
}

TEST(ReceiveBufferTest, MemoryGrowsOnlyAsFarAsTheData) {
  ReceiveBuffer buffer(1 << 20);
  ASSERT_FALSE(buffer.insert(0, pattern(100), false));
  EXPECT_LE(buffer.allocated_bytes(), 4096u + 4096u / 8);
  ASSERT_FALSE(buffer.insert((1 << 20) - 1, pattern(1), false));  // the far edge: whole window
  EXPECT_LE(buffer.allocated_bytes(), (1u << 20) + (1u << 17));
  std::vector<std::uint8_t> out(100);
  EXPECT_EQ(buffer.read(out), 100u);
  EXPECT_EQ(out, pattern(100));
}

TEST(ReceiveBufferTest, ResetChecksTheFinalSizeAndDropsData) {
  ReceiveBuffer buffer(1000);
  ASSERT_FALSE(buffer.insert(0, pattern(50), false));
  EXPECT_EQ(buffer.on_reset(40), kFinalSize);    // below data received
  EXPECT_EQ(buffer.on_reset(1001), kFlowControl);  // beyond the flow-control limit
  EXPECT_FALSE(buffer.is_reset());
  ASSERT_FALSE(buffer.on_reset(60));
  EXPECT_TRUE(buffer.is_reset());
  EXPECT_EQ(buffer.highest_received(), 60u);
  EXPECT_EQ(buffer.readable(), 0u);
  EXPECT_EQ(buffer.allocated_bytes(), 0u);
  EXPECT_EQ(buffer.insert(50, pattern(20), false), kFinalSize);  // past the final size
  EXPECT_FALSE(buffer.insert(50, pattern(10), true));           // consistent: dropped
  EXPECT_EQ(buffer.readable(), 0u);
  EXPECT_EQ(buffer.on_reset(61), kFinalSize);
  EXPECT_FALSE(buffer.take_window_update());
  EXPECT_FALSE(buffer.is_finished());
}

// ----- Random operations against a byte-per-entry model of the same rules.

using Model = test::NaiveReceiveBuffer;

TEST(ReceiveBufferTest, MatchesModelUnderRandomFrames) {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    const std::uint64_t window = 1 + rng() % 300;
    ReceiveBuffer buffer(window);
    Model model(window);
    for (int step = 0; step < 2000; ++step) {
      const auto op = rng() % 10;
      if (op < 6) {
        // Mostly near the read offset, sometimes past the limit; content depends on the step so
        // that overlapping copies differ and "first copy wins" is observable.
        const std::uint64_t back = std::min<std::uint64_t>(model.read_offset(), rng() % 16);
        const std::uint64_t offset = model.read_offset() - back + rng() % (window + 20);
        std::vector<std::uint8_t> data(rng() % 40);
        for (auto& b : data) b = static_cast<std::uint8_t>(rng());
        const bool fin = rng() % 40 == 0;
        const bool expected = model.insert(offset, data, fin);
        ASSERT_EQ(!buffer.insert(offset, data, fin), expected)
            << "seed " << seed << " step " << step;
      } else if (op < 9) {
        const std::size_t n = rng() % 64;
        std::vector<std::uint8_t> out(n);
        const std::size_t got = buffer.read(out);
        out.resize(got);
        ASSERT_EQ(out, model.read(n)) << "seed " << seed << " step " << step;
      } else {
        ASSERT_EQ(buffer.take_window_update(), model.update());
      }
      ASSERT_EQ(buffer.max_stream_data(), model.limit());
      ASSERT_EQ(buffer.is_finished(), model.finished());
      ASSERT_LE(buffer.allocated_bytes(), window + window / 8 + 8);
    }
  }
}

}  // namespace
}  // namespace srudp::stream
