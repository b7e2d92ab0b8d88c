// Fuzzes HandshakeState::read_message: arbitrary bytes arrive where a handshake message is
// expected, at every step of every pattern. Reads must fail cleanly (no crash, no out-of-bounds)
// and, being transactional, must never stop the genuine message that follows from working.
//
// Input layout: byte 0 picks the pattern, byte 1 the step at which the junk is injected; the rest
// is split at 0xff bytes into up to four junk messages, fed to the receiver in turn before the
// genuine message.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "crypto/noise_handshake_state.hpp"

using srudp::SeededRandom;
using namespace srudp::crypto;

namespace {

struct Fixture {
  KeyPair initiator_static;
  KeyPair responder_static;
  PresharedKey psk;
  Fixture() {
    SeededRandom keys(1);
    initiator_static = KeyPair::generate(keys);
    responder_static = KeyPair::generate(keys);
    std::array<std::uint8_t, kKeySize> bytes{};
    bytes.fill(0x5a);
    psk = PresharedKey(std::span<const std::uint8_t, kKeySize>(bytes));
  }
};

std::optional<HandshakeState> make(const Fixture& f, NoisePatternId id, bool initiator,
                                   SeededRandom& rng) {
  const NoisePattern& pattern = noise_pattern(id);
  NoiseConfig config;
  config.pattern = id;
  config.initiator = initiator;
  config.local_static = initiator ? &f.initiator_static : &f.responder_static;
  if (initiator && !pattern.responder_premessage.empty()) {
    config.remote_static = f.responder_static.public_key;
  }
  config.psk = pattern.uses_psk ? &f.psk : nullptr;
  config.rng = &rng;
  auto state = HandshakeState::create(config);
  if (!state) return std::nullopt;
  return std::move(*state);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Fixture fixture;
  if (size < 2) return 0;
  const auto patterns = all_noise_patterns();
  const NoisePatternId id = patterns[data[0] % patterns.size()].id;
  const NoisePattern& pattern = noise_pattern(id);
  const std::size_t inject_at = data[1] % pattern.messages.size();
  const std::span<const std::uint8_t> junk(data + 2, size - 2);

  SeededRandom initiator_rng(2);
  SeededRandom responder_rng(3);
  auto initiator = make(fixture, id, true, initiator_rng);
  auto responder = make(fixture, id, false, responder_rng);
  if (!initiator || !responder) std::abort();

  std::vector<std::uint8_t> message(HandshakeState::kMaxMessageSize);
  std::vector<std::uint8_t> payload(HandshakeState::kMaxMessageSize);
  for (std::size_t index = 0; index < pattern.messages.size(); ++index) {
    HandshakeState& sender = written_by_initiator(index) ? *initiator : *responder;
    HandshakeState& receiver = written_by_initiator(index) ? *responder : *initiator;
    if (index == inject_at) {
      std::size_t start = 0;
      for (int attempt = 0; attempt < 4 && start <= junk.size(); ++attempt) {
        std::size_t end = start;
        while (end < junk.size() && junk[end] != 0xff) ++end;
        (void)receiver.read_message(junk.subspan(start, end - start), payload);
        start = end + 1;
      }
    }
    auto written = sender.write_message({}, message);
    if (!written) std::abort();
    auto read = receiver.read_message(std::span(message).first(*written), payload);
    // Junk that happened to be accepted would have moved the state on; anything else must leave
    // the genuine message working.
    if (!read && index != inject_at) std::abort();
    if (!read) return 0;
  }
  if (!initiator->is_complete() || !responder->is_complete()) std::abort();
  if (!std::ranges::equal(initiator->handshake_hash(), responder->handshake_hash())) std::abort();
  return 0;
}
