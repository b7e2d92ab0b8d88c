#include "crypto/noise_handshake_state.hpp"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace srudp::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

PresharedKey psk_of(std::uint8_t fill) {
  std::array<std::uint8_t, kKeySize> bytes{};
  bytes.fill(fill);
  return PresharedKey(std::span<const std::uint8_t, kKeySize>(bytes));
}

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

bool has_premessage_static(const NoisePattern& pattern) {
  return !pattern.responder_premessage.empty();
}
bool sends_static(const NoisePattern& pattern, bool initiator) {
  for (std::size_t i = 0; i < pattern.messages.size(); ++i) {
    if (written_by_initiator(i) != initiator) continue;
    for (const NoiseToken t : pattern.messages[i]) {
      if (t == NoiseToken::s) return true;
    }
  }
  return false;
}

// Both ends of one handshake, with everything the pattern needs.
struct Peers {
  KeyPair initiator_static;
  KeyPair responder_static;
  PresharedKey initiator_psk;
  PresharedKey responder_psk;
  SeededRandom initiator_rng;
  SeededRandom responder_rng;
  Bytes initiator_prologue = bytes_of("srudp test");
  Bytes responder_prologue = bytes_of("srudp test");
  std::optional<HandshakeState> initiator;
  std::optional<HandshakeState> responder;

  explicit Peers(std::uint64_t seed)
      : initiator_psk(psk_of(0x42)),
        responder_psk(psk_of(0x42)),
        initiator_rng(seed),
        responder_rng(seed + 1000) {
    SeededRandom keys(seed + 2000);
    initiator_static = KeyPair::generate(keys);
    responder_static = KeyPair::generate(keys);
  }

  void create(NoisePatternId id) {
    const NoisePattern& pattern = noise_pattern(id);
    NoiseConfig i;
    i.pattern = id;
    i.initiator = true;
    i.prologue = initiator_prologue;
    i.local_static = sends_static(pattern, true) ? &initiator_static : nullptr;
    if (has_premessage_static(pattern)) i.remote_static = responder_static.public_key;
    i.psk = pattern.uses_psk ? &initiator_psk : nullptr;
    i.rng = &initiator_rng;
    NoiseConfig r;
    r.pattern = id;
    r.initiator = false;
    r.prologue = responder_prologue;
    r.local_static =
        (sends_static(pattern, false) || has_premessage_static(pattern)) ? &responder_static : nullptr;
    r.psk = pattern.uses_psk ? &responder_psk : nullptr;
    r.rng = &responder_rng;
    auto a = HandshakeState::create(i);
    auto b = HandshakeState::create(r);
    ASSERT_TRUE(a) << a.error().message();
    ASSERT_TRUE(b) << b.error().message();
    initiator.emplace(std::move(*a));
    responder.emplace(std::move(*b));
  }
};

// Writes the next message of whoever's turn it is. Returns the message.
Bytes write_next(HandshakeState& sender, const Bytes& payload) {
  Bytes out(payload.size() + sender.next_message_overhead());
  auto written = sender.write_message(payload, out);
  EXPECT_TRUE(written) << written.error().message();
  if (!written) return {};
  EXPECT_EQ(*written, out.size());
  return out;
}

Result<Bytes> read_next(HandshakeState& receiver, const Bytes& message) {
  Bytes payload(HandshakeState::kMaxMessageSize);
  auto read = receiver.read_message(message, payload);
  if (!read) return read.error();
  payload.resize(*read);
  return payload;
}

// Runs a handshake to completion, delivering each message unchanged.
void complete(Peers& peers) {
  std::size_t index = 0;
  while (!peers.initiator->is_complete() || !peers.responder->is_complete()) {
    HandshakeState& sender = written_by_initiator(index) ? *peers.initiator : *peers.responder;
    HandshakeState& receiver = written_by_initiator(index) ? *peers.responder : *peers.initiator;
    ASSERT_TRUE(sender.is_my_turn());
    ASSERT_FALSE(receiver.is_my_turn());
    const Bytes payload = bytes_of("payload " + std::to_string(index));
    const Bytes message = write_next(sender, payload);
    auto read = read_next(receiver, message);
    ASSERT_TRUE(read) << "message " << index << ": " << read.error().message();
    EXPECT_EQ(*read, payload);
    ++index;
  }
}

