// Per-packet AEAD cost for 1200-byte packets: PacketKey seal/open per algorithm, and a full
// PacketProtection seal + open round trip (two endpoints, in place, as the transport does it).
#include "crypto/aead.hpp"
#include "crypto/packet_protection.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "common/random.hpp"

namespace {

using srudp::crypto::AeadAlgorithm;
using srudp::crypto::kAeadTagSize;
using srudp::crypto::PacketKey;
using srudp::crypto::PacketProtection;
using srudp::crypto::PacketProtectionConfig;
using srudp::crypto::SecretKey;

constexpr std::size_t kPacketSize = 1200;
constexpr std::array<std::uint8_t, 13> kHeader{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1};

SecretKey random_key(std::uint64_t seed) {
  srudp::SeededRandom random(seed);
  SecretKey key;
  random.fill(key.bytes());
  return key;
}

bool skip_if_unavailable(benchmark::State& state, AeadAlgorithm algorithm) {
  if (srudp::crypto::aead_available(algorithm)) return false;
  state.SkipWithError("algorithm not available on this CPU");
  return true;
}

void set_counters(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(kPacketSize));
  state.counters["packets/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Seal(benchmark::State& state, AeadAlgorithm algorithm) {
  if (skip_if_unavailable(state, algorithm)) return;
  auto key = PacketKey::create(random_key(1), algorithm);
  std::vector<std::uint8_t> plaintext(kPacketSize, 0xab);
  std::vector<std::uint8_t> out(kPacketSize + kAeadTagSize);
  std::uint64_t pn = 0;
  for (auto _ : state) {
    auto sealed = key->seal(pn++, kHeader, plaintext, out);
    benchmark::DoNotOptimize(sealed);
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

void BM_Open(benchmark::State& state, AeadAlgorithm algorithm) {
  if (skip_if_unavailable(state, algorithm)) return;
  auto key = PacketKey::create(random_key(2), algorithm);
  std::vector<std::uint8_t> plaintext(kPacketSize, 0xcd);
  std::vector<std::uint8_t> sealed(kPacketSize + kAeadTagSize);
  (void)key->seal(7, kHeader, plaintext, sealed);
  std::vector<std::uint8_t> out(kPacketSize);
  for (auto _ : state) {
    auto opened = key->open(7, kHeader, sealed, out);
    if (!opened) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(opened);
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

void BM_ProtectionRoundTrip(benchmark::State& state, AeadAlgorithm algorithm) {
  if (skip_if_unavailable(state, algorithm)) return;
  auto a = PacketProtection::create(PacketProtectionConfig{random_key(3), random_key(4), algorithm,
                                                           std::nullopt, 0, 0});
  auto b = PacketProtection::create(PacketProtectionConfig{random_key(4), random_key(3), algorithm,
                                                           std::nullopt, 0, 0});
  std::vector<std::uint8_t> buffer(kPacketSize + kAeadTagSize);
  std::array<std::uint8_t, 13> header = kHeader;
  std::uint64_t pn = 0;
  for (auto _ : state) {
    const bool phase = a->send_key_phase();
    header[0] = static_cast<std::uint8_t>(0x40 | (phase ? srudp::crypto::kKeyPhaseHeaderBit : 0));
    auto sealed = a->seal(pn, header, std::span(buffer).first(kPacketSize), buffer);
    auto opened = b->open(pn, phase, header, buffer, buffer);
    if (!sealed || !opened) state.SkipWithError("round trip failed");
    ++pn;
    benchmark::ClobberMemory();
  }
  set_counters(state);
}

BENCHMARK_CAPTURE(BM_Seal, chacha20_poly1305, AeadAlgorithm::chacha20_poly1305);
BENCHMARK_CAPTURE(BM_Open, chacha20_poly1305, AeadAlgorithm::chacha20_poly1305);
BENCHMARK_CAPTURE(BM_Seal, aes256_gcm, AeadAlgorithm::aes256_gcm);
BENCHMARK_CAPTURE(BM_Open, aes256_gcm, AeadAlgorithm::aes256_gcm);
BENCHMARK_CAPTURE(BM_ProtectionRoundTrip, chacha20_poly1305, AeadAlgorithm::chacha20_poly1305);
BENCHMARK_CAPTURE(BM_ProtectionRoundTrip, aes256_gcm, AeadAlgorithm::aes256_gcm);

}  // namespace

