#include "crypto/replay_window.hpp"

namespace srudp::crypto {

bool ReplayWindow::may_accept(std::uint64_t packet_number) const noexcept {
  if (empty_ || packet_number > largest_) return true;
  if (largest_ - packet_number >= kWindowSize) return false;  // too old to tell
  const std::uint64_t block = packet_number / kBitsPerBlock;
  return (ring_[slot_of_block(block)] & bit_of(packet_number)) == 0;
}

void ReplayWindow::mark(std::uint64_t packet_number) noexcept {
  const std::uint64_t block = packet_number / kBitsPerBlock;
  if (empty_) {
    empty_ = false;
    largest_ = packet_number;
  } else if (packet_number > largest_) {
    // Clear the blocks between the old largest's block (exclusive) and the new one
    // (inclusive): they hold bits of packet numbers that have left the window. A jump of more
    // than the ring clears the ring once.
    const std::uint64_t old_block = largest_ / kBitsPerBlock;
    const std::uint64_t skipped = block - old_block;
    const std::uint64_t to_clear = skipped < kRingBlocks ? skipped : kRingBlocks;
    for (std::uint64_t i = 0; i < to_clear; ++i) ring_[slot_of_block(block - i)] = 0;
    largest_ = packet_number;
  } else if (largest_ - packet_number >= kWindowSize) {
    return;  // outside the window: nothing to remember
  }
  ring_[slot_of_block(block)] |= bit_of(packet_number);
}

}  // namespace srudp::crypto
