#include "stream/stream_state.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace srudp::stream {
namespace {

using std::chrono::milliseconds;
const Instant kT0{std::chrono::hours(1)};
const Duration kRtt = milliseconds(20);

StreamState::Config config(bool sends = true, bool receives = true) {
  StreamState::Config c;
  c.sends = sends;
  c.receives = receives;
  c.send_capacity = 1000;
  c.receive_window = 1000;
  c.tuned_window = 1000;
  c.max_receive_window = 4000;
  c.peer_max_stream_data = 600;
  return c;
}

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t v = 7) { return std::vector<std::uint8_t>(n, v); }

wire::Stream frame(std::uint64_t id, std::uint64_t offset, const std::vector<std::uint8_t>& data, bool fin = false) {
  wire::Stream f;
  f.stream_id = id;
  f.offset = offset;
  f.data = data;
  f.fin = fin;
  return f;
}

// Sends everything pending and acknowledges it, as a perfect network would.
void send_and_ack_all(StreamState& s) {
  while (auto c = s.send_buffer().next_chunk(500, s.send_limit(1 << 20))) {
    s.send_buffer().on_acked(c->offset, c->data.size(), c->fin);
  }
}

TEST(StreamState, BidirectionalStreamIsDoneWhenBothHalvesFinish) {
  StreamState s(0, config());
  ConnectionFlowControl flow(1 << 20, 1 << 20);
  ASSERT_EQ(*s.write(bytes(100)), 100u);
  ASSERT_FALSE(s.finish());
  EXPECT_EQ(s.write(bytes(1)).error(), errc::invalid_state);  // after finish
  send_and_ack_all(s);
  EXPECT_FALSE(s.is_done());  // the receive half is still open
  const auto data = bytes(50, 3);
  ASSERT_FALSE(s.on_data(frame(0, 0, data, true), flow, kT0, kRtt));
  std::array<std::uint8_t, 64> out{};
  auto n = s.read(out, flow, kT0, kRtt);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 50u);
  EXPECT_TRUE(s.at_end());
  EXPECT_TRUE(s.is_done());
  EXPECT_EQ(flow.received(), 50u);
  EXPECT_EQ(flow.consumed(), 50u);
}

TEST(StreamState, SendingIsBoundByThePeersStreamLimitAndTheConnectionCredit) {
  StreamState s(0, config());
  ASSERT_EQ(*s.write(bytes(1000)), 1000u);
  EXPECT_EQ(s.send_limit(1 << 20), 600u);  // MAX_STREAM_DATA
  EXPECT_EQ(s.send_limit(100), 100u);      // connection credit
  EXPECT_FALSE(s.has_pending(0));
  EXPECT_TRUE(s.has_pending(1));
  EXPECT_FALSE(s.on_max_stream_data(500));
  EXPECT_TRUE(s.on_max_stream_data(2000));
  EXPECT_EQ(s.send_limit(1 << 20), 2000u);
}

TEST(StreamState, OurResetAnnouncesTheSentOffsetAndStopsWrites) {
  StreamState s(4, config());
  ASSERT_EQ(*s.write(bytes(300)), 300u);
  auto c = s.send_buffer().next_chunk(120, s.send_limit(1 << 20));
  ASSERT_TRUE(c);
  ASSERT_TRUE(s.reset_sending(42));
  EXPECT_FALSE(s.reset_sending(43));  // once
  EXPECT_EQ(s.write(bytes(1)).error(), errc::stream_stopped);
  EXPECT_EQ(s.finish(), errc::stream_stopped);
  EXPECT_FALSE(s.has_pending(1 << 20));
  EXPECT_EQ(s.send_buffer().allocated_bytes(), 0u);  // the data is gone
  auto f = s.reset_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (wire::ResetStream{4, 42, 120}));
  s.on_reset_sent();
  EXPECT_FALSE(s.reset_frame());
  s.on_reset_lost();
  EXPECT_TRUE(s.reset_frame());  // resent
  s.on_reset_sent();
  s.on_reset_acked();
  s.on_reset_lost();  // a late loss of an earlier copy changes nothing
  EXPECT_FALSE(s.reset_frame());
  EXPECT_FALSE(s.has_frames_due());
}

