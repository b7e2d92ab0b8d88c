#include "crypto/packet_protection.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "common/sodium.hpp"

namespace srudp::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t pow2(unsigned n) { return std::uint64_t{1} << n; }

SecretKey random_secret(RandomSource& random) {
  SecretKey key;
  random.fill(key.bytes());
  return key;
}

// A sealed data packet as it would travel: header (AD) and ciphertext || tag.
struct Packet {
  std::uint64_t pn = 0;
  bool key_phase = false;
  std::uint64_t generation = 0;  // the sender's key generation when sealing
  Bytes header;
  Bytes body;
  Bytes plaintext;
};

Bytes make_header(bool key_phase, std::uint64_t pn) {
  Bytes header{static_cast<std::uint8_t>(0x40 | (key_phase ? kKeyPhaseHeaderBit : 0))};
  for (int i = 0; i < 8; ++i) header.push_back(static_cast<std::uint8_t>(0xc0 + i));  // conn id
  for (int i = 3; i >= 0; --i) header.push_back(static_cast<std::uint8_t>(pn >> (8 * i)));
  return header;
}

struct Endpoint {
  PacketProtection protection;
  std::uint64_t next_pn = 0;

  Packet send(std::size_t size = 40) {
    Packet packet;
    packet.pn = next_pn;
    packet.key_phase = protection.send_key_phase();
    packet.generation = protection.key_generation();
    packet.header = make_header(packet.key_phase, packet.pn);
    packet.plaintext.resize(size);
    for (std::size_t i = 0; i < size; ++i) {
      packet.plaintext[i] = static_cast<std::uint8_t>(packet.pn * 31 + i);
    }
    packet.body.resize(size + kAeadTagSize);
    auto sealed = protection.seal(packet.pn, packet.header, packet.plaintext, packet.body);
    EXPECT_TRUE(sealed) << "pn " << packet.pn << ": " << sealed.error().message();
    if (sealed) {
      EXPECT_EQ(sealed->key_phase, packet.key_phase);
      EXPECT_EQ(sealed->size, packet.body.size());
      ++next_pn;
    }
    return packet;
  }

  Result<OpenResult> receive(const Packet& packet) {
    Bytes out(packet.body.size());
    auto opened = protection.open(packet.pn, packet.key_phase, packet.header, packet.body, out);
    if (opened) {
      EXPECT_EQ(opened->size, packet.plaintext.size());
      out.resize(opened->size);
      EXPECT_EQ(out, packet.plaintext) << "pn " << packet.pn;
    }
    return opened;
  }
};

struct Pair {
  Endpoint a;
  Endpoint b;
};

Pair make_endpoints(AeadAlgorithm algorithm, std::optional<PacketProtectionLimits> limits,
               std::uint64_t seed = 1, std::uint64_t a_initial_sealed = 0) {
  SeededRandom random(seed);
  SecretKey a_to_b = random_secret(random);
  SecretKey b_to_a = random_secret(random);
  PacketProtectionConfig a_config{a_to_b.clone(), b_to_a.clone(), algorithm, limits,
                                  a_initial_sealed, 0};
  PacketProtectionConfig b_config{std::move(b_to_a), std::move(a_to_b), algorithm, limits, 0, 0};
  auto a = PacketProtection::create(std::move(a_config));
  auto b = PacketProtection::create(std::move(b_config));
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  return Pair{Endpoint{std::move(a).value()}, Endpoint{std::move(b).value()}};
}

PacketProtectionLimits tiny_limits(std::uint64_t update_after = 5, std::uint64_t hard = 12,
                                   std::uint64_t failed = pow2(36)) {
  return PacketProtectionLimits{update_after, hard, failed};
}

class PacketProtectionTest : public ::testing::TestWithParam<AeadAlgorithm> {
 protected:
  void SetUp() override {
    ensure_sodium_initialized();
    if (!aead_available(GetParam())) {
      GTEST_SKIP() << to_string(GetParam())
                   << " is not available on this CPU (libsodium needs AES-NI and CLMUL)";
    }
  }
};

// Tests that rely on forgeries failing to authenticate: not for the null AEAD.
class AuthenticatingPacketProtectionTest : public PacketProtectionTest {};

