#include "wire/varint.hpp"

namespace srudp::wire::varint {

Result<std::size_t> encode(std::uint64_t v, std::span<std::uint8_t> out) noexcept {
  const std::size_t len = encoded_size(v);
  if (len == 0) return errc::value_out_of_range;
  if (out.size() < len) return errc::buffer_too_small;
  for (std::size_t i = len; i-- > 0;) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
  // The length prefix: 0b00, 0b01, 0b10, 0b11 for 1, 2, 4, 8 bytes (the value's top bits are 0).
  static constexpr std::uint8_t kPrefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
  out[0] = static_cast<std::uint8_t>(out[0] | kPrefix[len]);
  return len;
}

}  // namespace srudp::wire::varint