TEST(StreamState, NothingToResetOnceEverythingWasAcknowledged) {
  StreamState s(0, config());
  ASSERT_EQ(*s.write(bytes(10)), 10u);
  ASSERT_FALSE(s.finish());
  send_and_ack_all(s);
  EXPECT_FALSE(s.reset_sending(1));
  EXPECT_FALSE(s.on_stop_sending(1));
}

TEST(StreamState, StopSendingFromThePeerResetsWithItsCode) {
  StreamState s(0, config());
  ASSERT_EQ(*s.write(bytes(10)), 10u);
  ASSERT_TRUE(s.on_stop_sending(77));
  auto f = s.reset_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->error_code, 77u);
  EXPECT_EQ(f->final_size, 0u);  // nothing was sent
  EXPECT_FALSE(s.on_stop_sending(78));  // already reset: nothing new to tell
}

TEST(StreamState, PeerResetDiscardsUnreadDataAndGivesTheCreditBack) {
  StreamState s(1, config());
  ConnectionFlowControl flow(1000, 1000);
  ASSERT_FALSE(s.on_data(frame(1, 0, bytes(200)), flow, kT0, kRtt));
  ASSERT_FALSE(s.on_data(frame(1, 300, bytes(100)), flow, kT0, kRtt));  // a gap at 200..300
  EXPECT_EQ(flow.received(), 400u);
  auto reset = s.on_reset(9, 500, flow, kT0, kRtt);
  ASSERT_TRUE(reset);
  EXPECT_TRUE(*reset);
  EXPECT_EQ(flow.received(), 500u);  // up to the final size
  EXPECT_EQ(flow.consumed(), 500u);  // nothing will ever be read
  EXPECT_EQ(s.allocated_bytes(), s.send_buffer().allocated_bytes());
  EXPECT_FALSE(s.is_done());  // until the application hears of it
  std::array<std::uint8_t, 16> out{};
  EXPECT_EQ(s.read(out, flow, kT0, kRtt).error(), errc::stream_reset);
  auto again = s.on_reset(9, 500, flow, kT0, kRtt);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(s.on_reset(9, 600, flow, kT0, kRtt).error(), errc::final_size_error);
  EXPECT_EQ(s.on_data(frame(1, 450, bytes(100)), flow, kT0, kRtt), errc::final_size_error);
  EXPECT_FALSE(s.on_data(frame(1, 0, bytes(100)), flow, kT0, kRtt));  // late, dropped
}

TEST(StreamState, ResetBelowReceivedDataOrBeyondTheConnectionLimitIsAnError) {
  ConnectionFlowControl flow(1000, 1000);
  StreamState s(1, config());
  ASSERT_FALSE(s.on_data(frame(1, 0, bytes(300)), flow, kT0, kRtt));
  EXPECT_EQ(s.on_reset(1, 200, flow, kT0, kRtt).error(), errc::final_size_error);
  StreamState t(5, config());
  EXPECT_EQ(t.on_reset(1, 800, flow, kT0, kRtt).error(), errc::flow_control_error);  // 300 + 800 > 1000
  EXPECT_EQ(t.on_data(frame(5, 0, bytes(800)), flow, kT0, kRtt), errc::flow_control_error);
}

TEST(StreamState, StopReceivingDiscardsAndAsksThePeerToStop) {
  StreamState s(1, config());
  ConnectionFlowControl flow(1000, 1000);
  ASSERT_FALSE(s.on_data(frame(1, 0, bytes(300)), flow, kT0, kRtt));
  std::array<std::uint8_t, 100> out{};
  ASSERT_EQ(*s.read(out, flow, kT0, kRtt), 100u);
  ASSERT_FALSE(s.stop_receiving(5, flow, kT0, kRtt));
  EXPECT_EQ(flow.consumed(), 300u);  // the 200 unread bytes count as consumed
  EXPECT_EQ(s.read(out, flow, kT0, kRtt).error(), errc::stream_stopped);
  auto f = s.stop_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (wire::StopSending{1, 5}));
  s.on_stop_sent();
  s.on_stop_lost();
  EXPECT_TRUE(s.stop_frame());  // resent while the peer may still send
  s.on_stop_sent();
  // Data still in flight is accepted (flow control checked) and dropped at once.
  ASSERT_FALSE(s.on_data(frame(1, 300, bytes(200)), flow, kT0, kRtt));
  EXPECT_EQ(flow.consumed(), 500u);
  EXPECT_EQ(s.allocated_bytes(), s.send_buffer().allocated_bytes());
  EXPECT_EQ(s.on_data(frame(1, 900, bytes(200)), flow, kT0, kRtt), errc::flow_control_error);
  // The peer answers with RESET_STREAM: the receive half is over.
  ASSERT_TRUE(s.on_reset(5, 600, flow, kT0, kRtt));
  EXPECT_EQ(flow.consumed(), 600u);
  s.on_stop_lost();
  EXPECT_FALSE(s.stop_frame());  // not needed any more
  ASSERT_TRUE(s.reset_sending(0));  // our own half
  s.on_reset_acked();
  EXPECT_TRUE(s.is_done());
}