class EveryPatternTest : public ::testing::TestWithParam<NoisePatternId> {};

TEST_P(EveryPatternTest, HandshakeCompletesWithMatchingKeysAndHashes) {
  Peers peers(1);
  ASSERT_NO_FATAL_FAILURE(peers.create(GetParam()));
  ASSERT_NO_FATAL_FAILURE(complete(peers));
  const auto initiator_hash = peers.initiator->handshake_hash();
  const auto responder_hash = peers.responder->handshake_hash();
  EXPECT_TRUE(std::ranges::equal(initiator_hash, responder_hash));

  const NoisePattern& pattern = noise_pattern(GetParam());
  if (sends_static(pattern, false) || has_premessage_static(pattern)) {
    EXPECT_EQ(peers.initiator->remote_static(), peers.responder_static.public_key);
  } else {
    EXPECT_FALSE(peers.initiator->remote_static().has_value());
  }
  if (sends_static(pattern, true)) {
    EXPECT_EQ(peers.responder->remote_static(), peers.initiator_static.public_key);
  }

  auto initiator_keys = peers.initiator->split();
  auto responder_keys = peers.responder->split();
  ASSERT_TRUE(initiator_keys && responder_keys);
  EXPECT_TRUE(initiator_keys->initiator_to_responder == responder_keys->initiator_to_responder);
  EXPECT_TRUE(initiator_keys->responder_to_initiator == responder_keys->responder_to_initiator);
  EXPECT_FALSE(initiator_keys->initiator_to_responder == initiator_keys->responder_to_initiator);
  // Split hands the keys out once.
  EXPECT_EQ(peers.initiator->split().error(), make_error_code(errc::invalid_state));
  EXPECT_TRUE(std::ranges::equal(peers.initiator->handshake_hash(), initiator_hash));
}

TEST_P(EveryPatternTest, DifferentEphemeralsGiveDifferentHandshakes) {
  Peers first(1);
  Peers second(2);
  ASSERT_NO_FATAL_FAILURE(first.create(GetParam()));
  ASSERT_NO_FATAL_FAILURE(second.create(GetParam()));
  ASSERT_NO_FATAL_FAILURE(complete(first));
  ASSERT_NO_FATAL_FAILURE(complete(second));
  EXPECT_FALSE(std::ranges::equal(first.initiator->handshake_hash(),
                                  second.initiator->handshake_hash()));
}

// Whether message `index` ends under a cipher key, i.e. carries an authentication tag. Only the
// first messages of NN, XX and IX do not: they are a bare ephemeral (and, for IX, a static key)
// plus a plaintext payload, and Noise detects changes to them in the next message instead.
bool authenticated(const NoisePattern& pattern, std::size_t index) {
  for (std::size_t i = 0; i <= index; ++i) {
    for (const NoiseToken t : pattern.messages[i]) {
      if (t != NoiseToken::s && (t != NoiseToken::e || pattern.uses_psk)) return true;
    }
  }
  return false;
}

// Flip each byte of each authenticated message in turn: the receiver must reject it and, because
// reads are transactional, still accept the genuine message afterwards.
TEST_P(EveryPatternTest, EveryTamperedByteIsRejected) {
  Peers peers(3);
  ASSERT_NO_FATAL_FAILURE(peers.create(GetParam()));
  const NoisePattern& pattern = noise_pattern(GetParam());
  for (std::size_t index = 0; index < pattern.messages.size(); ++index) {
    HandshakeState& sender = written_by_initiator(index) ? *peers.initiator : *peers.responder;
    HandshakeState& receiver = written_by_initiator(index) ? *peers.responder : *peers.initiator;
    const Bytes message = write_next(sender, bytes_of("tamper me"));
    if (authenticated(pattern, index)) {
      for (std::size_t i = 0; i < message.size(); ++i) {
        Bytes tampered = message;
        tampered[i] ^= 0x01;
        EXPECT_FALSE(read_next(receiver, tampered)) << "message " << index << " byte " << i;
      }
      EXPECT_FALSE(read_next(receiver, Bytes(message.begin(), message.end() - 1)));
      Bytes extended = message;
      extended.push_back(0);
      EXPECT_FALSE(read_next(receiver, extended));
    }
    auto genuine = read_next(receiver, message);
    ASSERT_TRUE(genuine) << genuine.error().message();
    EXPECT_EQ(*genuine, bytes_of("tamper me"));
  }
  EXPECT_TRUE(peers.initiator->is_complete() && peers.responder->is_complete());
}

