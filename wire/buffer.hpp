// Bounds-checked cursors over byte buffers, used by every hand-written codec in wire/.
// Reader never reads past the end of its span: a read that does not fit returns an error and
// leaves the position unchanged. Writer never writes past the end of its span: a write that does
// not fit returns errc::buffer_too_small and writes nothing. All fixed-width integers are
// big-endian (network order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <system_error>

#include "common/result.hpp"
#include "wire/varint.hpp"

namespace srudp::wire {

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) noexcept : data_(data) {}

  std::size_t position() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  bool empty() const noexcept { return pos_ == data_.size(); }
  // The bytes not read yet, and the bytes read so far.
  std::span<const std::uint8_t> rest() const noexcept { return data_.subspan(pos_); }
  std::span<const std::uint8_t> consumed() const noexcept { return data_.first(pos_); }

  Result<std::uint8_t> peek_u8() const {
    if (empty()) return errc::truncated;
    return data_[pos_];
  }
  Result<std::uint8_t> read_u8() { return read_be<std::uint8_t>(); }
  Result<std::uint16_t> read_u16() { return read_be<std::uint16_t>(); }
  Result<std::uint32_t> read_u32() { return read_be<std::uint32_t>(); }
  Result<std::uint64_t> read_u64() { return read_be<std::uint64_t>(); }

  // An unsigned big-endian integer of 1..8 bytes (truncated packet numbers).
  Result<std::uint64_t> read_uint(std::size_t n) {
    if (n == 0 || n > 8) return errc::invalid_argument;
    if (remaining() < n) return errc::truncated;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += n;
    return v;
  }

  // Errors: truncated, non_minimal_varint.
  Result<std::uint64_t> read_varint() {
    auto d = varint::decode(rest());
    if (!d) return d.error();
    pos_ += d->size;
    return d->value;
  }

  // A view of the next n bytes (no copy). Error: truncated.
  Result<std::span<const std::uint8_t>> read_bytes(std::size_t n) {
    if (remaining() < n) return errc::truncated;
    auto out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  // Copies exactly out.size() bytes. Error: truncated.
  std::error_code read_into(std::span<std::uint8_t> out) {
    if (remaining() < out.size()) return errc::truncated;
    if (!out.empty()) std::memcpy(out.data(), data_.data() + pos_, out.size());
    pos_ += out.size();
    return {};
  }

  // Everything that is left (possibly empty).
  std::span<const std::uint8_t> read_rest() noexcept {
    auto out = rest();
    pos_ = data_.size();
    return out;
  }

  std::error_code skip(std::size_t n) {
    if (remaining() < n) return errc::truncated;
    pos_ += n;
    return {};
  }

 private:
  template <class T>
  Result<T> read_be() {
    if (remaining() < sizeof(T)) return errc::truncated;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += sizeof(T);
    return static_cast<T>(v);
  }

  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

class Writer {
 public:
  explicit Writer(std::span<std::uint8_t> out) noexcept : out_(out) {}

  std::size_t position() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return out_.size() - pos_; }
  // The bytes written so far.
  std::span<std::uint8_t> written() const noexcept { return out_.first(pos_); }

  std::error_code write_u8(std::uint8_t v) { return write_be(v, 1); }
  std::error_code write_u16(std::uint16_t v) { return write_be(v, 2); }
  std::error_code write_u32(std::uint32_t v) { return write_be(v, 4); }
  std::error_code write_u64(std::uint64_t v) { return write_be(v, 8); }

  // The low n bytes (1..8) of v, big-endian. Error: value_out_of_range when v does not fit.
  std::error_code write_uint(std::uint64_t v, std::size_t n) {
    if (n == 0 || n > 8) return errc::invalid_argument;
    if (n < 8 && (v >> (8 * n)) != 0) return errc::value_out_of_range;
    return write_be(v, n);
  }

  // Errors: value_out_of_range (v > 2^62-1), buffer_too_small.
  std::error_code write_varint(std::uint64_t v) {
    auto n = varint::encode(v, out_.subspan(pos_));
    if (!n) return n.error();
    pos_ += *n;
    return {};
  }

  std::error_code write_bytes(std::span<const std::uint8_t> bytes) {
    if (remaining() < bytes.size()) return errc::buffer_too_small;
    if (!bytes.empty()) std::memcpy(out_.data() + pos_, bytes.data(), bytes.size());
    pos_ += bytes.size();
    return {};
  }

  std::error_code write_zeros(std::size_t n) {
    if (remaining() < n) return errc::buffer_too_small;
    if (n != 0) std::memset(out_.data() + pos_, 0, n);
    pos_ += n;
    return {};
  }

 private:
  std::error_code write_be(std::uint64_t v, std::size_t n) {
    if (remaining() < n) return errc::buffer_too_small;
    for (std::size_t i = n; i-- > 0;) {
      out_[pos_ + i] = static_cast<std::uint8_t>(v);
      v >>= 8;
    }
    pos_ += n;
    return {};
  }

  std::span<std::uint8_t> out_;
  std::size_t pos_ = 0;
};

}  // namespace srudp::wire
