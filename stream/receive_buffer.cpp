#include "stream/receive_buffer.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "srudp/error.hpp"
#include "wire/frame.hpp"

namespace srudp::stream {

namespace {

using wire::kMaxStreamOffset;

// The ring starts this small (or at the window, if smaller) and doubles as needed.
constexpr std::uint64_t kMinRingSize = 4096;

std::uint64_t low_bits(std::size_t n) noexcept {
  return n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
}

// Sets or clears bits [p, q) of a plain (non-ring) bitmap, a word at a time.
void assign_bits(std::vector<std::uint64_t>& words, std::size_t p, std::size_t q, bool value) {
  while (p < q) {
    const std::size_t bit = p % 64;
    const std::size_t n = std::min<std::size_t>(64 - bit, q - p);
    const std::uint64_t mask = low_bits(n) << bit;
    if (value) {
      words[p / 64] |= mask;
    } else {
      words[p / 64] &= ~mask;
    }
    p += n;
  }
}

// The first bit in [p, q) equal to `value`, or q.
std::size_t find_in(const std::vector<std::uint64_t>& words, bool value, std::size_t p,
                    std::size_t q) {
  while (p < q) {
    const std::size_t bit = p % 64;
    const std::size_t n = std::min<std::size_t>(64 - bit, q - p);
    const std::uint64_t word = value ? words[p / 64] : ~words[p / 64];
    const std::uint64_t candidates = (word >> bit) & low_bits(n);
    if (candidates != 0) return p + static_cast<std::size_t>(std::countr_zero(candidates));
    p += n;
  }
  return q;
}



}  // namespace

ReceiveBuffer::ReceiveBuffer(std::uint64_t window)
    : window_(std::min(window, kMaxStreamOffset)), advertised_(window_) {}

std::size_t ReceiveBuffer::position(std::uint64_t rel) const noexcept {
  const std::size_t p = head_ + static_cast<std::size_t>(rel);
  return p >= ring_size_ ? p - ring_size_ : p;
}

std::uint64_t ReceiveBuffer::find_bit(bool value, std::uint64_t a, std::uint64_t b) const noexcept {
  if (a >= b) return b;
  const std::size_t start = position(a);
  const std::size_t len = static_cast<std::size_t>(b - a);
  const std::size_t first = std::min(len, ring_size_ - start);  // up to the end of the ring
  const std::size_t hit = find_in(bitmap_, value, start, start + first);
  if (hit < start + first) return a + (hit - start);
  if (first == len) return b;
  return a + first + find_in(bitmap_, value, 0, len - first);
}

void ReceiveBuffer::set_bits(std::uint64_t a, std::uint64_t b, bool value) noexcept {
  if (a >= b) return;
  const std::size_t start = position(a);
  const std::size_t len = static_cast<std::size_t>(b - a);
  const std::size_t first = std::min(len, ring_size_ - start);
  assign_bits(bitmap_, start, start + first, value);
  assign_bits(bitmap_, 0, len - first, value);
}

void ReceiveBuffer::copy_in(std::uint64_t rel, std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.empty()) return;
  const std::size_t start = position(rel);
  const std::size_t first = std::min(bytes.size(), ring_size_ - start);
  std::memcpy(ring_.get() + start, bytes.data(), first);
  if (first < bytes.size()) std::memcpy(ring_.get(), bytes.data() + first, bytes.size() - first);
}

void ReceiveBuffer::copy_out(std::span<std::uint8_t> out) const noexcept {
  if (out.empty()) return;
  const std::size_t first = std::min(out.size(), ring_size_ - head_);
  std::memcpy(out.data(), ring_.get() + head_, first);
  if (first < out.size()) std::memcpy(out.data() + first, ring_.get(), out.size() - first);
}

void ReceiveBuffer::ensure_capacity(std::uint64_t needed) {
  const std::uint64_t size = ring_size_;
  if (needed <= size) return;
  // Never beyond what the peer may fill: the advertised limit minus what was read.
  const std::uint64_t span = advertised_ - read_offset_;
  const std::uint64_t grown = std::max(needed, std::min(std::max(2 * size, kMinRingSize), span));
  // Not zero-filled: every byte is written before it is read (the window may be megabytes).
  auto ring = std::make_unique_for_overwrite<std::uint8_t[]>(static_cast<std::size_t>(grown));
  std::vector<std::uint64_t> bitmap(static_cast<std::size_t>((grown + 63) / 64));
  // Re-lay the stored bytes and their bits from position 0.
  const std::uint64_t stored = stored_end_ - read_offset_;
  copy_out(std::span(ring.get(), static_cast<std::size_t>(stored)));
  for (std::uint64_t a = 0; a < stored;) {
    const std::uint64_t s = find_bit(true, a, stored);
    if (s == stored) break;
    const std::uint64_t e = find_bit(false, s, stored);
    assign_bits(bitmap, static_cast<std::size_t>(s), static_cast<std::size_t>(e), true);
    a = e;
  }
  ring_ = std::move(ring);
  ring_size_ = static_cast<std::size_t>(grown);
  bitmap_ = std::move(bitmap);
  head_ = 0;
}

