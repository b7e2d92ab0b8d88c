#include "rendezvous/stun_binding.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace srudp::rendezvous {
namespace {

const StunTransactionId kId = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
const auto kSourceV4 = SocketAddress::v4(198, 51, 100, 9, 39841);
const auto kSourceV6 = *SocketAddress::parse("[2001:db8::9]:40000");

std::vector<std::uint8_t> padded_request() {
  std::vector<std::uint8_t> out(kStunBindingRequestSize);
  EXPECT_EQ(write_stun_binding_request(kId, out).value(), kStunBindingRequestSize);
  return out;
}

std::vector<std::uint8_t> request_with(std::size_t padding, bool fingerprint, std::uint16_t extra = 0) {
  StunIdField id{0x21, 0x12, 0xa4, 0x42};
  std::copy(kId.begin(), kId.end(), id.begin() + 4);
  std::vector<std::uint8_t> out(256);
  StunWriter writer(out, stun_type::binding_request, id);
  if (padding > 0) writer.add_padding(padding);
  if (extra != 0) writer.add(extra, std::vector<std::uint8_t>(4, 0));
  if (fingerprint) writer.add_fingerprint();
  out.resize(writer.finish().value());
  return out;
}

TEST(StunBinding, PaddedRequestGetsXorMappedAddressBothFamilies) {
  for (const auto& source : {kSourceV4, kSourceV6}) {
    const auto request = padded_request();
    std::vector<std::uint8_t> reply(1500);
    const auto answer = answer_stun_binding(request, source, reply, {});
    ASSERT_EQ(answer.kind, StunAnswer::Kind::success);
    EXPECT_LE(answer.size, request.size());
    reply.resize(answer.size);
    EXPECT_EQ(read_stun_binding_response(reply, kId).value(), source);
    const auto decoded = decode_stun_message(reply).value();
    EXPECT_TRUE(decoded.has_fingerprint);  // the request had one
    EXPECT_EQ(decoded.id_field, decode_stun_message(request).value().id_field);
  }
}

TEST(StunBinding, ReplyIsNeverLargerThanTheRequest) {
  std::vector<std::uint8_t> reply(1500);
  // A bare 20-byte request: any useful reply is larger, so none.
  EXPECT_EQ(answer_stun_binding(request_with(0, false), kSourceV4, reply, {}).kind, StunAnswer::Kind::too_large);
  // 32 bytes fit an IPv4 reply (20 + 12) but not an IPv6 one (20 + 24).
  const auto v4_sized = request_with(8, false);
  ASSERT_EQ(v4_sized.size(), 32u);
  EXPECT_EQ(answer_stun_binding(v4_sized, kSourceV4, reply, {}).kind, StunAnswer::Kind::success);
  EXPECT_EQ(answer_stun_binding(v4_sized, kSourceV6, reply, {}).kind, StunAnswer::Kind::too_large);
  // With FINGERPRINT the reply carries one too, and must still fit.
  for (std::size_t pad = 0; pad <= 40; pad += 4) {
    for (const bool fp : {false, true}) {
      for (const auto& source : {kSourceV4, kSourceV6}) {
        const auto request = request_with(pad, fp);
        const auto answer = answer_stun_binding(request, source, reply, {});
        EXPECT_LE(answer.size, request.size());
        const std::size_t needed = 20u + (source.is_v4() ? 12u : 24u) + (fp ? 8u : 0u);
        EXPECT_EQ(answer.kind == StunAnswer::Kind::success, request.size() >= needed) << pad << fp;
      }
    }
  }
  // Nor larger than the caller's buffer.
  std::vector<std::uint8_t> small(20);
  EXPECT_EQ(answer_stun_binding(padded_request(), kSourceV4, small, {}).kind, StunAnswer::Kind::too_large);
}

TEST(StunBinding, UnknownComprehensionRequiredAttributeGets420) {
  const auto request = request_with(40, true, 0x0027);  // RESPONSE-PORT: not supported here
  std::vector<std::uint8_t> reply(1500);
  const auto answer = answer_stun_binding(request, kSourceV4, reply, {});
  ASSERT_EQ(answer.kind, StunAnswer::Kind::error);
  EXPECT_LE(answer.size, request.size());
  const auto m = decode_stun_message(std::span(reply).first(answer.size)).value();
  EXPECT_EQ(m.type, stun_type::binding_error);
  const auto* code = m.find(stun_attribute::error_code);
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->value[2] * 100 + code->value[3], 420);
  const auto* unknown = m.find(stun_attribute::unknown_attributes);
  ASSERT_NE(unknown, nullptr);
  EXPECT_EQ((unknown->value[0] << 8) | unknown->value[1], 0x0027);
  // Optional attributes (>= 0x8000) are ignored.
  EXPECT_EQ(answer_stun_binding(request_with(40, true, 0x8022), kSourceV4, reply, {}).kind,
            StunAnswer::Kind::success);
  // CHANGE-REQUEST asking for no change is fine; asking for a change is not supported.
  EXPECT_EQ(answer_stun_binding(request_with(40, true, stun_attribute::change_request), kSourceV4, reply, {}).kind,
            StunAnswer::Kind::success);
}

