// Noise handshake patterns (revision 34, sections 7 and 9) as data: each pattern is its
// pre-messages and a list of message patterns made of the tokens e, s, ee, es, se, ss and psk.
//
// PSK modifier (section 9): "pskN" puts a psk token at the start of the first message (N = 0) or
// at the end of message N (N >= 1). The table below writes those tokens out; the second rule,
// "when a psk is in use every e token is followed by MixKey(e.public_key)", is applied by the
// handshake state whenever the pattern uses a psk (NoisePattern::uses_psk).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace srudp::crypto {

enum class NoiseToken : std::uint8_t { e, s, ee, es, se, ss, psk };

// The patterns srudp knows. Message 0 is written by the initiator, 1 by the responder, and so on.
enum class NoisePatternId : std::uint8_t {
  NN,
  NNpsk0,
  NNpsk2,
  NK,
  NKpsk2,
  XX,
  XXpsk3,
  IK,
  IKpsk1,
  IKpsk2,
  IX,
};

using MessagePattern = std::span<const NoiseToken>;

struct NoisePattern {
  NoisePatternId id;
  std::string_view name;                          // e.g. "XXpsk3"
  std::span<const NoiseToken> initiator_premessage;  // "-> s" before "..." (only s is used here)
  std::span<const NoiseToken> responder_premessage;  // "<- s" before "..."
  std::span<const MessagePattern> messages;
  bool uses_psk;
};

// Every pattern in the table, in NoisePatternId order.
std::span<const NoisePattern> all_noise_patterns();
const NoisePattern& noise_pattern(NoisePatternId id);
// Looks a pattern up by its name ("XXpsk3"); nullopt when srudp does not know it.
std::optional<NoisePatternId> find_noise_pattern(std::string_view name);

// srudp's only cipher suite: X25519, ChaChaPoly, BLAKE2b.
inline constexpr std::string_view kNoiseSuffix = "_25519_ChaChaPoly_BLAKE2b";
// "Noise_" + pattern name + "_25519_ChaChaPoly_BLAKE2b".
std::string noise_protocol_name(NoisePatternId id);

// Whether message `index` is written by the initiator (even indices).
constexpr bool written_by_initiator(std::size_t index) { return index % 2 == 0; }

}  // namespace srudp::crypto