std::error_code ReceiveBuffer::check_final_size(std::uint64_t end, bool fin) const noexcept {
  if (final_size_) {
    if (end > *final_size_) return errc::final_size_error;          // data past the end of the stream
    if (fin && end != *final_size_) return errc::final_size_error;  // a second, different final size
  } else if (fin && end < highest_received_) {
    return errc::final_size_error;  // final size below data already received
  }
  return {};
}

std::error_code ReceiveBuffer::insert(std::uint64_t offset, std::span<const std::uint8_t> data,
                                      bool fin) {
  if (offset > kMaxStreamOffset || data.size() > kMaxStreamOffset - offset) return errc::flow_control_error;
  const std::uint64_t end = offset + data.size();
  if (end > advertised_) return errc::flow_control_error;
  if (const auto ec = check_final_size(end, fin)) return ec;
  if (fin) final_size_ = end;
  highest_received_ = std::max(highest_received_, end);
  if (reset_ || stopped_) return {};

  const std::uint64_t start = std::max(offset, read_offset_);
  if (start >= end) return {};  // empty, or all of it was read already
  ensure_capacity(end - read_offset_);
  const std::uint64_t a = start - read_offset_;
  const std::uint64_t b = end - read_offset_;
  const std::uint64_t c = contiguous_end_ - read_offset_;
  const auto bytes_at = [&](std::uint64_t s, std::uint64_t e) {
    return data.subspan(static_cast<std::size_t>(read_offset_ + s - offset),
                        static_cast<std::size_t>(e - s));
  };
  // Bytes that reach the contiguous prefix need no bit (see bitmap_).
  const bool extends_contiguous = start <= contiguous_end_ && contiguous_end_ < end;
  const bool all_new = start >= stored_end_;
  if (all_new) {
    // The common case: all new. In order, it is the whole story (nothing is stored past it, so
    // no bit anywhere is set); out of order, its bits mark it.
    copy_in(a, bytes_at(a, b));
    if (!extends_contiguous) set_bits(a, b, true);
  } else {
    // Fill only the gaps, above the contiguous prefix: the first copy of each byte wins.
    const std::uint64_t from = std::max(a, c);
    for (std::uint64_t s = find_bit(false, from, b); s < b;) {
      const std::uint64_t e = find_bit(true, s, b);
      copy_in(s, bytes_at(s, e));
      if (!extends_contiguous) set_bits(s, e, true);
      s = find_bit(false, e, b);
    }
  }
  stored_end_ = std::max(stored_end_, end);
  if (extends_contiguous && all_new) {
    contiguous_end_ = end;  // nothing was stored past it: no bit to look at
  } else if (extends_contiguous) {
    // Everything up to b is present now, and the prefix also takes in what arrived earlier right
    // after it. Bits are cleared as the prefix passes them, so each stored byte is scanned and
    // cleared at most once over the stream's life.
    const std::uint64_t stored = stored_end_ - read_offset_;
    const std::uint64_t new_end = b < stored ? find_bit(false, b, stored) : b;
    set_bits(c, new_end, false);
    contiguous_end_ = read_offset_ + new_end;
  }
  return {};
}

std::error_code ReceiveBuffer::on_reset(std::uint64_t final_size) {
  if (final_size > kMaxStreamOffset || final_size > advertised_) return errc::flow_control_error;
  if (const auto ec = check_final_size(final_size, true)) return ec;
  final_size_ = final_size;
  highest_received_ = final_size;
  reset_ = true;
  discard();
  return {};
}

void ReceiveBuffer::stop() {
  stopped_ = true;
  discard();
}

void ReceiveBuffer::discard() {
  ring_.reset();
  ring_size_ = 0;
  bitmap_ = {};
  head_ = 0;
  contiguous_end_ = stored_end_ = read_offset_;
}

std::size_t ReceiveBuffer::read(std::span<std::uint8_t> out) {
  const std::size_t n = std::min(out.size(), readable());
  if (n == 0) return 0;
  copy_out(out.first(n));  // their bits are clear already: they lie below contiguous_end_
  head_ = position(n);
  read_offset_ += n;
  return n;
}

std::size_t ReceiveBuffer::readable() const noexcept {
  return reset_ || stopped_ ? 0 : static_cast<std::size_t>(contiguous_end_ - read_offset_);
}

bool ReceiveBuffer::is_finished() const noexcept {
  return !reset_ && final_size_.has_value() && read_offset_ == *final_size_;
}

std::optional<std::uint64_t> ReceiveBuffer::take_window_update() {
  if (final_size_ || reset_ || stopped_) return std::nullopt;  // the peer will not send more
  const std::uint64_t candidate = read_offset_ + std::min(window_, kMaxStreamOffset - read_offset_);
  if (candidate <= advertised_ || candidate - advertised_ < window_ / 2) return std::nullopt;
  advertised_ = candidate;
  return candidate;
}

void ReceiveBuffer::set_window(std::uint64_t window) {
  window_ = std::max(window_, std::min(window, kMaxStreamOffset));
}

std::size_t ReceiveBuffer::allocated_bytes() const noexcept {
  return ring_size_ + bitmap_.size() * sizeof(std::uint64_t);
}

}  // namespace srudp::stream
