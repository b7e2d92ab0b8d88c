#include "rendezvous/path_check.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "rendezvous/stun_binding.hpp"
#include "rendezvous/token.hpp"

namespace srudp::rendezvous {
namespace {

struct Keys {
  CheckKey dialer{}, acceptor{};
  Keys() {
    auto s = derive_token_secrets("a shared token");
    dialer = s->dialer_check_key;
    acceptor = s->acceptor_check_key;
  }
};

const StunTransactionId kId = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

TEST(PathCheck, RequestAndResponseAuthenticateUnderTheSendersKey) {
  Keys k;
  std::vector<std::uint8_t> request(256);
  const auto size = write_path_check_request(kId, k.dialer, request);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, kPathCheckRequestSize);
  request.resize(*size);
  auto read = read_path_check(request, k.dialer);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->kind, PathCheckMessage::Kind::request);

  for (const auto& source : {SocketAddress::v4(198, 51, 100, 7, 40000), *SocketAddress::parse("[2001:db8::9]:5")}) {
    std::vector<std::uint8_t> response(256);
    const auto n = write_path_check_response(read->id_field, source, k.acceptor, response);
    ASSERT_TRUE(n);
    EXPECT_LE(*n, request.size()) << "a response must never be larger than its request";
    response.resize(*n);
    auto answer = read_path_check(response, k.acceptor);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->kind, PathCheckMessage::Kind::response);
    EXPECT_EQ(answer->mapped, source);
    EXPECT_EQ(answer->id_field, read->id_field);
    // Reflected back at the acceptor, who would check it with the dialer's key: refused.
    EXPECT_EQ(read_path_check(response, k.dialer).error(), errc::decrypt_failed);
  }
}

TEST(PathCheck, ForgeriesAndOtherStunAreTold) {
  Keys k;
  std::vector<std::uint8_t> request(256);
  request.resize(*write_path_check_request(kId, k.dialer, request));
  // Another token's key (an attacker who knows the format but not the token).
  auto other = derive_token_secrets("another token");
  std::vector<std::uint8_t> forged(256);
  forged.resize(*write_path_check_request(kId, other->dialer_check_key, forged));
  EXPECT_EQ(read_path_check(forged, k.dialer).error(), errc::decrypt_failed);
  // Every single bit flipped: never accepted.
  for (std::size_t bit = 0; bit < request.size() * 8; ++bit) {
    auto flipped = request;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(read_path_check(flipped, k.dialer)) << "bit " << bit;
  }
  // A STUN server's plain Binding answer is not a check at all (malformed, not a forgery).
  std::vector<std::uint8_t> binding(kStunBindingRequestSize);
  ASSERT_TRUE(write_stun_binding_request(kId, binding));
  std::vector<std::uint8_t> answer(256);
  const auto a = answer_stun_binding(binding, SocketAddress::v4(1, 2, 3, 4, 5), answer, {});
  ASSERT_EQ(a.kind, StunAnswer::Kind::success);
  answer.resize(a.size);
  EXPECT_EQ(read_path_check(answer, k.dialer).error(), errc::malformed);
  EXPECT_EQ(read_path_check(std::vector<std::uint8_t>{0x42, 1, 2}, k.dialer).error(), errc::malformed);
}

}  // namespace
}  // namespace srudp::rendezvous
