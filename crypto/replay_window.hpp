// Anti-replay window for received packet numbers (RFC 6479's bitmap of 64-bit blocks in a ring).
//
// Rule: with T the largest packet number marked so far, a packet number pn is acceptable if
// nothing was marked yet, or pn > T, or T - pn < kWindowSize and pn was not marked. Anything
// older than the window is refused even if it was never seen (it cannot be told apart from a
// replay any more).
//
// CONTRACT. may_accept() is a cheap pre-check before decrypting. mark() must be called ONLY
// after the packet passed the AEAD check. Because of that, a forged packet with an enormous
// packet number cannot move the window (and lock out the genuine packets behind it): it never
// authenticates, so it is never marked. Call order per packet:
//     if (!window.may_accept(pn)) drop;              // errc::replayed
//     open / authenticate the packet, else drop;
//     window.mark(pn);
// (mark() of a packet number outside the window or already marked is harmless: ignored.)
//
// Cost: may_accept() is O(1). mark() of a new largest number clears the blocks skipped over:
// at most the whole ring (kRingBlocks words), however far it jumps (even 2^60).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace srudp::crypto {

class ReplayWindow {
 public:
  static constexpr std::uint64_t kWindowSize = 4096;  // packets remembered below the largest
  static constexpr std::size_t kBitsPerBlock = 64;
  // One block more than the window spans, so the oldest in-window block and the block holding
  // the largest number never share a ring slot (RFC 6479 §2).
  static constexpr std::size_t kRingBlocks = kWindowSize / kBitsPerBlock + 1;

  bool may_accept(std::uint64_t packet_number) const noexcept;
  void mark(std::uint64_t packet_number) noexcept;

  bool empty() const noexcept { return empty_; }
  // The largest packet number marked; meaningful only when !empty().
  std::uint64_t largest() const noexcept { return largest_; }

 private:
  static std::size_t slot_of_block(std::uint64_t block) noexcept {
    return static_cast<std::size_t>(block % kRingBlocks);
  }
  static std::uint64_t bit_of(std::uint64_t packet_number) noexcept {
    return std::uint64_t{1} << (packet_number % kBitsPerBlock);
  }

  std::array<std::uint64_t, kRingBlocks> ring_{};
  std::uint64_t largest_ = 0;
  bool empty_ = true;
};

}  // namespace srudp::crypto
