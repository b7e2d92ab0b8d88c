#include "stream/stream_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace srudp::stream {
namespace {

using PeerRole = StreamTable::PeerRole;

StreamTable::Config config(Role role, std::uint64_t max_bidi = 3, std::uint64_t max_uni = 2) {
  StreamTable::Config c;
  c.role = role;
  c.send_capacity = 1000;
  c.receive_window = 1000;
  c.max_bidi_streams = max_bidi;
  c.max_uni_streams = max_uni;
  return c;
}

StreamTable::PeerLimits peer(std::uint64_t bidi, std::uint64_t uni) {
  return {500, 600, 700, bidi, uni};
}

TEST(StreamTable, OpensUpToThePeersLimitPerKindThenRefusesCheaply) {
  StreamTable t(config(Role::client));
  t.set_peer_limits(peer(2, 1));
  EXPECT_EQ(*t.open(StreamDirection::bidirectional), 0u);
  EXPECT_EQ(*t.open(StreamDirection::bidirectional), 4u);
  EXPECT_EQ(*t.open(StreamDirection::unidirectional), 2u);
  for (int i = 0; i < 100000; ++i) {
    ASSERT_EQ(t.open(StreamDirection::bidirectional).error(), errc::stream_limit_reached);
    ASSERT_EQ(t.open(StreamDirection::unidirectional).error(), errc::stream_limit_reached);
  }
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.on_max_streams(StreamDirection::bidirectional, 2));  // not a raise
  EXPECT_TRUE(t.on_max_streams(StreamDirection::bidirectional, 3));   // raised after a refusal
  EXPECT_FALSE(t.on_max_streams(StreamDirection::bidirectional, 4));  // nobody waiting
  EXPECT_EQ(*t.open(StreamDirection::bidirectional), 8u);
  // Initial per-stream limits: the peer's "remote" one on our bidirectional streams, "uni" on ours.
  ASSERT_TRUE(t.find(0));
  EXPECT_EQ(t.find(0)->send_limit(1 << 20), 600u);
  EXPECT_EQ(t.find(2)->send_limit(1 << 20), 700u);
  EXPECT_FALSE(t.find(2)->has_receive_half());
}

TEST(StreamTable, PeerStreamsOpenImplicitlyInOrder) {
  StreamTable t(config(Role::server));
  t.set_peer_limits(peer(10, 10));
  std::vector<std::uint64_t> opened;
  auto s = t.for_peer_frame(8, PeerRole::sender, opened);  // the client's third bidirectional stream
  ASSERT_TRUE(s);
  ASSERT_TRUE(*s);
  EXPECT_EQ((*s)->id(), 8u);
  EXPECT_EQ(opened, (std::vector<std::uint64_t>{0, 4, 8}));
  opened.clear();
  ASSERT_TRUE(t.for_peer_frame(4, PeerRole::sender, opened));
  EXPECT_TRUE(opened.empty());
  // A client unidirectional stream: we only receive on it, and never send to it.
  auto uni = t.for_peer_frame(2, PeerRole::sender, opened);
  ASSERT_TRUE(uni);
  EXPECT_FALSE((*uni)->has_send_half());
  EXPECT_EQ((*s)->send_limit(1 << 20), 500u);  // the peer's "local" limit on its own streams
}

TEST(StreamTable, FramesThatMisuseAStreamAreViolations) {
  StreamTable t(config(Role::server));
  t.set_peer_limits(peer(10, 10));
  std::vector<std::uint64_t> opened;
  // Beyond the limit we announced (3 bidirectional, 2 unidirectional).
  EXPECT_EQ(t.for_peer_frame(12, PeerRole::sender, opened).error(), errc::protocol_violation);
  EXPECT_EQ(t.for_peer_frame(10, PeerRole::sender, opened).error(), errc::protocol_violation);
  EXPECT_TRUE(opened.empty());
  // Our own streams never opened.
  EXPECT_EQ(t.for_peer_frame(1, PeerRole::receiver, opened).error(), errc::protocol_violation);
  EXPECT_EQ(t.for_peer_frame(3, PeerRole::receiver, opened).error(), errc::protocol_violation);
  // Wrong direction: STOP_SENDING / MAX_STREAM_DATA on the peer's unidirectional stream, STREAM on ours.
  EXPECT_EQ(t.for_peer_frame(2, PeerRole::receiver, opened).error(), errc::protocol_violation);
  ASSERT_EQ(*t.open(StreamDirection::unidirectional), 3u);
  EXPECT_EQ(t.for_peer_frame(3, PeerRole::sender, opened).error(), errc::protocol_violation);
  auto ours = t.for_peer_frame(3, PeerRole::receiver, opened);
  ASSERT_TRUE(ours);
  EXPECT_EQ((*ours)->id(), 3u);
}

TEST(StreamTable, RetiringAPeerStreamReturnsItsSlot) {
  StreamTable t(config(Role::server, 1, 1));
  t.set_peer_limits(peer(10, 10));
  ConnectionFlowControl flow(1 << 20, 1 << 20);
  std::vector<std::uint64_t> opened;
  auto s = t.for_peer_frame(2, PeerRole::sender, opened);  // the client's first uni stream
  ASSERT_TRUE(s && *s);
  EXPECT_EQ(t.for_peer_frame(6, PeerRole::sender, opened).error(), errc::protocol_violation);
  EXPECT_FALSE(t.retire_if_done(2));  // not done
  std::vector<std::uint8_t> data{1, 2, 3};
  wire::Stream f;
  f.stream_id = 2;
  f.data = data;
  f.fin = true;
  const Instant now{std::chrono::hours(1)};
  ASSERT_FALSE((*s)->on_data(f, flow, now, std::chrono::milliseconds(10)));
  std::array<std::uint8_t, 8> out{};
  ASSERT_EQ(*(*s)->read(out, flow, now, std::chrono::milliseconds(10)), 3u);
  EXPECT_FALSE(t.max_streams_due(StreamDirection::unidirectional));
  ASSERT_TRUE(t.retire_if_done(2));
  EXPECT_EQ(t.find(2), nullptr);
  EXPECT_TRUE(t.was_opened(2));
  EXPECT_FALSE(t.was_opened(6));
  EXPECT_TRUE(t.max_streams_due(StreamDirection::unidirectional));
  EXPECT_EQ(t.local_max_streams(StreamDirection::unidirectional), 2u);
  EXPECT_FALSE(t.max_streams_due(StreamDirection::bidirectional));
  // A late frame for the retired stream finds nothing; the next one may open now.
  auto late = t.for_peer_frame(2, PeerRole::sender, opened);
  ASSERT_TRUE(late);
  EXPECT_EQ(*late, nullptr);
  ASSERT_TRUE(t.for_peer_frame(6, PeerRole::sender, opened));
  t.on_max_streams_sent(StreamDirection::unidirectional);
  EXPECT_FALSE(t.max_streams_due(StreamDirection::unidirectional));
  t.on_max_streams_lost(StreamDirection::unidirectional);
  EXPECT_TRUE(t.max_streams_due(StreamDirection::unidirectional));
}

TEST(StreamTable, NewStreamsStartWithTheTunedWindow) {
  StreamTable t(config(Role::client));
  t.set_peer_limits(peer(10, 10));
  t.grow_stream_window(8000);
  t.grow_stream_window(2000);  // never shrinks
  EXPECT_EQ(t.stream_window(), 8000u);
  ASSERT_EQ(*t.open(StreamDirection::bidirectional), 0u);
  EXPECT_EQ(t.find(0)->receive_window(), 8000u);
}

}  // namespace
}  // namespace srudp::stream
