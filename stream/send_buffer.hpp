// One stream's outgoing bytes, from the application's write() until the peer acknowledges them.
//
// The application writes into a bounded buffer (write() takes what fits: backpressure). The
// connection asks for chunks to put in STREAM frames: first ranges declared lost (retransmission),
// then new bytes up to the peer's MAX_STREAM_DATA, and the FIN (with the last bytes, or alone).
// Packet acknowledgements and losses come back per chunk as (offset, length, fin).
//
// Storage is a deque of fixed-size blocks: a block is released once the contiguous acknowledged
// prefix passes its end. Out-of-order acknowledgements and lost ranges are kept as intervals, so
// every operation costs O(log n) in the number of outstanding ranges, never per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "stream/range_set.hpp"
#include "wire/frame.hpp"

namespace srudp::stream {

// Offsets and final sizes stay below 2^62 (they travel as varints).
inline constexpr std::uint64_t kMaxStreamOffset = wire::kMaxStreamOffset;

class SendBuffer {
 public:
  // What goes into one STREAM frame. `data` points into the buffer: it stays valid until the next
  // call to write(), on_acked(), on_lost() or reset().
  struct Chunk {
    std::uint64_t offset = 0;
    std::span<const std::uint8_t> data;
    bool fin = false;
    std::uint64_t end() const noexcept { return offset + data.size(); }
  };

  // Largest contiguous block of storage. A chunk never spans two blocks, so one chunk in every
  // kBlockSize bytes may come out shorter than asked; the caller fills the packet with another.
  static constexpr std::size_t kBlockSize = 16 * 1024;

  // `capacity`: the most bytes held at once (written but not yet acknowledged).
  explicit SendBuffer(std::size_t capacity) : SendBuffer(capacity, 0) {}
  // A stream whose first byte has offset `start_offset`, as if the bytes before it had been sent
  // and acknowledged (tests use it to reach the 2^62 boundary).
  SendBuffer(std::size_t capacity, std::uint64_t start_offset);

  // --- Application side
  // Copies as much of `bytes` as fits and returns how much it took: 0 when full, finished, reset,
  // or at the 2^62-1 offset limit.
  std::size_t write(std::span<const std::uint8_t> bytes);
  // Marks the end of the stream after the bytes written so far; later writes take nothing.
  void finish();
  // Bounds the bytes written but not yet sent (the capacity still bounds everything held). A
  // bulk writer then stays a little ahead of the connection instead of a whole buffer ahead: what
  // it wrote is still in the cache when it goes out, and data in flight is not held back.
  void limit_unsent(std::size_t bytes) noexcept { unsent_limit_ = bytes; }
  // How many bytes write() would take now.
  std::size_t writable() const noexcept;
  // Whether a writer that came up short should be told to write again: there is room, and no more
  // than half the unsent limit is still waiting (so each wake-up moves a good batch, not a packet).
  bool writer_may_resume() const noexcept {
    return writable() > 0 && unsent_bytes() <= unsent_limit_ / 2;
  }
  // Sending took the unsent bytes from `unsent_before` down to the mark where a writer resumes.
  bool reached_resume_mark(std::uint64_t unsent_before) const noexcept {
    return unsent_before > unsent_limit_ / 2 && unsent_bytes() <= unsent_limit_ / 2;
  }
  bool is_finished() const noexcept { return fin_ != FinState::none; }
  // The stream's final size once finish() was called.
  std::optional<std::uint64_t> final_size() const noexcept;

  // --- Connection side
  // The next chunk to send, at most `max_bytes` of data: the first lost range, else new bytes below
  // `flow_limit` (the peer's MAX_STREAM_DATA). The FIN rides on the chunk that ends at the final
  // size, or goes alone (empty data) even when max_bytes is 0. The chunk counts as in flight.
  // nullopt when there is nothing to send.
  std::optional<Chunk> next_chunk(std::size_t max_bytes, std::uint64_t flow_limit);
  // The packet carrying chunk (offset, length, fin) was acknowledged. Ranges not sent, already
  // acknowledged or outside the stream are ignored.
  void on_acked(std::uint64_t offset, std::uint64_t length, bool fin);
  // The packet carrying chunk (offset, length, fin) was declared lost: its unacknowledged part
  // (and the FIN, if not acknowledged) is queued for retransmission.
  void on_lost(std::uint64_t offset, std::uint64_t length, bool fin);

