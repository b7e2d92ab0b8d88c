#include "sim/rng.hpp"

namespace srudp::sim {
namespace {

__extension__ typedef unsigned __int128 u128;  // -Wpedantic: a GCC extension

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Rng::Rng(std::uint64_t seed) noexcept {
  std::uint64_t state = seed;
  for (auto& word : s_) word = splitmix64(state);  // never all zero: splitmix64 is a bijection
}

Rng::Rng(std::uint64_t seed, std::uint64_t stream) noexcept
    : Rng([&] {
        std::uint64_t state = stream ^ 0x5bd1e9955bd1e995ULL;
        return seed ^ splitmix64(state);
      }()) {}

Rng Rng::from_state(const std::array<std::uint64_t, 4>& state) noexcept {
  Rng r(0);
  r.s_ = state;
  return r;
}

std::uint64_t Rng::next_u64() noexcept {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::uniform(std::uint64_t bound) noexcept {
  if (bound == 0) return 0;
  u128 m = static_cast<u128>(next_u64()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<u128>(next_u64()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::uint64_t Rng::uniform_between(std::uint64_t lo, std::uint64_t hi) noexcept {
  if (hi <= lo) return lo;
  const std::uint64_t span = hi - lo;
  if (span == UINT64_MAX) return next_u64();
  return lo + uniform(span + 1);
}

double Rng::unit() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

bool Rng::chance(double p) noexcept {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return unit() < p;
}

}  // namespace srudp::sim