TEST(StunBinding, IgnoresWhatIsNotABindingRequest) {
  std::vector<std::uint8_t> reply(1500);
  auto indication = padded_request();
  indication[1] = 0x11;
  // Re-stamp the fingerprint so only the type differs.
  auto m = decode_stun_message(padded_request()).value();
  std::vector<std::uint8_t> rebuilt(128);
  StunWriter writer(rebuilt, stun_type::binding_indication, m.id_field);
  writer.add_padding(20);
  writer.add_fingerprint();
  rebuilt.resize(writer.finish().value());
  EXPECT_EQ(answer_stun_binding(rebuilt, kSourceV4, reply, {}).kind, StunAnswer::Kind::ignored);
  EXPECT_EQ(answer_stun_binding(indication, kSourceV4, reply, {}).kind, StunAnswer::Kind::ignored);
  const std::vector<std::uint8_t> srudp_packet(60, 0xC3);
  EXPECT_EQ(answer_stun_binding(srudp_packet, kSourceV4, reply, {}).kind, StunAnswer::Kind::ignored);
  EXPECT_EQ(answer_stun_binding({}, kSourceV4, reply, {}).kind, StunAnswer::Kind::ignored);
}

// What Debian's stun client (RFC 3489) sends: no magic cookie, CHANGE-REQUEST with no flags.
std::vector<std::uint8_t> rfc3489_request(std::uint8_t change_flags = 0) {
  return {0x00, 0x01, 0x00, 0x08, 0x01, 0x4a, 0xc8, 0x66, 0x48, 0xa0, 0x1c, 0x1c, 0x3e, 0x47,
          0xd1, 0x02, 0x96, 0xa3, 0xba, 0x01, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, change_flags};
}

TEST(StunBinding, Rfc3489ClientsOnlyWhenEnabled) {
  std::vector<std::uint8_t> reply(1500);
  const auto request = rfc3489_request();
  EXPECT_EQ(answer_stun_binding(request, kSourceV4, reply, {}).kind, StunAnswer::Kind::rfc3489_refused);
  const StunBindingRules legacy{.answer_rfc3489 = true};
  const auto answer = answer_stun_binding(request, kSourceV4, reply, legacy);
  ASSERT_EQ(answer.kind, StunAnswer::Kind::success);
  EXPECT_EQ(answer.size, request.size() + kRfc3489Allowance);
  const auto m = decode_stun_message(std::span(reply).first(answer.size)).value();
  EXPECT_FALSE(m.has_magic_cookie());
  EXPECT_TRUE(std::equal(m.id_field.begin(), m.id_field.end(), request.begin() + 4));  // copied
  EXPECT_EQ(decode_mapped_address(m.find(stun_attribute::mapped_address)->value), kSourceV4);
  // IPv6 needs 44 bytes: beyond the allowance. A requested change of address cannot be honoured.
  EXPECT_EQ(answer_stun_binding(request, kSourceV6, reply, legacy).kind, StunAnswer::Kind::too_large);
  EXPECT_EQ(answer_stun_binding(rfc3489_request(0x06), kSourceV4, reply, legacy).kind, StunAnswer::Kind::ignored);
}

TEST(StunBinding, ClientReadsOnlyItsOwnSuccess) {
  std::vector<std::uint8_t> reply(1500);
  const auto answer = answer_stun_binding(padded_request(), kSourceV4, reply, {});
  reply.resize(answer.size);
  StunTransactionId other = kId;
  other[11] ^= 1;
  EXPECT_EQ(read_stun_binding_response(reply, other).error(), errc::unexpected_packet);
  EXPECT_FALSE(read_stun_binding_response(padded_request(), kId));  // a request, not a response
}

}  // namespace
}  // namespace srudp::rendezvous
