// SendBuffer -> lossy channel -> ReceiveBuffer, with the ACK/loss feedback and MAX_STREAM_DATA
// updates a connection would give them. The channel reorders, duplicates and drops frames, and
// drops acknowledgements (so the sender retransmits data the receiver already has). Whatever
// happens, the bytes read must equal the bytes written, the receiver must never see a
// flow-control or final-size violation, and both sides must end with nothing outstanding.
#include "stream/receive_buffer.hpp"
#include "stream/send_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace srudp::stream {
namespace {

struct Frame {
  std::uint64_t offset = 0;
  std::vector<std::uint8_t> data;  // a copy: the chunk's span dies with the next mutation
  bool fin = false;
};

struct Outcome {
  std::vector<std::uint8_t> received;
  std::size_t steps = 0;
};

// One transfer of `input` with parameters drawn from `seed`.
Outcome transfer(std::uint64_t seed, const std::vector<std::uint8_t>& input) {
  std::mt19937_64 rng(seed);
  const auto chance = [&](unsigned percent) { return rng() % 100 < percent; };
  const std::size_t capacity = 1 + rng() % 5000;
  const std::uint64_t window = 1 + rng() % 4000;
  const unsigned loss = static_cast<unsigned>(rng() % 40);
  const unsigned ack_loss = static_cast<unsigned>(rng() % 20);

  SendBuffer sender(capacity);
  ReceiveBuffer receiver(window);
  std::uint64_t flow_limit = receiver.max_stream_data();  // what the sender has heard
  std::vector<Frame> in_flight;
  std::vector<Frame> delivered;  // kept for duplicate deliveries
  std::size_t written = 0;
  Outcome out;

  while (!(receiver.is_finished() && sender.all_acked())) {
    if (++out.steps > 2'000'000) {
      ADD_FAILURE() << "seed " << seed << ": no progress";
      break;
    }
    switch (rng() % 6) {
      case 0: {  // the application writes a random slice
        const std::size_t n = std::min<std::size_t>(input.size() - written, rng() % 3000);
        const std::size_t took = sender.write(std::span(input).subspan(written, n));
        EXPECT_LE(took, n);
        written += took;
        if (written == input.size()) sender.finish();
        break;
      }
      case 1: {  // the connection builds a packet
        const std::size_t max_bytes = rng() % 1500;
        if (auto chunk = sender.next_chunk(max_bytes, flow_limit)) {
          EXPECT_LE(chunk->data.size(), max_bytes);
          EXPECT_LE(chunk->end(), flow_limit);
          in_flight.push_back({chunk->offset, {chunk->data.begin(), chunk->data.end()}, chunk->fin});
        }
        break;
      }
      case 2:
      case 3: {  // the network delivers or drops a random packet
        if (in_flight.empty()) break;
        const std::size_t i = rng() % in_flight.size();
        Frame frame = std::move(in_flight[i]);
        in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(i));
        if (chance(loss)) {
          sender.on_lost(frame.offset, frame.data.size(), frame.fin);
          break;
        }
        const auto ec = receiver.insert(frame.offset, frame.data, frame.fin);
        EXPECT_FALSE(ec) << "seed " << seed << ": " << ec.message();
        if (chance(ack_loss)) {
          sender.on_lost(frame.offset, frame.data.size(), frame.fin);  // it did arrive, though
        } else {
          sender.on_acked(frame.offset, frame.data.size(), frame.fin);
        }
        delivered.push_back(std::move(frame));
        if (delivered.size() > 64) delivered.erase(delivered.begin());
        break;
      }
      case 4: {  // a duplicate of an old packet shows up, or the reader reads
        if (!delivered.empty() && chance(30)) {
          const Frame& dup = delivered[rng() % delivered.size()];
          EXPECT_FALSE(receiver.insert(dup.offset, dup.data, dup.fin));
          break;
        }
        std::vector<std::uint8_t> buf(rng() % 2000);
        buf.resize(receiver.read(buf));
        out.received.insert(out.received.end(), buf.begin(), buf.end());
        break;
      }
      default: {  // MAX_STREAM_DATA goes out; the sender hears it (later, if at all, is fine)
        if (auto update = receiver.take_window_update()) flow_limit = std::max(flow_limit, *update);
        break;
      }
    }
    EXPECT_LE(sender.write_offset() - sender.acked_offset(), capacity);
    EXPECT_LE(sender.allocated_bytes(), capacity + 3 * SendBuffer::kBlockSize);
    EXPECT_LE(receiver.allocated_bytes(), window + window / 8 + 8);
    EXPECT_LE(receiver.highest_received(), receiver.max_stream_data());
  }
  EXPECT_EQ(sender.bytes_in_flight(), 0u);
  EXPECT_EQ(sender.lost_bytes(), 0u);
  EXPECT_EQ(sender.outstanding_ack_ranges(), 0u);
  EXPECT_EQ(receiver.final_size(), input.size());
  return out;
}

TEST(StreamRoundTripTest, BytesReadEqualBytesWrittenThroughALossyChannel) {
  std::size_t total_steps = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    std::mt19937_64 rng(seed * 7919);
    std::vector<std::uint8_t> input(rng() % 20000);
    for (auto& b : input) b = static_cast<std::uint8_t>(rng());
    const Outcome out = transfer(seed, input);
    ASSERT_EQ(out.received, input) << "seed " << seed;
    total_steps += out.steps;
  }
  RecordProperty("total_steps", static_cast<int>(total_steps));
}

TEST(StreamRoundTripTest, EmptyStreamCompletes) {
  for (std::uint64_t seed = 1000; seed < 1020; ++seed) {
    const Outcome out = transfer(seed, {});
    EXPECT_TRUE(out.received.empty());
  }
}

}  // namespace
}  // namespace srudp::stream