TEST_P(PacketProtectionTest, ExchangesPacketsBothWays) {
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(pair.b.receive(pair.a.send()));
    ASSERT_TRUE(pair.a.receive(pair.b.send(1200)));
  }
  EXPECT_EQ(pair.a.protection.stats().packets_sealed_in_phase[0], 20U);
  EXPECT_EQ(pair.a.protection.stats().packets_opened_in_phase[0], 20U);
  EXPECT_EQ(pair.a.protection.key_generation(), 0U);
  EXPECT_EQ(pair.b.protection.stats().key_updates, 0U);
}

TEST_P(AuthenticatingPacketProtectionTest, ReflectedPacketDoesNotOpen) {
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  const Packet packet = pair.a.send();
  EXPECT_EQ(pair.a.receive(packet).error(), make_error_code(errc::decrypt_failed));
  EXPECT_TRUE(pair.b.receive(packet));
}

TEST_P(PacketProtectionTest, AutomaticKeyUpdatesInBothDirectionsManyTimes) {
  Pair pair = make_endpoints(GetParam(), tiny_limits(5, 12));
  // The heavier sender reaches its update threshold first and initiates; the other follows.
  // Every 50 rounds the roles swap, so both sides initiate updates.
  for (int round = 0; round < 150; ++round) {
    const bool a_heavy = (round / 50) % 2 == 0;
    Endpoint& heavy = a_heavy ? pair.a : pair.b;
    Endpoint& light = a_heavy ? pair.b : pair.a;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(light.receive(heavy.send())) << round;
    ASSERT_TRUE(heavy.receive(light.send())) << round;
    // The heavy side may be one ahead: the reply confirmed its generation and it was due.
    const auto gh = heavy.protection.key_generation();
    const auto gl = light.protection.key_generation();
    ASSERT_TRUE(gh == gl || gh == gl + 1) << gh << " " << gl;
  }
  const auto& a = pair.a.protection.stats();
  const auto& b = pair.b.protection.stats();
  EXPECT_GE(pair.a.protection.key_generation(), 50U);
  EXPECT_GT(a.key_updates_initiated, 10U);
  EXPECT_GT(b.key_updates_initiated, 10U);
  EXPECT_EQ(a.failed_opens + b.failed_opens, 0U);
  EXPECT_GT(a.packets_sealed_in_phase[0], 0U);
  EXPECT_GT(a.packets_sealed_in_phase[1], 0U);
  EXPECT_EQ(a.packets_sealed_in_phase[0] + a.packets_sealed_in_phase[1], 350U);
  EXPECT_EQ(b.packets_opened_in_phase[0] + b.packets_opened_in_phase[1], 350U);
}

TEST_P(PacketProtectionTest, ReorderingAcrossPhaseBoundary) {
  Pair pair = make_endpoints(GetParam(), tiny_limits(5, 12));
  ASSERT_TRUE(pair.a.receive(pair.b.send()));
  ASSERT_TRUE(pair.b.receive(pair.a.send()));  // pn 0, phase 0
  std::vector<Packet> burst;
  for (int i = 0; i < 8; ++i) burst.push_back(pair.a.send());  // pn 1..4 phase 0, 5.. phase 1
  EXPECT_FALSE(burst[0].key_phase);
  EXPECT_FALSE(burst[3].key_phase);
  EXPECT_TRUE(burst[4].key_phase);
  // New-phase packets arrive first: B follows the update on the first one.
  auto first = pair.b.receive(burst[6]);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->key_updated);
  EXPECT_EQ(pair.b.protection.key_generation(), 1U);
  ASSERT_TRUE(pair.b.receive(burst[5]));
  ASSERT_TRUE(pair.b.receive(burst[4]));
  // Old-phase packets, now late, still open with the previous key.
  for (int i : {3, 0, 2, 1}) {
    auto late = pair.b.receive(burst[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(late) << i;
    EXPECT_FALSE(late->key_updated);
    EXPECT_FALSE(late->key_phase);
  }
  ASSERT_TRUE(pair.b.receive(burst[7]));
  EXPECT_EQ(pair.b.protection.key_generation(), 1U);
  EXPECT_EQ(pair.b.protection.stats().key_updates, 1U);
  // B followed with its send side too, and A (already in generation 1) reads it.
  EXPECT_TRUE(pair.b.protection.send_key_phase());
  auto reply = pair.a.receive(pair.b.send());
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->key_updated);
  EXPECT_TRUE(pair.a.protection.update_confirmed());
}

