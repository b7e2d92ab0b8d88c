#include "rendezvous/relay_framing.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace srudp::rendezvous {
namespace {

using Kind = RelayFrameReader::Frame::Kind;

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t first) {
  std::vector<std::uint8_t> out(n);
  std::iota(out.begin(), out.end(), first);
  return out;
}

TEST(RelayFraming, FramesSurviveAnySegmentation) {
  const std::vector<std::vector<std::uint8_t>> datagrams = {bytes(1, 7), bytes(1200, 1), bytes(kMaxRelayDatagram, 3),
                                                            bytes(40, 9)};
  std::vector<std::uint8_t> stream;
  for (const auto& d : datagrams) {
    ASSERT_FALSE(append_relay_frame(d, stream));
    ASSERT_FALSE(append_relay_frame({}, stream));  // a keepalive between each
  }
  for (const std::size_t segment : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{1000}, stream.size()}) {
    RelayFrameReader reader;
    std::vector<std::vector<std::uint8_t>> got;
    for (std::size_t at = 0; at < stream.size(); at += segment) {
      reader.feed(std::span(stream).subspan(at, std::min(segment, stream.size() - at)));
      for (auto frame = reader.next(); frame.kind != Kind::need_more; frame = reader.next()) {
        ASSERT_EQ(frame.kind, Kind::datagram);
        got.emplace_back(frame.datagram.begin(), frame.datagram.end());
      }
    }
    EXPECT_EQ(got, datagrams) << "segment " << segment;
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(RelayFraming, OversizedFramesAreRefusedBothWays) {
  std::vector<std::uint8_t> out;
  EXPECT_EQ(append_relay_frame(bytes(kMaxRelayDatagram + 1, 0), out), errc::invalid_argument);
  EXPECT_TRUE(out.empty());

  RelayFrameReader reader;
  const std::uint8_t http[] = {'H', 'T', 'T', 'P', '/', '1', '.', '1'};  // 0x4854: 18516 bytes
  reader.feed(http);
  EXPECT_EQ(reader.next().kind, Kind::malformed);
  reader.feed(bytes(10, 0));
  EXPECT_EQ(reader.next().kind, Kind::malformed);  // it stays so
  EXPECT_EQ(reader.buffered(), 0u);                // and keeps nothing
}

TEST(RelayFraming, BufferStaysBoundedByOneFrame) {
  RelayFrameReader reader;
  std::vector<std::uint8_t> frame;
  ASSERT_FALSE(append_relay_frame(bytes(1000, 0), frame));
  for (int i = 0; i < 10000; ++i) {
    reader.feed(frame);
    const auto f = reader.next();
    ASSERT_EQ(f.kind, Kind::datagram);
    ASSERT_EQ(f.datagram.size(), 1000u);
    ASSERT_EQ(reader.next().kind, Kind::need_more);
  }
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(RelayFraming, RelayAddressIsOutsideAnyRealNetwork) {
  EXPECT_TRUE(is_relay_path_address(relay_path_address()));
  EXPECT_EQ(relay_path_address().to_string(), "[100::]:1");
  EXPECT_FALSE(is_relay_path_address(SocketAddress::v4(127, 0, 0, 1, 1)));
  EXPECT_FALSE(is_relay_path_address(*SocketAddress::parse("[2001:db8::1]:1")));
}

}  // namespace
}  // namespace srudp::rendezvous
