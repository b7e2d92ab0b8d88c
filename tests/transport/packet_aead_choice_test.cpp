#include "transport/packet_aead_choice.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "wire/transport_params.hpp"

namespace srudp::transport {
namespace {

using crypto::AeadAlgorithm;
using Codes = std::vector<std::uint32_t>;

const Codes kBoth{wire::kPacketAeadAes256Gcm, wire::kPacketAeadChaCha20Poly1305};
const Codes kChaChaOnly{wire::kPacketAeadChaCha20Poly1305};
const Codes kAesOnly{wire::kPacketAeadAes256Gcm};

bool hardware_aes() { return crypto::aead_available(AeadAlgorithm::aes256_gcm); }

TEST(PacketAeadChoice, ADefaultSideOffersAesOnlyWithHardwareAesAndAlwaysChaCha) {
  EXPECT_EQ(offered_packet_aeads(std::nullopt), hardware_aes() ? kBoth : kChaChaOnly);
  EXPECT_EQ(offered_packet_aeads(AeadAlgorithm::chacha20_poly1305), kChaChaOnly);
  EXPECT_EQ(offered_packet_aeads(AeadAlgorithm::aes256_gcm), kAesOnly);
  EXPECT_EQ(offered_packet_aeads(AeadAlgorithm::null_for_testing), kChaChaOnly);  // never on the wire
}

TEST(PacketAeadChoice, AesWhenBothOfferItElseChaCha) {
  EXPECT_EQ(*choose_packet_aead(std::nullopt, kBoth),
            hardware_aes() ? AeadAlgorithm::aes256_gcm : AeadAlgorithm::chacha20_poly1305);
  // The order of the peer's list does not matter: both sides must reach the same answer.
  EXPECT_EQ(*choose_packet_aead(std::nullopt, Codes{wire::kPacketAeadChaCha20Poly1305, wire::kPacketAeadAes256Gcm}),
            *choose_packet_aead(std::nullopt, kBoth));
  EXPECT_EQ(*choose_packet_aead(std::nullopt, kChaChaOnly), AeadAlgorithm::chacha20_poly1305);
  EXPECT_EQ(*choose_packet_aead(AeadAlgorithm::chacha20_poly1305, kBoth), AeadAlgorithm::chacha20_poly1305);
  EXPECT_EQ(*choose_packet_aead(AeadAlgorithm::aes256_gcm, kBoth), AeadAlgorithm::aes256_gcm);
}

TEST(PacketAeadChoice, NothingInCommonFailsTheHandshake) {
  EXPECT_EQ(choose_packet_aead(AeadAlgorithm::aes256_gcm, kChaChaOnly).error(), errc::handshake_failed);
  EXPECT_EQ(choose_packet_aead(AeadAlgorithm::chacha20_poly1305, kAesOnly).error(), errc::handshake_failed);
  EXPECT_EQ(choose_packet_aead(std::nullopt, Codes{}).error(), errc::handshake_failed);  // only unknown codes
  if (!hardware_aes()) {
    EXPECT_EQ(choose_packet_aead(std::nullopt, kAesOnly).error(), errc::handshake_failed);
  }
}

TEST(PacketAeadChoice, NullForTestingIgnoresThePeer) {
  EXPECT_EQ(*choose_packet_aead(AeadAlgorithm::null_for_testing, Codes{}), AeadAlgorithm::null_for_testing);
}

}  // namespace
}  // namespace srudp::transport