INSTANTIATE_TEST_SUITE_P(AllPatterns, EveryPatternTest,
                         ::testing::Values(NoisePatternId::NN, NoisePatternId::NNpsk0,
                                           NoisePatternId::NNpsk2, NoisePatternId::NK,
                                           NoisePatternId::NKpsk2, NoisePatternId::XX,
                                           NoisePatternId::XXpsk3, NoisePatternId::IK,
                                           NoisePatternId::IKpsk1, NoisePatternId::IKpsk2,
                                           NoisePatternId::IX),
                         [](const auto& param_info) {
                           return std::string(noise_pattern(param_info.param).name);
                         });

// --- Failures a reader must detect -------------------------------------------------------------

// Runs messages until one fails to read; returns that error (or success if all went through).
std::error_code run_until_failure(Peers& peers) {
  std::size_t index = 0;
  while (!peers.initiator->is_complete() || !peers.responder->is_complete()) {
    HandshakeState& sender = written_by_initiator(index) ? *peers.initiator : *peers.responder;
    HandshakeState& receiver = written_by_initiator(index) ? *peers.responder : *peers.initiator;
    const Bytes message = write_next(sender, bytes_of("x"));
    auto read = read_next(receiver, message);
    if (!read) return read.error();
    ++index;
  }
  return {};
}

TEST(HandshakeStateTest, WrongPskFailsOnTheReadingSide) {
  for (const NoisePatternId id : {NoisePatternId::NNpsk0, NoisePatternId::NNpsk2,
                                  NoisePatternId::XXpsk3, NoisePatternId::IKpsk1,
                                  NoisePatternId::IKpsk2}) {
    Peers peers(4);
    peers.responder_psk = psk_of(0x43);
    ASSERT_NO_FATAL_FAILURE(peers.create(id));
    EXPECT_EQ(run_until_failure(peers), make_error_code(errc::decrypt_failed))
        << noise_pattern(id).name;
  }
}

TEST(HandshakeStateTest, WrongPrologueFails) {
  for (const NoisePatternId id : {NoisePatternId::NN, NoisePatternId::XX, NoisePatternId::XXpsk3,
                                  NoisePatternId::IK}) {
    Peers peers(5);
    peers.responder_prologue = bytes_of("srudp tesT");
    ASSERT_NO_FATAL_FAILURE(peers.create(id));
    EXPECT_EQ(run_until_failure(peers), make_error_code(errc::decrypt_failed))
        << noise_pattern(id).name;
  }
}

// IK: the initiator encrypts to the responder's known static key, so a responder holding another
// key (an impostor) cannot even read the first message.
TEST(HandshakeStateTest, ImpostorResponderCannotReadIK) {
  for (const NoisePatternId id : {NoisePatternId::IK, NoisePatternId::IKpsk2}) {
    Peers peers(6);
    ASSERT_NO_FATAL_FAILURE(peers.create(id));
    SeededRandom mallory_rng(66);
    const KeyPair mallory = KeyPair::generate(mallory_rng);
    NoiseConfig config;
    config.pattern = id;
    config.initiator = false;
    config.prologue = peers.responder_prologue;
    config.local_static = &mallory;
    config.psk = noise_pattern(id).uses_psk ? &peers.responder_psk : nullptr;
    config.rng = &mallory_rng;
    auto impostor = HandshakeState::create(config);
    ASSERT_TRUE(impostor);
    const Bytes first = write_next(*peers.initiator, bytes_of("hello"));
    auto read = read_next(*impostor, first);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error(), make_error_code(errc::decrypt_failed));
  }
}

