// One stream as the connection keeps it: its send half (SendBuffer) and/or receive half
// (ReceiveBuffer; a unidirectional stream has only one), the peer's per-stream limit, the
// receive-window auto-tuning, the urgency, and the two ways of abandoning a half (RFC 9000
// section 3): RESET_STREAM (a sender gives up) and STOP_SENDING (a receiver asks it to).
//
// The stream decides what the frames mean and which frames are due; the connection writes them
// (reset_frame(), stop_frame(), max_stream_data_frame()) and reports their fate (on_*_sent /
// _lost / _acked). Connection-wide credit moves through the ConnectionFlowControl passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include "common/result.hpp"
#include "common/time.hpp"
#include "stream/flow_control.hpp"
#include "stream/receive_buffer.hpp"
#include "stream/send_buffer.hpp"
#include "stream/stream_scheduler.hpp"
#include "wire/frame.hpp"

namespace srudp::stream {

// What a stream's writer may queue ahead of the connection (SendBuffer::limit_unsent): a few
// hundred packets, which stay in the cache until they are sent.
inline constexpr std::size_t kMaxUnsentBytes = 256 * 1024;

class StreamState {
 public:
  struct Config {
    bool sends = true;
    bool receives = true;
    std::size_t send_capacity = 1 << 20;
    std::size_t send_unsent_limit = kMaxUnsentBytes;  // of which written but not yet sent
    std::uint64_t receive_window = 1 << 20;  // the limit the peer knows (transport parameters)
    std::uint64_t tuned_window = 1 << 20;    // the window auto-tuning reached so far (>= the above)
    std::uint64_t max_receive_window = 16 << 20;
    std::uint64_t peer_max_stream_data = 0;  // how far the peer lets us send at first
  };

  StreamState(std::uint64_t id, const Config& config);

  std::uint64_t id() const { return id_; }
  bool has_send_half() const { return send_.has_value(); }
  bool has_receive_half() const { return receive_.has_value(); }
  std::uint8_t urgency = kDefaultUrgency;
  bool readable_signalled = false;  // a stream_readable event is outstanding

  // ---- send half ------------------------------------------------------------------------------
  // Errors: invalid_state (no send half, or finished), stream_stopped (reset, by us or at the
  // peer's request).
  Result<std::size_t> write(std::span<const std::uint8_t> data);
  std::error_code finish();
  std::size_t writable() const { return send_ ? send_->writable() : 0; }
  bool writer_may_resume() const { return send_ && send_->writer_may_resume(); }
  // The peer's MAX_STREAM_DATA; returns whether it raised the limit.
  bool on_max_stream_data(std::uint64_t limit);
  // How far new data may go, given the connection's remaining credit.
  std::uint64_t send_limit(std::uint64_t connection_credit) const;
  bool has_pending(std::uint64_t connection_credit) const;
  SendBuffer& send_buffer() { return *send_; }  // precondition: has_send_half()

  // Abandons the send half: unsent and unacknowledged data is discarded and RESET_STREAM with
  // `error_code` becomes due. False when there is nothing to reset (no send half, already reset,
  // or everything, FIN included, was acknowledged).
  bool reset_sending(std::uint64_t error_code);
  // STOP_SENDING from the peer: reset with its error code (RFC 9000 section 3.5). Returns whether
  // this reset the stream (the application is told).
  bool on_stop_sending(std::uint64_t error_code) { return reset_sending(error_code); }
  bool is_send_reset() const { return send_ && send_->is_reset(); }
  bool has_unacknowledged_data() const { return send_ && send_->has_unacknowledged(); }
  std::optional<wire::ResetStream> reset_frame() const;  // when due
  void on_reset_sent();
  void on_reset_lost();
  void on_reset_acked();

  // ---- receive half ---------------------------------------------------------------------------
  // A STREAM frame. Errors (nothing changes): protocol_violation (no receive half),
  // flow_control_error (beyond the stream's or the connection's limit), final_size_error.
  std::error_code on_data(const wire::Stream& frame, ConnectionFlowControl& flow, Instant now, Duration srtt);
  // RESET_STREAM. Returns whether it reset the stream now (the application is told); errors as
  // on_data. The unread data is discarded and its credit given back.
  Result<bool> on_reset(std::uint64_t error_code, std::uint64_t final_size, ConnectionFlowControl& flow,
                        Instant now, Duration srtt);
  // Reads in order. Errors: invalid_state (no receive half), stream_reset (the peer reset it),
  // stream_stopped (we stopped it).
  Result<std::size_t> read(std::span<std::uint8_t> out, ConnectionFlowControl& flow, Instant now, Duration srtt);
  // The application wants no more data: buffered data is discarded (credit given back) and
  // STOP_SENDING with `error_code` becomes due unless the stream's end is already known.
  // Error invalid_state without a receive half; nothing happens on a stream already over.
  std::error_code stop_receiving(std::uint64_t error_code, ConnectionFlowControl& flow, Instant now, Duration srtt);
  std::optional<wire::StopSending> stop_frame() const;  // when due
  void on_stop_sent() { stop_due_ = false; }
  void on_stop_lost();
  std::optional<wire::MaxStreamData> max_stream_data_frame() const;  // when due
  void on_max_stream_data_sent() { max_stream_data_due_ = false; }
  void on_max_stream_data_lost();
  std::size_t readable() const { return receive_ ? receive_->readable() : 0; }
  bool is_receive_reset() const { return receive_ && receive_->is_reset(); }
  bool at_end() const { return receive_ && receive_->is_finished(); }  // FIN received and all read
  std::uint64_t receive_window() const { return receive_ ? receive_->window() : 0; }

  // ---- lifecycle ------------------------------------------------------------------------------
  // Any of RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA is due.
  bool has_frames_due() const { return reset_due_ || stop_due_ || max_stream_data_due_; }
  // Both halves are over: sent and acknowledged (or reset, and the reset acknowledged), and
  // received and read (or reset and the reset reported by read(), or stopped and its end known).
  bool is_done() const;
  std::size_t allocated_bytes() const;

 private:
  std::uint64_t id_;
  std::optional<SendBuffer> send_;
  std::optional<ReceiveBuffer> receive_;
  std::uint64_t max_receive_window_;
  std::uint64_t peer_max_stream_data_;
  WindowTuner tuner_;

  std::uint64_t reset_error_ = 0;
  std::uint64_t reset_final_size_ = 0;
  bool reset_due_ = false;
  bool reset_acked_ = false;
  std::uint64_t stop_error_ = 0;
  bool stop_due_ = false;
  bool reset_reported_ = false;  // read() told the application about the peer's reset
  bool max_stream_data_due_ = false;
};

}  // namespace srudp::stream