TEST_P(PacketProtectionTest, LatePacketsOfInitiatorsOldPhaseOpenBeforeAnyNewOne) {
  // A initiates; B's packets still in flight were sealed in the old phase and arrive after A
  // switched but before anything in the new phase: the previous key opens them.
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  ASSERT_TRUE(pair.a.receive(pair.b.send()));
  std::vector<Packet> in_flight;
  for (int i = 0; i < 3; ++i) in_flight.push_back(pair.b.send());
  ASSERT_FALSE(pair.a.protection.initiate_key_update());
  EXPECT_TRUE(pair.a.protection.send_key_phase());
  for (auto& packet : in_flight) {
    auto opened = pair.a.receive(packet);
    ASSERT_TRUE(opened);
    EXPECT_FALSE(opened->key_updated);
  }
  // In-place open of a late packet in the same ambiguous state.
  Packet late = pair.b.send();
  Bytes buffer = late.body;
  auto in_place = pair.a.protection.open(late.pn, late.key_phase, late.header, buffer, buffer);
  ASSERT_TRUE(in_place);
  EXPECT_TRUE(std::equal(late.plaintext.begin(), late.plaintext.end(), buffer.begin()));
  EXPECT_EQ(pair.a.protection.key_generation(), 1U);
  EXPECT_FALSE(pair.a.protection.update_confirmed());
}

TEST_P(AuthenticatingPacketProtectionTest, PeerTwoGenerationsAheadOfWhatWeReceived) {
  // A initiates generation 1. B follows on A's packet and immediately initiates generation 2
  // (allowed: B received a generation-1 packet). B's generation-1 packets are lost, so A sees a
  // generation-2 packet (same phase bit as generation 0) having received nothing in
  // generation 1. A must try both candidates and follow.
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  ASSERT_TRUE(pair.a.receive(pair.b.send()));
  ASSERT_FALSE(pair.a.protection.initiate_key_update());
  ASSERT_TRUE(pair.b.receive(pair.a.send()));
  EXPECT_EQ(pair.b.protection.key_generation(), 1U);
  (void)pair.b.send();  // lost
  ASSERT_FALSE(pair.b.protection.initiate_key_update());
  EXPECT_EQ(pair.b.protection.key_generation(), 2U);

  Packet ahead = pair.b.send();
  EXPECT_FALSE(ahead.key_phase);
  Bytes buffer = ahead.body;  // in place: the first candidate must not wipe the buffer
  auto opened = pair.a.protection.open(ahead.pn, ahead.key_phase, ahead.header, buffer, buffer);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->key_updated);
  EXPECT_TRUE(std::equal(ahead.plaintext.begin(), ahead.plaintext.end(), buffer.begin()));
  EXPECT_EQ(pair.a.protection.key_generation(), 2U);
  ASSERT_TRUE(pair.b.receive(pair.a.send()));
  ASSERT_TRUE(pair.a.receive(pair.b.send()));
}

TEST_P(PacketProtectionTest, SimultaneousUpdatesConverge) {
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  ASSERT_FALSE(pair.a.protection.initiate_key_update());
  ASSERT_FALSE(pair.b.protection.initiate_key_update());
  auto at_b = pair.b.receive(pair.a.send());
  auto at_a = pair.a.receive(pair.b.send());
  ASSERT_TRUE(at_b);
  ASSERT_TRUE(at_a);
  EXPECT_FALSE(at_b->key_updated);
  EXPECT_FALSE(at_a->key_updated);
  EXPECT_EQ(pair.a.protection.key_generation(), 1U);
  EXPECT_EQ(pair.b.protection.key_generation(), 1U);
  EXPECT_TRUE(pair.a.protection.update_confirmed());
}

TEST_P(PacketProtectionTest, InitiatingAgainBeforeConfirmationIsRefused) {
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  ASSERT_FALSE(pair.a.protection.initiate_key_update());
  EXPECT_FALSE(pair.a.protection.update_confirmed());
  EXPECT_EQ(pair.a.protection.initiate_key_update(), make_error_code(errc::invalid_state));
  ASSERT_TRUE(pair.b.receive(pair.a.send()));
  ASSERT_TRUE(pair.a.receive(pair.b.send()));
  EXPECT_TRUE(pair.a.protection.update_confirmed());
  EXPECT_FALSE(pair.a.protection.initiate_key_update());
  EXPECT_EQ(pair.a.protection.key_generation(), 2U);
}