// A man in the middle runs one handshake with each side, substituting its own ephemeral and
// static keys. Without the PSK it fails in the PSK patterns; in XX (no PSK) it succeeds, but each
// side sees Mallory's static key, so pinning remote_static() catches it.
TEST(HandshakeStateTest, ManInTheMiddleWithoutPskFails) {
  for (const NoisePatternId id : {NoisePatternId::NNpsk0, NoisePatternId::XXpsk3,
                                  NoisePatternId::IKpsk2}) {
    Peers alice_bob(7);
    ASSERT_NO_FATAL_FAILURE(alice_bob.create(id));
    // Mallory plays responder towards Alice, with her own keys and a guessed PSK.
    Peers mallory(8);
    mallory.responder_psk = psk_of(0x99);
    mallory.responder_static = mallory.initiator_static.clone();  // Mallory's own key pair
    ASSERT_NO_FATAL_FAILURE(mallory.create(id));
    std::size_t index = 0;
    std::error_code failure;
    while (!failure && !alice_bob.initiator->is_complete()) {
      if (written_by_initiator(index)) {
        const Bytes message = write_next(*alice_bob.initiator, bytes_of("alice"));
        auto read = read_next(*mallory.responder, message);
        if (!read) failure = read.error();
      } else {
        const Bytes message = write_next(*mallory.responder, bytes_of("mallory"));
        auto read = read_next(*alice_bob.initiator, message);
        if (!read) failure = read.error();
      }
      ++index;
    }
    EXPECT_EQ(failure, make_error_code(errc::decrypt_failed)) << noise_pattern(id).name;
  }
}

TEST(HandshakeStateTest, ManInTheMiddleInXXIsVisibleThroughRemoteStatic) {
  Peers alice(9);
  ASSERT_NO_FATAL_FAILURE(alice.create(NoisePatternId::XX));
  Peers mallory(10);
  ASSERT_NO_FATAL_FAILURE(mallory.create(NoisePatternId::XX));
  // Alice <-> Mallory-as-responder completes...
  std::size_t index = 0;
  while (!alice.initiator->is_complete()) {
    HandshakeState& sender = written_by_initiator(index) ? *alice.initiator : *mallory.responder;
    HandshakeState& receiver = written_by_initiator(index) ? *mallory.responder : *alice.initiator;
    ASSERT_TRUE(read_next(receiver, write_next(sender, bytes_of("m"))));
    ++index;
  }
  // ...but Alice learns Mallory's static key, not Bob's.
  EXPECT_EQ(alice.initiator->remote_static(), mallory.responder_static.public_key);
  EXPECT_NE(alice.initiator->remote_static(), alice.responder_static.public_key);
}

// Replacing the ephemeral key in transit is caught by the next authenticated message.
TEST(HandshakeStateTest, ChangedEphemeralIsCaughtLater) {
  for (const NoisePatternId id : {NoisePatternId::NN, NoisePatternId::XX, NoisePatternId::XXpsk3,
                                  NoisePatternId::IK, NoisePatternId::NNpsk0}) {
    Peers peers(11);
    ASSERT_NO_FATAL_FAILURE(peers.create(id));
    Bytes first = write_next(*peers.initiator, bytes_of("hi"));
    SeededRandom mallory_rng(12);
    const KeyPair substitute = KeyPair::generate(mallory_rng);
    std::copy(substitute.public_key.bytes.begin(), substitute.public_key.bytes.end(), first.begin());
    auto read = read_next(*peers.responder, first);
    if (!read) {
      EXPECT_EQ(read.error(), make_error_code(errc::decrypt_failed)) << noise_pattern(id).name;
      continue;
    }
    // Only unauthenticated first messages get through; the reply then fails at the initiator.
    EXPECT_FALSE(authenticated(noise_pattern(id), 0)) << noise_pattern(id).name;
    const Bytes second = write_next(*peers.responder, bytes_of("reply"));
    EXPECT_EQ(read_next(*peers.initiator, second).error(), make_error_code(errc::decrypt_failed))
        << noise_pattern(id).name;
  }
}

