#include "rendezvous/token.hpp"

#include <gtest/gtest.h>

#include <array>
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

// The construction in docs/RDV.md, checked against an independent implementation (Python's
// hashlib.blake2b with key = label): lookup id = base32(BLAKE2b-160(token, key "srudp/1 rdv lookup
// id")), PSK = BLAKE2b-256(token, key "srudp/1 rdv handshake psk").
TEST(Token, SecretsMatchTheDocumentedDerivation) {
  auto s = derive_token_secrets("abcdefghijklmnopqrstuvwxyz234567");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->lookup_id, "24i7vvnbekyil6mizb4luez4ir5gv6nl");
  std::string psk_hex;
  for (const std::uint8_t b : s->psk) {
    static const char* digits = "0123456789abcdef";
    psk_hex += digits[b >> 4];
    psk_hex += digits[b & 15];
  }
  EXPECT_EQ(psk_hex, "ddf101e6ef443b7a21df790a594af0c6ed69ef5d2f7cb583ce2793a705e83a39");
}

TEST(Token, LookupIdAndPskAreIndependentOfEachOtherAndOfOtherTokens) {
  SeededRandom random(8);
  std::set<std::string> lookups;
  std::set<std::array<std::uint8_t, 32>> psks;
  for (int i = 0; i < 200; ++i) {
    const std::string token = make_token(random);
    auto s = derive_token_secrets(token);
    ASSERT_TRUE(s);
    EXPECT_NE(s->lookup_id, token);  // the server never sees the token itself
    EXPECT_EQ(s->lookup_id.size(), 32u);
    lookups.insert(s->lookup_id);
    psks.insert(s->psk);
    auto again = derive_token_secrets(token);
    EXPECT_EQ(again->lookup_id, s->lookup_id);  // both peers derive the same
    EXPECT_EQ(again->psk, s->psk);
  }
  EXPECT_EQ(lookups.size(), 200u);
  EXPECT_EQ(psks.size(), 200u);
  EXPECT_EQ(derive_token_secrets("").error(), errc::invalid_argument);
  EXPECT_EQ(derive_token_secrets(std::string(kMaxTokenSize + 1, 'a')).error(), errc::invalid_argument);
  EXPECT_TRUE(derive_token_secrets(std::string(kMaxTokenSize, 'a')));
}

}  // namespace
}  // namespace srudp::rendezvous
