// QUIC variable-length integers (RFC 9000 §16): the two high bits of the first byte give the
// length (00=1, 01=2, 10=4, 11=8 bytes), the remaining bits hold the value big-endian, so values
// up to 2^62-1 fit. srudp only accepts the shortest encoding of each value: one value has one
// encoding, which keeps re-encoding canonical and leaves no room for covert padding in lengths.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

namespace detail {
// 4- or 8-byte big-endian integers at p (no alignment needed).
template <class T>
T load_big_endian(const std::uint8_t* p) noexcept {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8);
  T x;
  std::memcpy(&x, p, sizeof x);
  if constexpr (std::endian::native == std::endian::big) {
    return x;
  } else if constexpr (sizeof(T) == 4) {
    return __builtin_bswap32(x);
  } else {
    return __builtin_bswap64(x);
  }
}
template <class T>
void store_big_endian(T x, std::uint8_t* p) noexcept {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8);
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(T) == 4) {
      x = __builtin_bswap32(x);
    } else {
      x = __builtin_bswap64(x);
    }
  }
  std::memcpy(p, &x, sizeof x);
}
}  // namespace detail

struct Decoded {
  std::uint64_t value = 0;
  std::size_t size = 0;  // bytes consumed
};

// Decodes the varint at the start of `in`. Errors: truncated (input shorter than the announced
// length, or empty), non_minimal_varint (a shorter encoding exists).
inline Result<Decoded> decode(std::span<const std::uint8_t> in) noexcept {
  if (in.empty()) return errc::truncated;
  const std::uint8_t first = in[0];
  if (first < 0x40) return Decoded{first, 1};  // one byte: always the shortest encoding
  const std::size_t len = length_from_first_byte(first);
  if (in.size() < len) return errc::truncated;
  // The longer ones in one big-endian load each, without the two length bits.
  std::uint64_t v = 0;
  if (len == 2) {
    v = (std::uint64_t{first & 0x3fu} << 8) | in[1];
  } else if (len == 4) {
    v = detail::load_big_endian<std::uint32_t>(in.data()) & 0x3fff'ffffu;
  } else {
    v = detail::load_big_endian<std::uint64_t>(in.data()) & kMax;
  }
  if (encoded_size(v) != len) return errc::non_minimal_varint;
  return Decoded{v, len};
}

// Writes the shortest encoding of v to the start of `out` and returns its size.
// Errors: value_out_of_range (v > kMax), buffer_too_small.
inline Result<std::size_t> encode(std::uint64_t v, std::span<std::uint8_t> out) noexcept {
  const std::size_t len = encoded_size(v);
  if (len == 0) return errc::value_out_of_range;
  if (out.size() < len) return errc::buffer_too_small;
  // The length prefix 0b00, 0b01, 0b10, 0b11 for 1, 2, 4, 8 bytes goes in the top two bits,
  // which the value leaves clear.
  switch (len) {
    case 1: out[0] = static_cast<std::uint8_t>(v); break;
    case 2:
      out[0] = static_cast<std::uint8_t>(0x40 | (v >> 8));
      out[1] = static_cast<std::uint8_t>(v);
      break;
    case 4: detail::store_big_endian(static_cast<std::uint32_t>(v | 0x8000'0000u), out.data()); break;
    default: detail::store_big_endian(v | 0xc000'0000'0000'0000u, out.data()); break;
  }
  return len;
}

}  // namespace srudp::wire::varint