TEST(HandshakeStateTest, LowOrderEphemeralIsRejected) {
  // NN: the first message has no DH, so the responder's reply (ee) hits the zero shared secret.
  {
    Peers peers(13);
    ASSERT_NO_FATAL_FAILURE(peers.create(NoisePatternId::NN));
    Bytes first = write_next(*peers.initiator, {});
    std::fill(first.begin(), first.begin() + 32, std::uint8_t{0});  // the identity point
    ASSERT_TRUE(read_next(*peers.responder, first));
    Bytes out(256);
    auto written = peers.responder->write_message({}, out);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error(), make_error_code(errc::handshake_failed));
    EXPECT_TRUE(peers.responder->has_failed());
    EXPECT_EQ(peers.responder->write_message({}, out).error(), make_error_code(errc::invalid_state));
    EXPECT_EQ(peers.responder->split().error(), make_error_code(errc::invalid_state));
  }
  // IK: the first message's "es" uses it at once; the read fails and changes nothing.
  {
    Peers peers(14);
    ASSERT_NO_FATAL_FAILURE(peers.create(NoisePatternId::IK));
    const Bytes genuine = write_next(*peers.initiator, {});
    Bytes bad = genuine;
    std::fill(bad.begin(), bad.begin() + 32, std::uint8_t{0});
    bad[0] = 1;  // the point of order 1 ("u = 1")
    EXPECT_EQ(read_next(*peers.responder, bad).error(), make_error_code(errc::handshake_failed));
    EXPECT_TRUE(read_next(*peers.responder, genuine));
  }
}

// --- API misuse ----------------------------------------------------------------------------------

TEST(HandshakeStateTest, OutOfTurnCallsAreInvalidState) {
  Peers peers(15);
  ASSERT_NO_FATAL_FAILURE(peers.create(NoisePatternId::XXpsk3));
  Bytes out(512);
  Bytes payload(512);
  EXPECT_EQ(peers.responder->write_message({}, out).error(), make_error_code(errc::invalid_state));
  EXPECT_EQ(peers.initiator->read_message(out, payload).error(),
            make_error_code(errc::invalid_state));
  EXPECT_EQ(peers.initiator->split().error(), make_error_code(errc::invalid_state));
  ASSERT_NO_FATAL_FAILURE(complete(peers));
  EXPECT_EQ(peers.initiator->write_message({}, out).error(), make_error_code(errc::invalid_state));
  EXPECT_EQ(peers.responder->read_message(out, payload).error(),
            make_error_code(errc::invalid_state));
  EXPECT_FALSE(peers.initiator->is_my_turn());
}

TEST(HandshakeStateTest, CreateRejectsIncompleteOrMisleadingConfigs) {
  SeededRandom rng(16);
  const KeyPair key = KeyPair::generate(rng);
  const PresharedKey psk = psk_of(1);
  auto make = [&](NoisePatternId id, bool initiator, const KeyPair* local,
                  std::optional<PublicKey> remote, const PresharedKey* p, RandomSource* r) {
    NoiseConfig c;
    c.pattern = id;
    c.initiator = initiator;
    c.local_static = local;
    c.remote_static = remote;
    c.psk = p;
    c.rng = r;
    return HandshakeState::create(c).error();
  };
  const auto invalid = make_error_code(errc::invalid_argument);
  EXPECT_EQ(make(NoisePatternId::XX, true, nullptr, {}, nullptr, &rng), invalid);  // no static
  EXPECT_EQ(make(NoisePatternId::IK, true, &key, {}, nullptr, &rng), invalid);     // no rs
  EXPECT_EQ(make(NoisePatternId::IK, false, nullptr, {}, nullptr, &rng), invalid);  // no s
  EXPECT_EQ(make(NoisePatternId::XXpsk3, true, &key, {}, nullptr, &rng), invalid);  // no psk
  EXPECT_EQ(make(NoisePatternId::XX, true, &key, {}, &psk, &rng), invalid);  // unused psk
  EXPECT_EQ(make(NoisePatternId::XX, true, &key, key.public_key, nullptr, &rng), invalid);
  EXPECT_EQ(make(NoisePatternId::NN, true, nullptr, {}, nullptr, nullptr), invalid);  // no rng
  EXPECT_EQ(make(static_cast<NoisePatternId>(200), true, nullptr, {}, nullptr, &rng), invalid);
  EXPECT_FALSE(make(NoisePatternId::NN, true, &key, {}, nullptr, &rng));  // unused static: fine
}

