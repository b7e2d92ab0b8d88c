#include "common/random.hpp"

#include "common/sodium.hpp"

#include <sodium.h>

#include <cstring>

namespace srudp {

std::uint64_t RandomSource::next_u64() {
  std::array<std::uint8_t, 8> b{};
  fill(b);
  std::uint64_t v = 0;
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

namespace {

// Rejection sampling: no modulo bias.
template <typename Next>
std::uint64_t uniform_below(std::uint64_t bound, Next&& next) {
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    const std::uint64_t v = next();
    if (v < limit) return v % bound;
  }
}

}  // namespace

std::uint64_t RandomSource::uniform(std::uint64_t bound) {
  return uniform_below(bound, [this] { return next_u64(); });
}

std::uint64_t RandomBatch::uniform(RandomSource& source, std::uint64_t bound) {
  return uniform_below(bound, [&] {
    if (left_ == 0) {
      source.fill(std::span(reinterpret_cast<std::uint8_t*>(values_.data()), sizeof values_));
      left_ = values_.size();
    }
    return values_[--left_];
  });
}

void SystemRandom::fill(std::span<std::uint8_t> out) {
  ensure_sodium_initialized();
  randombytes_buf(out.data(), out.size());
}

SeededRandom::SeededRandom(std::uint64_t seed) {
  for (std::size_t i = 0; i < 8; ++i) seed_[i] = static_cast<std::uint8_t>(seed >> (8 * i));
}

void SeededRandom::fill(std::span<std::uint8_t> out) {
  // Each call draws a fresh block: derive a per-call seed from (seed, counter).
  std::array<std::uint8_t, randombytes_SEEDBYTES> call_seed{};
  std::array<std::uint8_t, 40> input{};
  std::memcpy(input.data(), seed_.data(), seed_.size());
  std::memcpy(input.data() + 32, &counter_, sizeof counter_);
  ++counter_;
  crypto_generichash(call_seed.data(), call_seed.size(), input.data(), input.size(), nullptr, 0);
  randombytes_buf_deterministic(out.data(), out.size(), call_seed.data());
}

}  // namespace srudp