TEST_P(PacketProtectionTest, HardLimitRefusesUntilConfirmedThenRekeys) {
  Pair pair = make_endpoints(GetParam(), tiny_limits(5, 8));
  for (int i = 0; i < 5; ++i) (void)pair.a.send();
  EXPECT_EQ(pair.a.protection.key_generation(), 1U) << "automatic update after 5 packets";
  // Nothing from B in generation 1: A keeps the key up to the hard limit of 8, then refuses.
  std::vector<Packet> sent;
  for (int i = 0; i < 8; ++i) sent.push_back(pair.a.send());
  EXPECT_EQ(pair.a.protection.packets_sealed_with_current_key(), 8U);
  const Bytes header = make_header(pair.a.protection.send_key_phase(), pair.a.next_pn);
  Bytes out(40 + kAeadTagSize);
  EXPECT_EQ(pair.a.protection.seal(pair.a.next_pn, header, Bytes(40), out).error(),
            make_error_code(errc::key_limit_reached));
  EXPECT_EQ(pair.a.protection.key_generation(), 1U);
  // B receives one, replies in generation 1; the confirmation lets A update at once.
  ASSERT_TRUE(pair.b.receive(sent.back()));
  auto reply = pair.a.receive(pair.b.send());
  ASSERT_TRUE(reply);
  EXPECT_EQ(pair.a.protection.key_generation(), 2U);
  EXPECT_EQ(pair.a.protection.packets_sealed_with_current_key(), 0U);
  ASSERT_TRUE(pair.b.receive(pair.a.send()));
  EXPECT_EQ(pair.b.protection.key_generation(), 2U);
}

TEST_P(PacketProtectionTest, CountersStartedNearDefaultLimitsRekey) {
  const auto defaults = PacketProtectionLimits::defaults_for(GetParam());
  // Two packets before the automatic update threshold.
  Pair pair = make_endpoints(GetParam(), std::nullopt, 7, defaults.key_update_after - 2);
  ASSERT_TRUE(pair.a.receive(pair.b.send()));
  ASSERT_TRUE(pair.b.receive(pair.a.send()));
  EXPECT_EQ(pair.a.protection.key_generation(), 0U);
  ASSERT_TRUE(pair.b.receive(pair.a.send()));  // the key_update_after-th packet
  EXPECT_EQ(pair.a.protection.key_generation(), 1U);
  EXPECT_EQ(pair.a.protection.stats().key_updates_initiated, 1U);
  auto followed = pair.b.receive(pair.a.send());
  ASSERT_TRUE(followed);
  EXPECT_TRUE(followed->key_updated);
  ASSERT_TRUE(pair.a.receive(pair.b.send()));

  // Started at the hard limit: generation 0 is confirmed, so creation already rekeys.
  Pair at_limit = make_endpoints(GetParam(), std::nullopt, 8, defaults.max_packets_per_key);
  EXPECT_EQ(at_limit.a.protection.key_generation(), 1U);
  ASSERT_TRUE(at_limit.b.receive(at_limit.a.send()));
  EXPECT_EQ(at_limit.b.protection.key_generation(), 1U);
}

TEST_P(PacketProtectionTest, PacketNumberLimit) {
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  pair.a.next_pn = kMaxPacketNumber;
  const Packet last = pair.a.send();
  EXPECT_EQ(last.pn, kMaxPacketNumber);
  ASSERT_TRUE(pair.b.receive(last));
  for (std::uint64_t pn : {kMaxPacketNumber + 1, pow2(63), ~std::uint64_t{0}}) {
    const Bytes header = make_header(pair.a.protection.send_key_phase(), pn);
    Bytes out(kAeadTagSize + 1);
    EXPECT_EQ(pair.a.protection.seal(pn, header, Bytes(1), out).error(),
              make_error_code(errc::key_limit_reached));
    EXPECT_EQ(pair.b.protection.open(pn, false, header, out, out).error(),
              make_error_code(errc::value_out_of_range));
  }
  EXPECT_EQ(pair.b.protection.stats().failed_opens, 0U);
}

