#include "rendezvous/stun_message.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace srudp::rendezvous {
namespace {

// RFC 5769 section 2.2: sample IPv4 response (SOFTWARE, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY,
// FINGERPRINT).
const std::vector<std::uint8_t> kRfc5769V4Response = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

// RFC 5769 section 2.3: sample IPv6 response.
const std::vector<std::uint8_t> kRfc5769V6Response = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

TEST(StunMessage, DecodesRfc5769IPv4Response) {
  const auto m = decode_stun_message(kRfc5769V4Response);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->type, stun_type::binding_success);
  EXPECT_TRUE(m->has_magic_cookie());
  EXPECT_TRUE(m->has_fingerprint);
  ASSERT_EQ(m->attributes.size(), 4u);
  EXPECT_EQ(m->attributes[0].type, stun_attribute::software);
  EXPECT_EQ(m->attributes[0].value.size(), 11u);
  const auto* x = m->find(stun_attribute::xor_mapped_address);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(decode_xor_mapped_address(x->value, m->id_field), SocketAddress::v4(192, 0, 2, 1, 32853));
  EXPECT_EQ(m->transaction_id()[0], 0xb7);
}

TEST(StunMessage, DecodesRfc5769IPv6Response) {
  const auto m = decode_stun_message(kRfc5769V6Response);
  ASSERT_TRUE(m) << m.error().message();
  const auto* x = m->find(stun_attribute::xor_mapped_address);
  ASSERT_NE(x, nullptr);
  const auto address = decode_xor_mapped_address(x->value, m->id_field);
  ASSERT_TRUE(address);
  EXPECT_EQ(address->to_string(), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

TEST(StunMessage, WriterReproducesTheFingerprint) {
  // Rebuild the IPv4 sample's first attributes and FINGERPRINT: same bytes as the RFC.
  const auto sample = decode_stun_message(kRfc5769V4Response).value();
  std::vector<std::uint8_t> out(128);
  StunWriter writer(out, stun_type::binding_success, sample.id_field);
  for (std::size_t i = 0; i < 3; ++i) writer.add(sample.attributes[i].type, sample.attributes[i].value);
  writer.add_fingerprint();
  const auto size = writer.finish();
  ASSERT_TRUE(size);
  ASSERT_EQ(*size, kRfc5769V4Response.size());
  // The SOFTWARE padding differs (the RFC pads with spaces, the writer with zeros), so compare
  // around it and check that the fingerprint verifies.
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 35, kRfc5769V4Response.begin()));
  EXPECT_TRUE(std::equal(out.begin() + 36, out.begin() + 76, kRfc5769V4Response.begin() + 36));
  EXPECT_TRUE(decode_stun_message(std::span(out).first(*size)));
}

TEST(StunMessage, AddressAttributesRoundTrip) {
  StunIdField id{};
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(i * 13 + 1);
  for (const auto& address : {SocketAddress::v4(203, 0, 113, 7, 41234), *SocketAddress::parse("[2001:db8::7]:9")}) {
    std::vector<std::uint8_t> out(128);
    StunWriter writer(out, stun_type::binding_success, id);
    writer.add_xor_mapped_address(address);
    writer.add_mapped_address(address);
    const auto size = writer.finish();
    ASSERT_TRUE(size);
    const auto m = decode_stun_message(std::span(out).first(*size));
    ASSERT_TRUE(m);
    EXPECT_EQ(decode_xor_mapped_address(m->find(stun_attribute::xor_mapped_address)->value, id), address);
    EXPECT_EQ(decode_mapped_address(m->find(stun_attribute::mapped_address)->value), address);
  }
}

TEST(StunMessage, RejectsMalformed) {
  auto corrupt = kRfc5769V4Response;
  corrupt[45] ^= 1;  // inside XOR-MAPPED-ADDRESS: the fingerprint no longer matches
  EXPECT_EQ(decode_stun_message(corrupt).error(), errc::bad_mac);
  auto rtp = kRfc5769V4Response;
  rtp[0] = 0x80;  // top bits set: RTP or srudp, not STUN
  EXPECT_FALSE(decode_stun_message(rtp));
  auto short_length = kRfc5769V4Response;
  short_length[3] = 0x38;
  EXPECT_FALSE(decode_stun_message(short_length));
  EXPECT_FALSE(decode_stun_message(std::span(kRfc5769V4Response).first(19)));
  auto misaligned = kRfc5769V4Response;
  misaligned[3] = 0x3d;
  misaligned.push_back(0);
  EXPECT_FALSE(decode_stun_message(misaligned));
  // An attribute running past the end.
  std::vector<std::uint8_t> overrun = {0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0,
                                       0,    0,    0,    0,    0,    0,    0,    0,    0x00, 0x26, 0x00, 0x08};
  EXPECT_FALSE(decode_stun_message(overrun));
  // Something after FINGERPRINT.
  std::vector<std::uint8_t> buffer(64);
  StunWriter writer(buffer, stun_type::binding_request, StunIdField{0x21, 0x12, 0xa4, 0x42});
  writer.add_fingerprint();
  writer.add_padding(4);
  EXPECT_FALSE(decode_stun_message(std::span(buffer).first(writer.finish().value())));
  EXPECT_FALSE(decode_mapped_address(std::vector<std::uint8_t>{0, 3, 0, 1, 1, 2, 3, 4}));  // family 3
  EXPECT_FALSE(decode_mapped_address(std::vector<std::uint8_t>{0, 1, 0, 1, 1, 2, 3}));      // short
}

TEST(StunMessage, WriterReportsOverflow) {
  std::vector<std::uint8_t> small(30);
  StunWriter writer(small, stun_type::binding_success, StunIdField{});
  writer.add_xor_mapped_address(SocketAddress::v4(1, 2, 3, 4, 5));
  EXPECT_EQ(writer.finish().error(), errc::buffer_too_small);
  std::vector<std::uint8_t> tiny(10);
  EXPECT_FALSE(StunWriter(tiny, stun_type::binding_success, StunIdField{}).finish());
}

}  // namespace
}  // namespace srudp::rendezvous
