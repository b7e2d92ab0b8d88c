// The simulator's pseudo-random generator: xoshiro256** seeded through splitmix64. Randomness here
// models a network (loss, jitter, port choice), never secrets, so speed and reproducibility matter
// and cryptographic strength does not. Every random choice of a Network comes from one of these,
// derived from the Network's seed, so a seed replays a run exactly.
#pragma once

#include <array>
#include <cstdint>

namespace srudp::sim {

// One step of splitmix64: a good 64-bit mixer, used to expand seeds.
std::uint64_t splitmix64(std::uint64_t& state) noexcept;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept;
  // An independent stream for a component: the same (seed, stream) always gives the same numbers,
  // and adding a component does not shift the numbers other components see.
  Rng(std::uint64_t seed, std::uint64_t stream) noexcept;
  // The raw generator state (not all zero), for checking against reference outputs.
  static Rng from_state(const std::array<std::uint64_t, 4>& state) noexcept;

  std::uint64_t next_u64() noexcept;
  // Uniform in [0, bound); bound 0 gives 0. Unbiased (Lemire's multiply-and-reject).
  std::uint64_t uniform(std::uint64_t bound) noexcept;
  // Uniform in [lo, hi] inclusive.
  std::uint64_t uniform_between(std::uint64_t lo, std::uint64_t hi) noexcept;
  // Uniform in [0, 1) with 53 bits of precision.
  double unit() noexcept;
  // True with probability p (p <= 0 never, p >= 1 always, and then no number is consumed).
  bool chance(double p) noexcept;

 private:
  std::array<std::uint64_t, 4> s_{};
};

}  // namespace srudp::sim