TEST_P(PacketProtectionTest, SealRejectsMisuse) {
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  pair.a.next_pn = 10;
  ASSERT_TRUE(pair.b.receive(pair.a.send()));
  Bytes out(20 + kAeadTagSize);
  const auto invalid = make_error_code(errc::invalid_argument);
  EXPECT_EQ(pair.a.protection.seal(10, make_header(false, 10), Bytes(20), out).error(), invalid)
      << "reused packet number";
  EXPECT_EQ(pair.a.protection.seal(9, make_header(false, 9), Bytes(20), out).error(), invalid)
      << "decreasing packet number";
  EXPECT_EQ(pair.a.protection.seal(11, make_header(true, 11), Bytes(20), out).error(), invalid)
      << "header carries the wrong key phase";
  EXPECT_EQ(pair.a.protection.seal(11, Bytes{}, Bytes(20), out).error(), invalid);
  Bytes small(20);
  EXPECT_EQ(pair.a.protection.seal(11, make_header(false, 11), Bytes(20), small).error(),
            make_error_code(errc::buffer_too_small));
  // None of that consumed packet number 11.
  EXPECT_EQ(pair.a.protection.stats().packets_sealed_in_phase[0], 1U);
  pair.a.next_pn = 11;
  EXPECT_TRUE(pair.b.receive(pair.a.send()));
}

TEST_P(PacketProtectionTest, InPlaceSealAndOpen) {
  Pair pair = make_endpoints(GetParam(), tiny_limits(3, 10));
  for (std::uint64_t pn = 0; pn < 20; ++pn) {
    const Bytes plaintext(100, static_cast<std::uint8_t>(pn));
    Bytes buffer = plaintext;
    buffer.resize(plaintext.size() + kAeadTagSize);
    const bool phase = pair.a.protection.send_key_phase();
    const Bytes header = make_header(phase, pn);
    auto sealed = pair.a.protection.seal(pn, header, std::span(buffer).first(100), buffer);
    ASSERT_TRUE(sealed);
    auto opened = pair.b.protection.open(pn, phase, header, buffer, buffer);
    ASSERT_TRUE(opened) << pn;
    EXPECT_TRUE(std::equal(plaintext.begin(), plaintext.end(), buffer.begin()));
    if (pn % 4 == 0) {
      ASSERT_TRUE(pair.a.receive(pair.b.send()));
    }
  }
  EXPECT_GT(pair.a.protection.key_generation(), 2U);
}

TEST_P(AuthenticatingPacketProtectionTest, FailedOpensChangeNothing) {
  Pair pair = make_endpoints(GetParam(), tiny_limits(5, 12));
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(pair.b.receive(pair.a.send()));
  ASSERT_TRUE(pair.a.receive(pair.b.send()));
  ASSERT_EQ(pair.b.protection.key_generation(), 1U);

  const auto before_stats = pair.b.protection.stats();
  const auto before_generation = pair.b.protection.key_generation();
  const bool before_confirmed = pair.b.protection.update_confirmed();
  const bool before_phase = pair.b.protection.send_key_phase();

  Packet genuine = pair.a.send();
  std::mt19937_64 rng(99);
  std::uint64_t failures = 0;
  for (int i = 0; i < 200; ++i) {
    Packet forged = genuine;
    switch (i % 5) {
      case 0: forged.body[rng() % forged.body.size()] ^= 0x04; break;
      case 1: forged.key_phase = !forged.key_phase; forged.header[0] ^= kKeyPhaseHeaderBit; break;
      case 2: forged.key_phase = !forged.key_phase; break;  // phase says "next", header not
      case 3: forged.pn = rng() % kMaxPacketNumber; break;
      case 4:
        forged.key_phase = (rng() & 1) != 0;
        forged.pn = rng() % 64;  // old numbers, both phases: previous-key path
        for (auto& b : forged.body) b = static_cast<std::uint8_t>(rng());
        break;
    }
    Bytes out(forged.body.size());
    auto result = pair.b.protection.open(forged.pn, forged.key_phase, forged.header, forged.body, out);
    ASSERT_FALSE(result) << i;
    EXPECT_EQ(result.error(), make_error_code(errc::decrypt_failed));
    ++failures;
  }
  const auto& after = pair.b.protection.stats();
  EXPECT_EQ(after.failed_opens, before_stats.failed_opens + failures);
  EXPECT_EQ(after.packets_opened_in_phase, before_stats.packets_opened_in_phase);
  EXPECT_EQ(after.key_updates, before_stats.key_updates);
  EXPECT_EQ(pair.b.protection.key_generation(), before_generation);
  EXPECT_EQ(pair.b.protection.update_confirmed(), before_confirmed);
  EXPECT_EQ(pair.b.protection.send_key_phase(), before_phase);
  EXPECT_TRUE(pair.b.receive(genuine)) << "the genuine packet still opens";
}

