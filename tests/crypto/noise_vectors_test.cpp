// Official Noise test vectors for the *_25519_ChaChaPoly_BLAKE2b suite, from two independent
// implementations:
// - cacophony (Haskell), as shipped in github.com/mcginty/snow tests/vectors/cacophony.txt at
//   commit aabed3159deec0a0dfe3d5601c43322d84700c94: NN, NNpsk0, XX, XXpsk3. (Older copies of that
//   file carry a wrong "handshake_hash": an intermediate h, not the final one. The ciphertexts are
//   the same in every copy.)
// - noise-c (C), github.com/rweather/noise-c tests/vector/noise-c-basic.txt: IK (and NN, whose
//   transport messages equal cacophony's since the prologue only enters h).
// Every handshake message and every transport message is checked byte-for-byte, as is the final
// handshake hash. Transport messages use Noise CipherStates keyed with the raw Split() keys, so
// the split keys are verified too.
#include "crypto/noise_handshake_state.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/noise_cipher_state.hpp"

namespace srudp::crypto {
namespace {

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    return static_cast<std::uint8_t>(c - 'a' + 10);
  };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

KeyPair key_pair_from_hex(std::string_view hex) {
  const auto bytes = from_hex(hex);
  return KeyPair::from_secret(SecretKey(std::span<const std::uint8_t, kKeySize>(bytes.data(), kKeySize)));
}

// Inputs shared by every vector used here (only the prologue differs between the two sources).
constexpr std::string_view kCacophonyPrologue = "4a6f686e2047616c74";  // "John Galt"
constexpr std::string_view kNoiseCPrologue = "50726f6c6f677565313233";  // "Prologue123"
constexpr std::string_view kInitStatic =
    "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
constexpr std::string_view kInitEphemeral =
    "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
constexpr std::string_view kRespStatic =
    "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
constexpr std::string_view kRespStaticPublic =  // "init_remote_static" in the vectors
    "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
constexpr std::string_view kRespEphemeral =
    "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
constexpr std::string_view kPsk =  // "This is my Australian perspective!"
    "54686973206973206d7920417573747269616e20706572737065637469766521";
constexpr std::array<std::string_view, 6> kPayloads{
    "4c756477696720766f6e204d69736573",            // "Ludwig von Mises"
    "4d757272617920526f746862617264",              // "Murray Rothbard"
    "462e20412e20486179656b",                      // "F. A. Hayek"
    "4361726c204d656e676572",                      // "Carl Menger"
    "4a65616e2d426170746973746520536179",          // "Jean-Baptiste Say"
    "457567656e2042f6686d20766f6e2042617765726b",  // "Eugen Böhm von Bawerk"
};

struct Vector {
  NoisePatternId pattern;
  std::string_view prologue;
  bool initiator_has_static;
  bool responder_has_static;
  bool initiator_knows_responder;  // responder's static is a pre-message (IK)
  bool psk;
  std::string_view handshake_hash;
  std::array<std::string_view, 6> ciphertexts;  // handshake messages, then transport messages
};

const Vector kNN{
    NoisePatternId::NN, kCacophonyPrologue, false, false, false, false,
    "25b3d1154146a2e058e4db548e0841992cf33a972d5b85a908e4fb8f14b6d94f"
    "4987e17baa330c93dd842d6eda030cd47190c60d7c862574078779aba1302a2e",
    {
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
        "4c756477696720766f6e204d69736573",
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
        "d10cf8ef4ab895bed3e4673211f0c9337039d63a450c7b28196b8a0ebade00",
        "e50ec882703a1f34bf4957d8cafd036d34e02930f672f424c676e1",
        "35bb2a728d3e8e5f47781d486089e4a37c5c2e4261256f44569a9f",
        "69ee82006e16b79438a34ad9de37ee44d83c267e355750ecf49f194b5c50403030",
        "c568b641b01d2f644f2a890538c359915ca50552e55129c029d3721866c2646a7af3fd1eff",
    }};

const Vector kNNpsk0{
    NoisePatternId::NNpsk0, kCacophonyPrologue, false, false, false, true,
    "ed5e9692d0ab507b6c2beec3f584fd5b127817a9d20b26cd50aa72c507260fa3"
    "1aa7d88dd3723316338af37ce0b4cfb2923aeb848bbf2b934911306f01ffc963",
    {
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
        "ed63df2f5a12aee1185ee9c50305f2ecf12421dcb53c047a63b784cf7c54a105",
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
        "0e0fe7d5c0c9b92f7478716c8852f1b4f389edb75e3ebe546fafafd5b6f0f7",
        "0fe04b26dcfbb69f8a6a94c61f1a26ef88769218d32f5d17c068a6",
        "2239e0c540c01f09eb1f4cc5258fd5acfefff18a5a3773f21b7bfe",
        "f216cb03d30fb8af1e561fe02a07552d09b416e27a75e62c77d193718b0bdaae9f",
        "6e8baf98b944184dd7dc5ef14d8108cbeca626de118a5460f3308e294d61e17238bce29bd9",
    }};

const Vector kXX{
    NoisePatternId::XX, kCacophonyPrologue, true, true, false, false,
    "8cf47d7b3cb5804c0109d48e8bcdbee2cbb65687d8ea2c92994ca361fb86151a"
    "d93627b98936cbb32de56e8abb21def3925011ac3e35db9cbeea73ab9a4392c2",
    {
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
        "4c756477696720766f6e204d69736573",
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
        "0505b6745ce64a5f33f0e8e3b83f11ce8802bca507f4f2d8b564dbe277e19661"
        "16e132faa2dfd70b8b077b9f94b913df5056ae1319469b824a98d54bbaa82c32"
        "5595587064f978c4b6d104f7596e6f",
        "99579e1c1ee15e422a57ddd6b16d37087b17558e8369c18991b4b2ca3a824abf"
        "904cdcf5458b5431a75af034ca9e9b982de039eaaf156775e2d580cd4e5ebae8"
        "9c3f8cb2594b556d8a8169",
        "fc56eea290b3f3a21aac0c70cd5787b5ee99be37d2f4d751329b55",
        "bb31c9da10d5639a4cdb88a12f5c61de41bbc7df09bf75d94f8184fe4157f5c68f",
        "f6199cadb152fb27f82be0a0891ec76a33598ae92a46cab2fb5a8ed5bf48b7f267f8370af7",
    }};

const Vector kXXpsk3{
    NoisePatternId::XXpsk3, kCacophonyPrologue, true, true, false, true,
    "46b5997dfa51492ae9be5b611748455e83aebdbc2ea3c47d264ec6dd408cc076"
    "e962ff056890c60398fe3e7a430bbe057f34383a84df9ff99391266dcfd638b0",
    {
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
        "0aa831d1e3bbd16bd7ffda87e9f7b6eeca2510006499a573ac27af3392ed1b69",
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
        "81a78489d56c9e2ac962826f25684980b25244dbfd505b7d903a94d4f4fd8400"
        "4a1c7fbe94d686bc4c1f67259364f6f2a41cb40bf5198b9b3975be2cdd49d3e0"
        "65a554e12c477d82029fabc6555bc1",
        "291dfeff6eff386e29adb0bdbd5a1ae9e09de4449c8695d109adcb63e80e4895"
        "55792a3e9150eff75d6d45571f824ed231173cb66e31e7da914241f86d0cbb67"
        "8335ffe768a7445d2f5bc1",
        "6579dd60eb5e6a8b29dd60004289f5d3c2f69fcdbf683a869f59a8",
        "24715fd39c3c7606e81b26e69e47b54d043d9d87c512f9417bae51ab48ebb17722",
        "e49194a013d873712318643acbf0e3851086326bb168c500a766439ff543a7a1e2deb3215c",
    }};

const Vector kIK{
    NoisePatternId::IK, kNoiseCPrologue, true, true, true, false,
    "00e51d2aac81a9b8ebe441d6af3e1c8efc0f030cc608332edcb42588ff6a0ce2"
    "6415ddc106e95277a5e6d54132f1e5245976b89caf96d262f1fe5a7f0c55c078",
    {
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
        "ba83a447b38c83e327ad936929812f624884847b7831e95e197b2f797088efdd"
        "232fe541af156ec6d0657602902a8c3ee64e470f4b6fcd9298ce0b56fe20f86e"
        "60d9d933ec6e103ffb09e6001d6abb64",
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
        "9f069b267a06b3de3ecb1043bcb09807c6cd101f3826192a65f11ef3fe4317",
        "cd54383060e7a28434cca27fb1cc524cfbabeb18181589df219d07",
        "a856d3bf0246bfc476c655009cd1ed677b8dcc5b349ae8ef2a05f2",
        "49063084b2c51f098337cb8a13739ac848f907e67cfb2cc8a8b60586467aa02fc7",
        "8b9709d23b47e4639df7678d7a21741eba4ef1e9c60383001c7435549c20f9d56f30e935d3",
    }};

// noise-c's NN: same ephemerals as cacophony's, different prologue, so a different final hash
// and second message tag; transport messages are identical.
const Vector kNNNoiseC{
    NoisePatternId::NN, kNoiseCPrologue, false, false, false, false,
    "d726c33acef40f118b1dfad1898936b432f07576ad892dd40cf206bd81573669"
    "62082641f6519a49f415a3b32713e6e596f3629e5572170cd1c08e92bc08f7a9",
    {
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
        "4c756477696720766f6e204d69736573",
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
        "d10cf8ef4ab895bed3e4673211f0c93ba112a1eb52acf3a3f459cdd5715955",
        "e50ec882703a1f34bf4957d8cafd036d34e02930f672f424c676e1",
        "35bb2a728d3e8e5f47781d486089e4a37c5c2e4261256f44569a9f",
        "69ee82006e16b79438a34ad9de37ee44d83c267e355750ecf49f194b5c50403030",
        "c568b641b01d2f644f2a890538c359915ca50552e55129c029d3721866c2646a7af3fd1eff",
    }};

void run_vector(const Vector& v) {
  const auto prologue = from_hex(v.prologue);
  const KeyPair init_static = key_pair_from_hex(kInitStatic);
  const KeyPair init_ephemeral = key_pair_from_hex(kInitEphemeral);
  const KeyPair resp_static = key_pair_from_hex(kRespStatic);
  const KeyPair resp_ephemeral = key_pair_from_hex(kRespEphemeral);
  ASSERT_EQ(to_hex(resp_static.public_key.bytes), kRespStaticPublic);
  const auto psk_bytes = from_hex(kPsk);
  const PresharedKey psk(std::span<const std::uint8_t, kKeySize>(psk_bytes.data(), kKeySize));

  NoiseConfig init_config;
  init_config.pattern = v.pattern;
  init_config.initiator = true;
  init_config.prologue = prologue;
  init_config.local_static = v.initiator_has_static ? &init_static : nullptr;
  if (v.initiator_knows_responder) init_config.remote_static = resp_static.public_key;
  init_config.psk = v.psk ? &psk : nullptr;
  init_config.fixed_ephemeral = &init_ephemeral;

  NoiseConfig resp_config;
  resp_config.pattern = v.pattern;
  resp_config.initiator = false;
  resp_config.prologue = prologue;
  resp_config.local_static = v.responder_has_static ? &resp_static : nullptr;
  resp_config.psk = v.psk ? &psk : nullptr;
  resp_config.fixed_ephemeral = &resp_ephemeral;

  auto initiator = HandshakeState::create(init_config);
  auto responder = HandshakeState::create(resp_config);
  ASSERT_TRUE(initiator) << initiator.error().message();
  ASSERT_TRUE(responder) << responder.error().message();

  const std::size_t handshake_messages = noise_pattern(v.pattern).messages.size();
  std::vector<std::uint8_t> message(HandshakeState::kMaxMessageSize);
  std::vector<std::uint8_t> payload(HandshakeState::kMaxMessageSize);
  std::size_t i = 0;
  for (; i < handshake_messages; ++i) {
    SCOPED_TRACE("handshake message " + std::to_string(i));
    HandshakeState& sender = written_by_initiator(i) ? *initiator : *responder;
    HandshakeState& receiver = written_by_initiator(i) ? *responder : *initiator;
    const auto expected_payload = from_hex(kPayloads[i]);
    auto written = sender.write_message(expected_payload, message);
    ASSERT_TRUE(written) << written.error().message();
    EXPECT_EQ(to_hex(std::span(message).first(*written)), v.ciphertexts[i]);
    EXPECT_EQ(*written, expected_payload.size() + HandshakeState::message_overhead(v.pattern, i));
    auto read = receiver.read_message(std::span(message).first(*written), payload);
    ASSERT_TRUE(read) << read.error().message();
    EXPECT_EQ(std::vector(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(*read)),
              expected_payload);
  }
  ASSERT_TRUE(initiator->is_complete());
  ASSERT_TRUE(responder->is_complete());
  EXPECT_EQ(to_hex(initiator->handshake_hash()), v.handshake_hash);
  EXPECT_EQ(to_hex(responder->handshake_hash()), v.handshake_hash);
  ASSERT_TRUE(initiator->remote_static().has_value() == v.responder_has_static);
  if (v.responder_has_static) {
    EXPECT_EQ(*initiator->remote_static(), resp_static.public_key);
  }
  if (v.initiator_has_static) {
    EXPECT_EQ(*responder->remote_static(), init_static.public_key);
  }

  auto init_keys = initiator->split();
  auto resp_keys = responder->split();
  ASSERT_TRUE(init_keys && resp_keys);
  // Transport messages keep alternating; each direction has its own CipherState from Split().
  CipherState init_send, init_recv, resp_send, resp_recv;
  init_send.initialize_key(init_keys->initiator_to_responder);
  resp_recv.initialize_key(resp_keys->initiator_to_responder);
  resp_send.initialize_key(resp_keys->responder_to_initiator);
  init_recv.initialize_key(init_keys->responder_to_initiator);
  for (; i < kPayloads.size(); ++i) {
    SCOPED_TRACE("transport message " + std::to_string(i));
    CipherState& send = written_by_initiator(i) ? init_send : resp_send;
    CipherState& recv = written_by_initiator(i) ? resp_recv : init_recv;
    const auto expected_payload = from_hex(kPayloads[i]);
    auto written = send.encrypt_with_ad({}, expected_payload, message);
    ASSERT_TRUE(written);
    EXPECT_EQ(to_hex(std::span(message).first(*written)), v.ciphertexts[i]);
    auto read = recv.decrypt_with_ad({}, std::span(message).first(*written), payload);
    ASSERT_TRUE(read);
    EXPECT_EQ(*read, expected_payload.size());
  }
}

TEST(NoiseVectorsTest, NN) { run_vector(kNN); }
TEST(NoiseVectorsTest, NNpsk0) { run_vector(kNNpsk0); }
TEST(NoiseVectorsTest, XX) { run_vector(kXX); }
TEST(NoiseVectorsTest, XXpsk3) { run_vector(kXXpsk3); }
TEST(NoiseVectorsTest, IK) { run_vector(kIK); }
TEST(NoiseVectorsTest, NNFromNoiseC) { run_vector(kNNNoiseC); }

}  // namespace
}  // namespace srudp::crypto