TEST(StreamState, StopAfterTheEndIsKnownSendsNothing) {
  StreamState s(1, config());
  ConnectionFlowControl flow(1000, 1000);
  ASSERT_FALSE(s.on_data(frame(1, 0, bytes(10), true), flow, kT0, kRtt));
  ASSERT_FALSE(s.stop_receiving(5, flow, kT0, kRtt));
  EXPECT_FALSE(s.stop_frame());
  EXPECT_EQ(flow.consumed(), 10u);
}

TEST(StreamState, UnidirectionalHalves) {
  ConnectionFlowControl flow(1000, 1000);
  std::array<std::uint8_t, 8> out{};
  StreamState ours(2, config(true, false));  // we send only
  EXPECT_TRUE(ours.has_send_half());
  EXPECT_FALSE(ours.has_receive_half());
  EXPECT_EQ(ours.read(out, flow, kT0, kRtt).error(), errc::invalid_state);
  EXPECT_EQ(ours.stop_receiving(1, flow, kT0, kRtt), errc::invalid_state);
  EXPECT_EQ(ours.on_data(frame(2, 0, bytes(1)), flow, kT0, kRtt), errc::protocol_violation);
  ASSERT_EQ(*ours.write(bytes(5)), 5u);
  ASSERT_FALSE(ours.finish());
  send_and_ack_all(ours);
  EXPECT_TRUE(ours.is_done());

  StreamState theirs(3, config(false, true));  // we receive only
  EXPECT_EQ(theirs.write(bytes(1)).error(), errc::invalid_state);
  EXPECT_EQ(theirs.finish(), errc::invalid_state);
  EXPECT_FALSE(theirs.reset_sending(1));
  ASSERT_FALSE(theirs.on_data(frame(3, 0, bytes(4), true), flow, kT0, kRtt));
  ASSERT_EQ(*theirs.read(out, flow, kT0, kRtt), 4u);
  EXPECT_TRUE(theirs.is_done());
}

TEST(StreamState, ReadingHalfTheWindowMakesMaxStreamDataDueAndFastReadsGrowIt) {
  StreamState s(1, config(false, true));
  ConnectionFlowControl flow(1 << 20, 1 << 20);
  std::array<std::uint8_t, 1000> out{};
  std::uint64_t offset = 0;
  Instant t = kT0;
  for (int round = 0; round < 4; ++round) {
    const std::uint64_t limit = s.max_stream_data_frame() ? s.max_stream_data_frame()->max : 1000;
    const auto data = bytes(static_cast<std::size_t>(limit - offset));
    ASSERT_FALSE(s.on_data(frame(1, offset, data), flow, t, kRtt));
    offset = limit;
    while (*s.read(out, flow, t, kRtt) > 0) {
    }
    auto f = s.max_stream_data_frame();
    ASSERT_TRUE(f) << round;
    EXPECT_GT(f->max, offset);
    t += milliseconds(5);
  }
  EXPECT_EQ(s.receive_window(), 4000u);  // doubled up to max_receive_window
  s.on_max_stream_data_sent();
  EXPECT_FALSE(s.has_frames_due());
  s.on_max_stream_data_lost();
  EXPECT_TRUE(s.max_stream_data_frame());
}

}  // namespace
}  // namespace srudp::stream
