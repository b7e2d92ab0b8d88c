#include "stream/send_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace srudp::stream {

namespace {

// [offset, offset + length) clamped to [0, limit), without overflowing.
std::uint64_t clamped_end(std::uint64_t offset, std::uint64_t length, std::uint64_t limit) {
  if (offset >= limit) return offset;
  return offset + std::min(length, limit - offset);
}

}  // namespace

SendBuffer::SendBuffer(std::size_t capacity, std::uint64_t start_offset)
    : capacity_(capacity),
      block_size_(std::clamp<std::size_t>(capacity, 1, kBlockSize)),
      storage_offset_(std::min(start_offset, kMaxStreamOffset)),
      acked_prefix_(storage_offset_),
      send_offset_(storage_offset_),
      write_offset_(storage_offset_) {}

std::size_t SendBuffer::writable() const noexcept {
  if (fin_ != FinState::none || is_reset()) return 0;
  const std::uint64_t held = write_offset_ - acked_prefix_;
  const std::uint64_t room = held >= capacity_ ? 0 : capacity_ - held;
  const std::uint64_t unsent = unsent_bytes();
  const std::uint64_t unsent_room = unsent >= unsent_limit_ ? 0 : unsent_limit_ - unsent;
  return static_cast<std::size_t>(std::min({room, unsent_room, kMaxStreamOffset - write_offset_}));
}

std::size_t SendBuffer::write(std::span<const std::uint8_t> bytes) {
  const std::size_t taken = std::min(bytes.size(), writable());
  std::size_t done = 0;
  while (done < taken) {
    const std::uint64_t rel = write_offset_ - storage_offset_;
    const auto index = static_cast<std::size_t>(rel / block_size_);
    const auto within = static_cast<std::size_t>(rel % block_size_);
    if (index == blocks_.size()) {
      if (spares_.empty()) {
        blocks_.push_back(std::make_unique_for_overwrite<std::uint8_t[]>(block_size_));
      } else {
        blocks_.push_back(std::move(spares_.back()));
        spares_.pop_back();
      }
    }
    const std::size_t n = std::min(taken - done, block_size_ - within);
    std::memcpy(blocks_[index].get() + within, bytes.data() + done, n);
    done += n;
    write_offset_ += n;
  }
  return taken;
}

void SendBuffer::finish() {
  if (fin_ == FinState::none && !is_reset()) fin_ = FinState::unsent;
}

std::optional<std::uint64_t> SendBuffer::final_size() const noexcept {
  if (fin_ == FinState::none) return std::nullopt;
  return write_offset_;
}

std::span<const std::uint8_t> SendBuffer::contiguous_at(std::uint64_t offset,
                                                        std::uint64_t max_len) const {
  const std::uint64_t rel = offset - storage_offset_;
  const auto index = static_cast<std::size_t>(rel / block_size_);
  const auto within = static_cast<std::size_t>(rel % block_size_);
  const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(max_len, block_size_ - within));
  return {blocks_[index].get() + within, len};
}

bool SendBuffer::fin_goes_with(std::uint64_t chunk_end) const noexcept {
  return fin_ == FinState::unsent && chunk_end == write_offset_;
}

std::optional<SendBuffer::Chunk> SendBuffer::next_chunk(std::size_t max_bytes,
                                                        std::uint64_t flow_limit) {
  if (is_reset()) return std::nullopt;
  Chunk chunk;
  if (max_bytes > 0 && !lost_.empty()) {
    // Retransmission first. Lost ranges lie below send_offset_, inside limits already granted.
    const RangeSet::Range lost = *lost_.first();
    chunk.offset = lost.start;
    chunk.data = contiguous_at(lost.start, std::min<std::uint64_t>(lost.end - lost.start, max_bytes));
    lost_.erase(chunk.offset, chunk.end());
  } else if (max_bytes > 0 && send_offset_ < write_offset_ && send_offset_ < flow_limit) {
    const std::uint64_t len = std::min({write_offset_ - send_offset_, flow_limit - send_offset_,
                                        std::uint64_t{max_bytes}});
    chunk.offset = send_offset_;
    chunk.data = contiguous_at(send_offset_, len);
    send_offset_ = chunk.end();
  } else if (fin_goes_with(send_offset_)) {
    chunk.offset = send_offset_;  // FIN alone: everything was sent already
  } else {
    return std::nullopt;
  }
  if (fin_goes_with(chunk.end())) {
    chunk.fin = true;
    fin_ = FinState::in_flight;
  }
  return chunk;
}

void SendBuffer::on_acked(std::uint64_t offset, std::uint64_t length, bool fin) {
  if (is_reset()) return;
  if (fin && fin_ != FinState::none) fin_ = FinState::acked;
  const std::uint64_t start = std::max(offset, acked_prefix_);
  const std::uint64_t end = clamped_end(offset, length, send_offset_);
  if (start >= end) return;
  lost_.erase(start, end);
  if (start > acked_prefix_) {  // out of order: remember it until the gap before it closes
    acked_.insert(start, end);
    return;
  }
  // In order (the common case): no interval to store, and the prefix absorbs the ranges it reaches.
  acked_prefix_ = end;
  while (const auto front = acked_.first()) {
    if (front->start > acked_prefix_) break;
    acked_prefix_ = std::max(acked_prefix_, front->end);
    acked_.erase(front->start, front->end);
  }
  release_acked_blocks();
}

void SendBuffer::on_lost(std::uint64_t offset, std::uint64_t length, bool fin) {
  if (is_reset()) return;
  if (fin && fin_ == FinState::in_flight) fin_ = FinState::unsent;
  const std::uint64_t start = std::max(offset, acked_prefix_);
  const std::uint64_t end = clamped_end(offset, length, send_offset_);
  acked_.for_each_gap(start, end, [this](std::uint64_t s, std::uint64_t e) { lost_.insert(s, e); });
}

void SendBuffer::release_acked_blocks() {
  while (!blocks_.empty() && acked_prefix_ - storage_offset_ >= block_size_) {
    if (spares_.size() < kMaxSpareBlocks) spares_.push_back(std::move(blocks_.front()));
    blocks_.pop_front();
    storage_offset_ += block_size_;
  }
  if (acked_prefix_ == write_offset_ && spares_.size() > 1) spares_.resize(1);
}

bool SendBuffer::all_acked() const noexcept {
  return !is_reset() && fin_ == FinState::acked && acked_prefix_ == write_offset_;
}

std::uint64_t SendBuffer::bytes_in_flight() const noexcept {
  return send_offset_ - acked_prefix_ - acked_.total() - lost_.total();
}

bool SendBuffer::has_pending(std::uint64_t flow_limit) const noexcept {
  if (is_reset()) return false;
  return !lost_.empty() || (send_offset_ < write_offset_ && send_offset_ < flow_limit) ||
         fin_goes_with(send_offset_);
}

bool SendBuffer::blocked_by_flow_control(std::uint64_t flow_limit) const noexcept {
  return !is_reset() && send_offset_ < write_offset_ && send_offset_ >= flow_limit;
}

std::uint64_t SendBuffer::reset() {
  if (!is_reset()) {
    reset_final_size_ = send_offset_;
    blocks_.clear();
    spares_.clear();
    acked_.clear();
    lost_.clear();
  }
  return *reset_final_size_;
}

std::size_t SendBuffer::allocated_bytes() const noexcept {
  return (blocks_.size() + spares_.size()) * block_size_;
}

}  // namespace srudp::stream
