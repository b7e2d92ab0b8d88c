// Randomness comes into the protocol core as an argument, so tests and fuzzers can make it
// deterministic. SystemRandom uses libsodium's CSPRNG; SeededRandom is for tests and fuzzing only.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace srudp {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;

  std::uint64_t next_u64();
  // Uniform in [0, bound); bound must be > 0.
  std::uint64_t uniform(std::uint64_t bound);
};

class SystemRandom final : public RandomSource {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

// Uniform draws for something frequent and small (a packet-number skip every hundred-odd packets):
// the source is asked for kValues values at once, so the system CSPRNG costs one system call per
// batch rather than one per draw. The values wait in memory until drawn: not for keys.
class RandomBatch {
 public:
  static constexpr std::size_t kValues = 8;
  // Uniform in [0, bound); bound must be > 0.
  std::uint64_t uniform(RandomSource& source, std::uint64_t bound);

 private:
  std::array<std::uint64_t, kValues> values_{};
  std::size_t left_ = 0;
};

// A reproducible stream (ChaCha20 keyed by the seed). Never use it for real keys.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed);
  void fill(std::span<std::uint8_t> out) override;

 private:
  std::array<std::uint8_t, 32> seed_{};
  std::uint64_t counter_ = 0;
};

}  // namespace srudp
