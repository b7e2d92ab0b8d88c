#include "crypto/noise_pattern.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace srudp::crypto {
namespace {

TEST(NoisePatternTest, TableIsIndexedById) {
  const auto patterns = all_noise_patterns();
  ASSERT_FALSE(patterns.empty());
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(patterns[i].id), i);
    EXPECT_EQ(&noise_pattern(patterns[i].id), &patterns[i]);
    EXPECT_EQ(find_noise_pattern(patterns[i].name), patterns[i].id);
  }
  EXPECT_EQ(find_noise_pattern("XXpsk9"), std::nullopt);
}

TEST(NoisePatternTest, ProtocolNames) {
  EXPECT_EQ(noise_protocol_name(NoisePatternId::XXpsk3), "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b");
  EXPECT_EQ(noise_protocol_name(NoisePatternId::IK), "Noise_IK_25519_ChaChaPoly_BLAKE2b");
}

TEST(NoisePatternTest, RequiredPatternsArePresent) {
  for (const char* name : {"NN", "NNpsk0", "XX", "XXpsk3", "IK", "IKpsk2"}) {
    EXPECT_TRUE(find_noise_pattern(name).has_value()) << name;
  }
}

// A psk pattern is its base pattern with one psk token placed by the modifier rule: psk0 at the
// start of the first message, pskN (N >= 1) at the end of message N.
TEST(NoisePatternTest, PskVariantsFollowTheModifierRule) {
  for (const NoisePattern& pattern : all_noise_patterns()) {
    const std::string name(pattern.name);
    const auto psk_at = name.find("psk");
    EXPECT_EQ(pattern.uses_psk, psk_at != std::string::npos) << name;
    if (psk_at == std::string::npos) continue;
    const auto base = find_noise_pattern(name.substr(0, psk_at));
    ASSERT_TRUE(base.has_value()) << name;
    const NoisePattern& base_pattern = noise_pattern(*base);
    const auto modifier = static_cast<std::size_t>(std::stoul(name.substr(psk_at + 3)));

    ASSERT_EQ(pattern.messages.size(), base_pattern.messages.size()) << name;
    EXPECT_TRUE(std::ranges::equal(pattern.initiator_premessage, base_pattern.initiator_premessage));
    EXPECT_TRUE(std::ranges::equal(pattern.responder_premessage, base_pattern.responder_premessage));
    for (std::size_t i = 0; i < pattern.messages.size(); ++i) {
      std::vector<NoiseToken> expected(base_pattern.messages[i].begin(),
                                       base_pattern.messages[i].end());
      if (modifier == 0 && i == 0) expected.insert(expected.begin(), NoiseToken::psk);
      if (modifier >= 1 && i + 1 == modifier) expected.push_back(NoiseToken::psk);
      EXPECT_TRUE(std::ranges::equal(pattern.messages[i], expected)) << name << " message " << i;
    }
  }
}

// Every side sends exactly one ephemeral, in its first message, before any DH that uses it.
TEST(NoisePatternTest, EachSideSendsOneEphemeralFirst) {
  for (const NoisePattern& pattern : all_noise_patterns()) {
    for (const bool initiator : {true, false}) {
      int count = 0;
      for (std::size_t i = 0; i < pattern.messages.size(); ++i) {
        if (written_by_initiator(i) != initiator) continue;
        count += static_cast<int>(std::ranges::count(pattern.messages[i], NoiseToken::e));
        if (count == 0) ADD_FAILURE() << pattern.name << ": first message without e";
      }
      EXPECT_EQ(count, 1) << pattern.name;
    }
  }
}

}  // namespace
}  // namespace srudp::crypto