TEST_P(AuthenticatingPacketProtectionTest, ForgedPhaseFlipDoesNotTriggerUpdate) {
  Pair pair = make_endpoints(GetParam(), std::nullopt);
  ASSERT_TRUE(pair.b.receive(pair.a.send()));
  Packet packet = pair.a.send();
  Packet forged = packet;
  forged.key_phase = true;
  forged.header[0] |= kKeyPhaseHeaderBit;
  forged.pn += 1000;
  EXPECT_EQ(pair.b.receive(forged).error(), make_error_code(errc::decrypt_failed));
  EXPECT_EQ(pair.b.protection.key_generation(), 0U);
  EXPECT_FALSE(pair.b.protection.send_key_phase());
  EXPECT_TRUE(pair.b.receive(packet));
}

TEST_P(AuthenticatingPacketProtectionTest, IntegrityLimitStopsOpening) {
  Pair pair = make_endpoints(GetParam(), tiny_limits(5, 12, 3));
  Packet genuine = pair.a.send();
  Packet forged = genuine;
  forged.body[0] ^= 1;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(pair.b.receive(forged).error(), make_error_code(errc::decrypt_failed));
  }
  EXPECT_EQ(pair.b.receive(forged).error(), make_error_code(errc::key_limit_reached));
  EXPECT_EQ(pair.b.receive(genuine).error(), make_error_code(errc::key_limit_reached))
      << "the connection must close: nothing opens any more";
}

TEST_P(PacketProtectionTest, IntegrityLimitFromInitialCount) {
  SeededRandom random(5);
  PacketProtectionConfig config{random_secret(random), random_secret(random), GetParam(),
                                std::nullopt, 0, pow2(36)};
  auto protection = PacketProtection::create(std::move(config));
  ASSERT_TRUE(protection);
  Bytes junk(50, 7);
  Bytes out(50);
  EXPECT_EQ(protection->open(1, false, make_header(false, 1), junk, out).error(),
            make_error_code(errc::key_limit_reached));
}

TEST_P(AuthenticatingPacketProtectionTest, RandomizedLossAndReordering) {
  // Both sides send at the same rate over a link that drops 10% and swaps neighbours 20% of
  // the time, with updates every 4 packets. A delivered packet must open unless its key is
  // older than the receiver's previous generation (discarded, as in RFC 9001), and the two
  // generations may differ by at most one.
  Pair pair = make_endpoints(GetParam(), tiny_limits(4, 40));
  std::mt19937_64 rng(2024);
  std::deque<Packet> to_b, to_a;
  std::uint64_t delivered = 0;
  std::uint64_t too_old = 0;
  auto deliver = [&](std::deque<Packet>& queue, Endpoint& receiver) {
    if (queue.empty()) return;
    if (queue.size() >= 2 && rng() % 5 == 0) std::swap(queue[0], queue[1]);
    Packet packet = std::move(queue.front());
    queue.pop_front();
    if (rng() % 10 == 0) return;  // lost
    const std::uint64_t receiver_generation = receiver.protection.key_generation();
    auto opened = receiver.receive(packet);
    if (opened) {
      ++delivered;
    } else {
      ASSERT_LT(packet.generation + 1, receiver_generation)
          << "pn " << packet.pn << ": " << opened.error().message();
      ++too_old;
    }
  };
  for (int step = 0; step < 3000; ++step) {
    to_b.push_back(pair.a.send(20));
    to_a.push_back(pair.b.send(20));
    if (to_b.size() > 2) deliver(to_b, pair.b);
    if (to_a.size() > 2) deliver(to_a, pair.a);
    ASSERT_FALSE(HasFatalFailure());
    const auto ga = pair.a.protection.key_generation();
    const auto gb = pair.b.protection.key_generation();
    ASSERT_LE(ga > gb ? ga - gb : gb - ga, 1U);
  }
  EXPECT_GT(delivered, 5000U);
  EXPECT_GT(pair.a.protection.key_generation(), 100U);
  EXPECT_EQ(pair.a.protection.stats().failed_opens + pair.b.protection.stats().failed_opens,
            too_old);
  EXPECT_LT(too_old, delivered / 20);
}

