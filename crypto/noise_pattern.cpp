#include "crypto/noise_pattern.hpp"

#include <array>
#include <cassert>

namespace srudp::crypto {
namespace {

using T = NoiseToken;

// Token lists, written as in the spec ("-> e, es, s, ss").
constexpr std::array kNone = std::array<NoiseToken, 0>{};
constexpr std::array kS{T::s};
constexpr std::array kE{T::e};
constexpr std::array kPskE{T::psk, T::e};
constexpr std::array kEEe{T::e, T::ee};
constexpr std::array kEEePsk{T::e, T::ee, T::psk};
constexpr std::array kEEs{T::e, T::es};
constexpr std::array kEEeSEs{T::e, T::ee, T::s, T::es};
constexpr std::array kSSe{T::s, T::se};
constexpr std::array kSSePsk{T::s, T::se, T::psk};
constexpr std::array kEEsSSs{T::e, T::es, T::s, T::ss};
constexpr std::array kEEsSSsPsk{T::e, T::es, T::s, T::ss, T::psk};
constexpr std::array kEEeSe{T::e, T::ee, T::se};
constexpr std::array kEEeSePsk{T::e, T::ee, T::se, T::psk};
constexpr std::array kES{T::e, T::s};
constexpr std::array kEEeSeSEs{T::e, T::ee, T::se, T::s, T::es};

// NN:      -> e   <- e, ee
constexpr std::array<MessagePattern, 2> kNN{kE, kEEe};
// NNpsk0:  -> psk, e   <- e, ee
constexpr std::array<MessagePattern, 2> kNNpsk0{kPskE, kEEe};
// NNpsk2:  -> e   <- e, ee, psk
constexpr std::array<MessagePattern, 2> kNNpsk2{kE, kEEePsk};
// NK:      <- s ... -> e, es   <- e, ee
constexpr std::array<MessagePattern, 2> kNK{kEEs, kEEe};
// NKpsk2:  <- s ... -> e, es   <- e, ee, psk
constexpr std::array<MessagePattern, 2> kNKpsk2{kEEs, kEEePsk};
// XX:      -> e   <- e, ee, s, es   -> s, se
constexpr std::array<MessagePattern, 3> kXX{kE, kEEeSEs, kSSe};
// XXpsk3:  -> e   <- e, ee, s, es   -> s, se, psk
constexpr std::array<MessagePattern, 3> kXXpsk3{kE, kEEeSEs, kSSePsk};
// IK:      <- s ... -> e, es, s, ss   <- e, ee, se
constexpr std::array<MessagePattern, 2> kIK{kEEsSSs, kEEeSe};
// IKpsk1:  <- s ... -> e, es, s, ss, psk   <- e, ee, se
constexpr std::array<MessagePattern, 2> kIKpsk1{kEEsSSsPsk, kEEeSe};
// IKpsk2:  <- s ... -> e, es, s, ss   <- e, ee, se, psk
constexpr std::array<MessagePattern, 2> kIKpsk2{kEEsSSs, kEEeSePsk};
// IX:      -> e, s   <- e, ee, se, s, es
constexpr std::array<MessagePattern, 2> kIX{kES, kEEeSeSEs};

const std::array<NoisePattern, 11> kPatterns{{
    {NoisePatternId::NN, "NN", kNone, kNone, kNN, false},
    {NoisePatternId::NNpsk0, "NNpsk0", kNone, kNone, kNNpsk0, true},
    {NoisePatternId::NNpsk2, "NNpsk2", kNone, kNone, kNNpsk2, true},
    {NoisePatternId::NK, "NK", kNone, kS, kNK, false},
    {NoisePatternId::NKpsk2, "NKpsk2", kNone, kS, kNKpsk2, true},
    {NoisePatternId::XX, "XX", kNone, kNone, kXX, false},
    {NoisePatternId::XXpsk3, "XXpsk3", kNone, kNone, kXXpsk3, true},
    {NoisePatternId::IK, "IK", kNone, kS, kIK, false},
    {NoisePatternId::IKpsk1, "IKpsk1", kNone, kS, kIKpsk1, true},
    {NoisePatternId::IKpsk2, "IKpsk2", kNone, kS, kIKpsk2, true},
    {NoisePatternId::IX, "IX", kNone, kNone, kIX, false},
}};

}  // namespace

std::span<const NoisePattern> all_noise_patterns() { return kPatterns; }

const NoisePattern& noise_pattern(NoisePatternId id) {
  const auto index = static_cast<std::size_t>(id);
  assert(index < kPatterns.size() && kPatterns[index].id == id);
  return kPatterns[index];
}

std::optional<NoisePatternId> find_noise_pattern(std::string_view name) {
  for (const NoisePattern& pattern : kPatterns) {
    if (pattern.name == name) return pattern.id;
  }
  return std::nullopt;
}

std::string noise_protocol_name(NoisePatternId id) {
  std::string name = "Noise_";
  name += noise_pattern(id).name;
  name += kNoiseSuffix;
  return name;
}

}  // namespace srudp::crypto
