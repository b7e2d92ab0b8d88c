#include "stream/stream_id.hpp"

#include <gtest/gtest.h>

namespace srudp::stream {
namespace {

TEST(StreamId, BitsAsInQuic) {
  EXPECT_EQ(make_stream_id(0, Role::client, StreamDirection::bidirectional), 0u);
  EXPECT_EQ(make_stream_id(0, Role::server, StreamDirection::bidirectional), 1u);
  EXPECT_EQ(make_stream_id(0, Role::client, StreamDirection::unidirectional), 2u);
  EXPECT_EQ(make_stream_id(5, Role::server, StreamDirection::unidirectional), 23u);
  EXPECT_EQ(stream_index(23), 5u);
  EXPECT_EQ(direction_of(23), StreamDirection::unidirectional);
  EXPECT_EQ(direction_of(4), StreamDirection::bidirectional);
  EXPECT_TRUE(is_client_initiated(4));
  EXPECT_FALSE(is_client_initiated(5));
}

TEST(StreamId, WhichHalvesEachSideHas) {
  // Client's unidirectional stream 2: the client only sends, the server only receives.
  EXPECT_TRUE(is_local(2, Role::client));
  EXPECT_TRUE(can_send(2, Role::client));
  EXPECT_FALSE(can_receive(2, Role::client));
  EXPECT_FALSE(can_send(2, Role::server));
  EXPECT_TRUE(can_receive(2, Role::server));
  // Server's bidirectional stream 1: both sides do both.
  for (Role r : {Role::client, Role::server}) {
    EXPECT_TRUE(can_send(1, r));
    EXPECT_TRUE(can_receive(1, r));
  }
}

}  // namespace
}  // namespace srudp::stream