  // Everything written, and the FIN, was acknowledged.
  bool all_acked() const noexcept;
  // Something written (or the FIN, if finished) is not acknowledged yet; false once reset.
  bool has_unacknowledged() const noexcept {
    return !is_reset() && (acked_prefix_ < write_offset_ || fin_ == FinState::unsent || fin_ == FinState::in_flight);
  }
  // Bytes sent and neither acknowledged nor declared lost.
  std::uint64_t bytes_in_flight() const noexcept;
  // Bytes written but never sent.
  std::uint64_t unsent_bytes() const noexcept { return write_offset_ - send_offset_; }
  // Bytes declared lost and waiting for retransmission.
  std::uint64_t lost_bytes() const noexcept { return lost_.total(); }
  // next_chunk(n > 0, flow_limit) would return a chunk.
  bool has_pending(std::uint64_t flow_limit) const noexcept;
  // New bytes are waiting only because of the peer's limit (time for STREAM_DATA_BLOCKED).
  bool blocked_by_flow_control(std::uint64_t flow_limit) const noexcept;

  // Abandons the stream (RESET_STREAM): discards all data and state and returns the final size to
  // announce, the highest offset ever sent. Afterwards the buffer takes and sends nothing.
  std::uint64_t reset();
  bool is_reset() const noexcept { return reset_final_size_.has_value(); }

  // --- Introspection
  std::uint64_t write_offset() const noexcept { return write_offset_; }  // end of written data
  std::uint64_t sent_offset() const noexcept { return send_offset_; }    // end of data ever sent
  std::uint64_t acked_offset() const noexcept { return acked_prefix_; }  // contiguous acked prefix
  std::size_t outstanding_ack_ranges() const noexcept { return acked_.size(); }
  std::size_t outstanding_lost_ranges() const noexcept { return lost_.size(); }
  // Memory held for stream data (whole blocks, including the spares kept for reuse).
  std::size_t allocated_bytes() const noexcept;

 private:
  enum class FinState { none, unsent, in_flight, acked };

  // Longest run of stored bytes starting at `offset` that lies inside one block.
  std::span<const std::uint8_t> contiguous_at(std::uint64_t offset, std::uint64_t max_len) const;
  void release_acked_blocks();
  bool fin_goes_with(std::uint64_t chunk_end) const noexcept;

  std::size_t capacity_;
  std::size_t unsent_limit_ = SIZE_MAX;
  std::size_t block_size_;
  // block_size_ bytes each, left uninitialized when allocated: write() fills before anything reads.
  using Block = std::unique_ptr<std::uint8_t[]>;
  std::deque<Block> blocks_;  // block i covers storage_offset_ + i * block_size_
  // Released blocks kept for the next writes, at most kMaxSpareBlocks while bytes are held (a
  // bulk writer refills about what each ACK releases, so the blocks go round without malloc and
  // stay in the cache) and one once everything written was acknowledged.
  static constexpr std::size_t kMaxSpareBlocks = 8;
  std::vector<Block> spares_;
  std::uint64_t storage_offset_;
  std::uint64_t acked_prefix_;  // every byte below is acknowledged
  std::uint64_t send_offset_;   // every byte below was sent at least once
  std::uint64_t write_offset_;  // every byte below was written
  RangeSet acked_;              // acknowledged ranges above acked_prefix_
  RangeSet lost_;               // lost, unacknowledged ranges waiting for retransmission
  FinState fin_ = FinState::none;
  std::optional<std::uint64_t> reset_final_size_;
};

}  // namespace srudp::stream
