#include "rendezvous/token.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace srudp::rendezvous {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Token, Base32MatchesRfc4648Vectors) {
  // RFC 4648 section 10, lowercase and without padding.
  EXPECT_EQ(base32_encode(bytes("")), "");
  EXPECT_EQ(base32_encode(bytes("f")), "my");
  EXPECT_EQ(base32_encode(bytes("fo")), "mzxq");
  EXPECT_EQ(base32_encode(bytes("foo")), "mzxw6");
  EXPECT_EQ(base32_encode(bytes("foob")), "mzxw6yq");
  EXPECT_EQ(base32_encode(bytes("fooba")), "mzxw6ytb");
  EXPECT_EQ(base32_encode(bytes("foobar")), "mzxw6ytboi");
}

TEST(Token, FreshTokensCarry160Bits) {
  SystemRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto token = make_token(random);
    EXPECT_EQ(token.size(), 32u);  // 160 bits / 5 bits per character
    EXPECT_EQ(token.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567"), std::string::npos);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 100u);
  SeededRandom a(7), b(7);
  EXPECT_EQ(make_token(a), make_token(b));
}

}  // namespace
}  // namespace srudp::rendezvous