TEST_P(PacketProtectionTest, KeysFollowTheDocumentedDerivation) {
  // Generation g's packet key is KDF(S_g, 1) and S_{g+1} = KDF(S_g, 2), context "srudp-pp".
  SeededRandom random(11);
  SecretKey send = random_secret(random);
  SecretKey receive = random_secret(random);
  PacketProtectionConfig config{send.clone(), receive.clone(), GetParam(), std::nullopt, 0, 0};
  auto protection = PacketProtection::create(std::move(config));
  ASSERT_TRUE(protection);

  auto derive = [](const SecretKey& secret, std::uint64_t id) {
    SecretKey out;
    EXPECT_EQ(crypto_kdf_derive_from_key(out.data(), out.size(), id, "srudp-pp", secret.data()), 0);
    return out;
  };
  SecretKey secret = send.clone();
  for (std::uint64_t generation = 0; generation < 3; ++generation) {
    auto key = PacketKey::create(derive(secret, 1), GetParam());
    ASSERT_TRUE(key);
    const std::uint64_t pn = generation * 10;
    const Bytes header = make_header(protection->send_key_phase(), pn);
    Bytes sealed(30 + kAeadTagSize);
    ASSERT_TRUE(protection->seal(pn, header, Bytes(30, 1), sealed));
    Bytes out(30);
    EXPECT_TRUE(key->open(pn, header, sealed, out)) << "generation " << generation;
    secret = derive(secret, 2);
    // Confirm the generation by receiving a packet sealed with the matching receive key.
    SecretKey receive_secret = receive.clone();
    for (std::uint64_t g = 0; g < generation; ++g) receive_secret = derive(receive_secret, 2);
    auto peer_key = PacketKey::create(derive(receive_secret, 1), GetParam());
    ASSERT_TRUE(peer_key);
    const Bytes peer_header = make_header((generation & 1) != 0, pn);
    Bytes peer_packet(5 + kAeadTagSize);
    ASSERT_TRUE(peer_key->seal(pn, peer_header, Bytes(5, 2), peer_packet));
    ASSERT_TRUE(protection->open(pn, (generation & 1) != 0, peer_header, peer_packet, peer_packet));
    ASSERT_FALSE(protection->initiate_key_update());
  }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, PacketProtectionTest,
                         ::testing::Values(AeadAlgorithm::chacha20_poly1305,
                                           AeadAlgorithm::aes256_gcm,
                                           AeadAlgorithm::null_for_testing),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case AeadAlgorithm::chacha20_poly1305: return std::string("ChaCha20Poly1305");
                             case AeadAlgorithm::aes256_gcm: return std::string("Aes256Gcm");
                             case AeadAlgorithm::null_for_testing: return std::string("Null");
                           }
                           return std::string("Unknown");
                         });

INSTANTIATE_TEST_SUITE_P(RealAlgorithms, AuthenticatingPacketProtectionTest,
                         ::testing::Values(AeadAlgorithm::chacha20_poly1305,
                                           AeadAlgorithm::aes256_gcm),
                         [](const auto& param_info) {
                           return param_info.param == AeadAlgorithm::aes256_gcm
                                      ? std::string("Aes256Gcm")
                                      : std::string("ChaCha20Poly1305");
                         });

TEST(PacketProtectionConfigTest, RejectsInconsistentLimits) {
  SeededRandom random(3);
  for (const auto& limits : {PacketProtectionLimits{0, 10, 10}, PacketProtectionLimits{11, 10, 10}}) {
    PacketProtectionConfig config{random_secret(random), random_secret(random),
                                  AeadAlgorithm::chacha20_poly1305, limits, 0, 0};
    EXPECT_EQ(PacketProtection::create(std::move(config)).error(),
              make_error_code(errc::invalid_argument));
  }
}

TEST(PacketProtectionConfigTest, DefaultLimits) {
  const auto chacha = PacketProtectionLimits::defaults_for(AeadAlgorithm::chacha20_poly1305);
  EXPECT_EQ(chacha.key_update_after, pow2(28));
  EXPECT_EQ(chacha.max_packets_per_key, pow2(30));
  EXPECT_EQ(chacha.max_failed_opens, pow2(36));
  const auto aes = PacketProtectionLimits::defaults_for(AeadAlgorithm::aes256_gcm);
  EXPECT_EQ(aes.key_update_after, pow2(22));
  EXPECT_EQ(aes.max_packets_per_key, pow2(23));
}

}  // namespace
}  // namespace srudp::crypto
