#include "rendezvous/candidate_list.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

TEST(CandidateList, ParsesRdvHeaderForm) {
  const auto list = parse_candidate_list("192.168.1.16:39841, [2001:db8::5]:39841,10.0.0.1:1", 9);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], SocketAddress::v4(192, 168, 1, 16, 39841));
  EXPECT_EQ((*list)[1].to_string(), "[2001:db8::5]:39841");
  EXPECT_EQ((*list)[2], SocketAddress::v4(10, 0, 0, 1, 1));
}

TEST(CandidateList, EmptyHeaderIsEmptyList) {
  for (const char* empty : {"", "  ", "\t"}) {
    const auto list = parse_candidate_list(empty, 9);
    ASSERT_TRUE(list) << empty;
    EXPECT_TRUE(list->empty());
  }
}

TEST(CandidateList, RejectsMalformedElements) {
  for (const char* bad : {"1.2.3.4:5,", ",1.2.3.4:5", "1.2.3.4:5,,1.2.3.4:6", "1.2.3.4", "host:80",
                          "0.0.0.0:80", "[::]:80", "1.2.3.4:0", "[fe80::1%eth0]:5", "1.2.3.4:5 6.7.8.9:1"}) {
    const auto list = parse_candidate_list(bad, 9);
    EXPECT_FALSE(list) << bad;
    if (!list) {
      EXPECT_EQ(list.error(), errc::malformed) << bad;
    }
  }
}

TEST(CandidateList, EnforcesTheCount) {
  std::string header;
  for (int i = 1; i <= 10; ++i) header += (i > 1 ? ", " : "") + std::string("10.0.0.1:") + std::to_string(i);
  const auto ten = parse_candidate_list(header, kMaxSelfAddrs);
  ASSERT_FALSE(ten);
  EXPECT_EQ(ten.error(), errc::value_out_of_range);
  EXPECT_TRUE(parse_candidate_list(header.substr(0, header.rfind(',')), kMaxSelfAddrs));
}

TEST(CandidateList, FormatsAndRoundTrips) {
  const CandidateList list = {SocketAddress::v4(203, 0, 113, 7, 41234), *SocketAddress::parse("[2001:db8::7]:9")};
  const auto text = format_candidate_list(list);
  EXPECT_EQ(text, "203.0.113.7:41234, [2001:db8::7]:9");
  const auto parsed = parse_candidate_list(text, 9);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, list);
  EXPECT_EQ(format_candidate_list({}), "");
}

TEST(CandidateList, PeerCandidatesAreSortedV4FirstAndDeduplicated) {
  const auto v6 = *SocketAddress::parse("[::1]:5");  // sorts before ::ffff:... by bytes, but is IPv6
  const CandidateList self = {SocketAddress::v4(192, 168, 1, 20, 41234), v6,
                              SocketAddress::v4(10, 0, 0, 2, 7)};
  const auto observed = SocketAddress::v4(192, 168, 1, 20, 41234);  // already reported
  const auto peers = peer_candidates(self, observed);
  ASSERT_EQ(peers.size(), 3u);
  EXPECT_EQ(peers[0], SocketAddress::v4(10, 0, 0, 2, 7));
  EXPECT_EQ(peers[1], SocketAddress::v4(192, 168, 1, 20, 41234));
  EXPECT_EQ(peers[2], v6);
  EXPECT_EQ(peer_candidates(self, std::nullopt).size(), 3u);
  EXPECT_EQ(peer_candidates({}, SocketAddress::v4(1, 2, 3, 4, 5)), CandidateList{SocketAddress::v4(1, 2, 3, 4, 5)});
}

}  // namespace
}  // namespace srudp::rendezvous