TEST(HandshakeStateTest, SmallBuffersAreRecoverable) {
  Peers peers(17);
  ASSERT_NO_FATAL_FAILURE(peers.create(NoisePatternId::XX));
  const Bytes payload = bytes_of("payload");
  Bytes small(payload.size() + peers.initiator->next_message_overhead() - 1);
  EXPECT_EQ(peers.initiator->write_message(payload, small).error(),
            make_error_code(errc::buffer_too_small));
  const Bytes first = write_next(*peers.initiator, payload);  // the retry works
  Bytes small_payload(payload.size() - 1);
  EXPECT_EQ(peers.responder->read_message(first, small_payload).error(),
            make_error_code(errc::buffer_too_small));
  EXPECT_EQ(*read_next(*peers.responder, first), payload);
}

TEST(HandshakeStateTest, MessagesAreLimitedTo65535Bytes) {
  Peers peers(18);
  ASSERT_NO_FATAL_FAILURE(peers.create(NoisePatternId::NN));
  const std::size_t max_payload = HandshakeState::kMaxMessageSize - 32;
  Bytes out(HandshakeState::kMaxMessageSize + 100);
  EXPECT_EQ(peers.initiator->write_message(Bytes(max_payload + 1), out).error(),
            make_error_code(errc::invalid_argument));
  auto written = peers.initiator->write_message(Bytes(max_payload), out);
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, HandshakeState::kMaxMessageSize);
  Bytes payload(HandshakeState::kMaxMessageSize + 1);
  EXPECT_EQ(peers.responder->read_message(Bytes(HandshakeState::kMaxMessageSize + 1), payload)
                .error(),
            make_error_code(errc::malformed));
  EXPECT_EQ(peers.responder->read_message(Bytes(31), payload).error(),
            make_error_code(errc::truncated));
}

TEST(HandshakeStateTest, MessageOverheads) {
  // XX: -> e (32) | <- e, ee, s, es (32 + 48 + 16) | -> s, se (48 + 16)
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::XX, 0), 32u);
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::XX, 1), 96u);
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::XX, 2), 64u);
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::XX, 3), 0u);
  // XXpsk3: the psk modifier keys the cipher from the first "e", so message 0 gets a tag.
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::XXpsk3, 0), 48u);
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::XXpsk3, 1), 96u);
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::XXpsk3, 2), 64u);
  // IK: -> e, es, s, ss (32 + 48 + 16) | <- e, ee, se (32 + 16)
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::IK, 0), 96u);
  EXPECT_EQ(HandshakeState::message_overhead(NoisePatternId::IK, 1), 48u);
  EXPECT_EQ(HandshakeState::max_message_overhead(NoisePatternId::XXpsk3), 96u);
  EXPECT_EQ(HandshakeState::max_message_overhead(NoisePatternId::NN), 48u);
}

TEST(HandshakeStateTest, SplitKeysWipeWhenMovedFrom) {
  Peers peers(19);
  ASSERT_NO_FATAL_FAILURE(peers.create(NoisePatternId::NN));
  ASSERT_NO_FATAL_FAILURE(complete(peers));
  auto keys = peers.initiator->split();
  ASSERT_TRUE(keys);
  ASSERT_FALSE(keys->initiator_to_responder == SecretKey{});
  const SecretKey taken = std::move(keys->initiator_to_responder);
  EXPECT_TRUE(keys->initiator_to_responder == SecretKey{});  // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(taken == SecretKey{});
}

}  // namespace
}  // namespace srudp::crypto
