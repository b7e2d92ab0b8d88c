// QUIC variable-length integers (RFC 9000 §16): the two high bits of the first byte give the
// length (00=1, 01=2, 10=4, 11=8 bytes), the remaining bits hold the value big-endian, so values
// up to 2^62-1 fit. srudp only accepts the shortest encoding of each value: one value has one
// encoding, which keeps re-encoding canonical and leaves no room for covert padding in lengths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/result.hpp"

namespace srudp::wire::varint {

inline constexpr std::uint64_t kMax = (std::uint64_t{1} << 62) - 1;
inline constexpr std::size_t kMaxSize = 8;

// Bytes needed to encode v: 1, 2, 4 or 8; 0 when v > kMax (it cannot be encoded).
constexpr std::size_t encoded_size(std::uint64_t v) noexcept {
  if (v < (std::uint64_t{1} << 6)) return 1;
  if (v < (std::uint64_t{1} << 14)) return 2;
  if (v < (std::uint64_t{1} << 30)) return 4;
  if (v <= kMax) return 8;
  return 0;
}

// Length in bytes announced by a varint's first byte.
constexpr std::size_t length_from_first_byte(std::uint8_t first) noexcept {
  return std::size_t{1} << (first >> 6);
}

struct Decoded {
  std::uint64_t value = 0;
  std::size_t size = 0;  // bytes consumed
};

// Decodes the varint at the start of `in`. Errors: truncated (input shorter than the announced
// length, or empty), non_minimal_varint (a shorter encoding exists).
inline Result<Decoded> decode(std::span<const std::uint8_t> in) noexcept {
  if (in.empty()) return errc::truncated;
  const std::size_t len = length_from_first_byte(in[0]);
  if (in.size() < len) return errc::truncated;
  std::uint64_t v = in[0] & 0x3fu;
  for (std::size_t i = 1; i < len; ++i) v = (v << 8) | in[i];
  if (encoded_size(v) != len) return errc::non_minimal_varint;
  return Decoded{v, len};
}

// Writes the shortest encoding of v to the start of `out` and returns its size.
// Errors: value_out_of_range (v > kMax), buffer_too_small.
inline Result<std::size_t> encode(std::uint64_t v, std::span<std::uint8_t> out) noexcept {
  const std::size_t len = encoded_size(v);
  if (len == 0) return errc::value_out_of_range;
  if (out.size() < len) return errc::buffer_too_small;
  for (std::size_t i = len; i-- > 0;) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
  // The length prefix: 0b00, 0b01, 0b10, 0b11 for 1, 2, 4, 8 bytes (the value's top bits are 0).
  out[0] = static_cast<std::uint8_t>(out[0] | ((len == 1 ? 0 : len == 2 ? 1 : len == 4 ? 2 : 3) << 6));
  return len;
}

}  // namespace srudp::wire::varint
