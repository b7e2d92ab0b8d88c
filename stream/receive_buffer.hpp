// One stream's incoming bytes: reassembly of STREAM frames in any order into the ordered byte
// stream the application reads, with flow control (MAX_STREAM_DATA) and the final-size rules of
// RFC 9000 sections 4.1 and 4.5.
//
// Storage is a ring of at most `window` bytes starting at the read offset, plus one bit per byte
// saying which bytes arrived. The ring grows on demand (doubling) up to the advertised span, so a
// peer can never make it hold more than the window, however it fragments, overlaps or repeats
// its data: the bitmap costs window/8 bytes whatever the number of gaps. Inserting costs
// O(length / 64) for the bitmap plus the copy; reading costs O(bytes read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

namespace srudp::stream {

class ReceiveBuffer {
 public:
  // `window`: how far past the read offset the peer may send. It is also the memory commitment
  // of this stream, so it must be a realistic size. The first limit advertised is `window`.
  explicit ReceiveBuffer(std::uint64_t window);

  // A STREAM frame's payload. Errors (and then nothing changes):
  //   protocol_violation: offset + size beyond 2^62-1; data beyond max_stream_data() (flow
  //   control); data beyond a known final size, or a FIN contradicting it or falling below data
  //   already received (final size).
  // Bytes already received or already read are ignored: the first copy of each byte is kept.
  std::error_code insert(std::uint64_t offset, std::span<const std::uint8_t> data, bool fin);

  // A RESET_STREAM frame: checks `final_size` by the same rules as a FIN, then discards all
  // buffered data. Later inserts are checked and dropped; read() returns nothing.
  std::error_code on_reset(std::uint64_t final_size);
  bool is_reset() const noexcept { return reset_; }

  // The application will read no more (it sent STOP_SENDING): discards the buffered data. Later
  // inserts are checked (flow control, final size) and dropped, as after a reset.
  void stop();
  bool is_stopped() const noexcept { return stopped_; }

  // Copies contiguous bytes from the read offset into `out`; returns how many.
  std::size_t read(std::span<std::uint8_t> out);
  // Bytes read() would return now (given room).
  std::size_t readable() const noexcept;
  // The FIN was received and every byte up to it was read.
  bool is_finished() const noexcept;
  std::optional<std::uint64_t> final_size() const noexcept { return final_size_; }

  // The limit currently advertised to the peer (MAX_STREAM_DATA).
  std::uint64_t max_stream_data() const noexcept { return advertised_; }
  // A higher limit worth sending in MAX_STREAM_DATA, once the reader has consumed at least half
  // the window since the last one (or the window grew); the limit counts as advertised from now.
  // nullopt when no update is due, and always once the final size is known.
  std::optional<std::uint64_t> take_window_update();
  // Grows the window (auto-tuning); a smaller value is ignored. Takes effect in the next update.
  void set_window(std::uint64_t window);
  std::uint64_t window() const noexcept { return window_; }

  std::uint64_t read_offset() const noexcept { return read_offset_; }
  // The highest end offset the peer has used, the stream's share of connection-level credit.
  std::uint64_t highest_received() const noexcept { return highest_received_; }
  // Memory held: ring bytes plus bitmap bytes.
  std::size_t allocated_bytes() const noexcept;

 private:
  // The ring position of byte read_offset_ + rel (rel <= ring size). Helpers below take such
  // "rel" offsets and handle the wrap-around themselves.
  std::size_t position(std::uint64_t rel) const noexcept;
  // The first rel in [a, b) whose "received" bit equals `value`, or b.
  std::uint64_t find_bit(bool value, std::uint64_t a, std::uint64_t b) const noexcept;
  void set_bits(std::uint64_t a, std::uint64_t b, bool value) noexcept;
  void copy_in(std::uint64_t rel, std::span<const std::uint8_t> bytes) noexcept;
  void copy_out(std::span<std::uint8_t> out) const noexcept;  // from rel 0
  void ensure_capacity(std::uint64_t needed);
  void discard();  // frees the buffered bytes
  std::error_code check_final_size(std::uint64_t end, bool fin) const noexcept;

  std::uint64_t window_;
  std::uint64_t advertised_;
  std::uint64_t read_offset_ = 0;
  std::uint64_t contiguous_end_ = 0;    // every byte in [read_offset_, contiguous_end_) arrived
  std::uint64_t stored_end_ = 0;        // no byte at or past this is stored
  std::uint64_t highest_received_ = 0;  // largest end offset of any accepted frame
  std::optional<std::uint64_t> final_size_;
  bool reset_ = false;
  bool stopped_ = false;

  std::unique_ptr<std::uint8_t[]> ring_;  // ring_[position(rel)] holds byte read_offset_ + rel
  std::size_t ring_size_ = 0;
  // Bit p set: ring_[p] holds a byte that arrived ahead of a gap (at or past contiguous_end_).
  // Bytes below contiguous_end_ are all present and keep their bits clear, so in-order data and
  // reads touch no bit, and a position is clean when the ring reuses it.
  std::vector<std::uint64_t> bitmap_;
  std::size_t head_ = 0;               // position of read_offset_
};

}  // namespace srudp::stream
