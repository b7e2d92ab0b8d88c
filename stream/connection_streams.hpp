// The stream layer of one connection: what STREAM, RESET_STREAM, STOP_SENDING, MAX_DATA,
// MAX_STREAM_DATA and MAX_STREAMS frames mean, which of them are due, and the application's calls
// on streams. It ties together the StreamTable (ids, limits, the streams), the connection-wide
// ConnectionFlowControl and the StreamScheduler (who sends next).
//
// The connection does the plumbing: it hands over the frames it decrypts, asks for frames when it
// builds a packet, and reports the fate of what it sent (each frame written is described by a
// SentStreamFrame, which comes back through on_acked or on_lost). Things the application should
// hear about come out of poll_event().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <variant>
#include <vector>

#include "common/deque.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "stream/flow_control.hpp"
#include "stream/stream_id.hpp"
#include "stream/stream_id_set.hpp"
#include "stream/stream_scheduler.hpp"
#include "stream/stream_table.hpp"
#include "wire/buffer.hpp"
#include "wire/frame.hpp"

namespace srudp::stream {

struct StreamEvent {
  enum class Kind {
    opened,     // the peer opened the stream
    readable,   // bytes (or the end) to read
    writable,   // room in the send buffer again, after a short write
    reset,      // the peer reset its sending half (application_error)
    stopped,    // the peer sent STOP_SENDING (application_error); our sending half was reset
    available,  // the peer raised MAX_STREAMS after open() was refused
  };
  Kind kind;
  std::uint64_t stream_id = 0;
  std::uint64_t application_error = 0;
};

// What a sent packet carried for the streams.
struct StreamDataSent {
  std::uint64_t stream_id;
  std::uint64_t offset;
  std::uint64_t length;
  bool fin;
};
struct MaxDataSent {};
struct MaxStreamDataSent {
  std::uint64_t stream_id;
};
struct MaxStreamsSent {
  StreamDirection direction;
};
struct ResetStreamSent {
  std::uint64_t stream_id;
};
struct StopSendingSent {
  std::uint64_t stream_id;
};
using SentStreamFrame =
    std::variant<StreamDataSent, MaxDataSent, MaxStreamDataSent, MaxStreamsSent, ResetStreamSent, StopSendingSent>;

class ConnectionStreams {
 public:
  struct Config {
    std::size_t send_capacity = 1 << 20;              // per stream
    std::uint64_t stream_receive_window = 1 << 20;    // per stream, initial
    std::uint64_t connection_receive_window = 8 << 20;
    std::uint64_t max_receive_window = 16 << 20;      // auto-tuning stops here
    std::uint64_t max_bidi_streams = 100;             // the peer's open at once
    std::uint64_t max_uni_streams = 100;
  };
  struct PeerLimits {
    StreamTable::PeerLimits streams;
    std::uint64_t max_data = 0;
  };

  explicit ConnectionStreams(const Config& config);

  // When the handshake completes: our role in stream ids, and the limits the peer announced.
  void start(Role role, const PeerLimits& peer);
  bool started() const { return started_; }
  // The connection is over: everything is dropped.
  void clear();

  // ---- frames from the peer (an error means the peer violated the protocol) ------------------
  std::error_code on_stream(const wire::Stream& frame, Instant now, Duration srtt);
  std::error_code on_reset_stream(const wire::ResetStream& frame, Instant now, Duration srtt);
  std::error_code on_stop_sending(const wire::StopSending& frame);
  void on_max_data(const wire::MaxData& frame);
  std::error_code on_max_stream_data(const wire::MaxStreamData& frame);
  void on_max_streams(const wire::MaxStreams& frame);

  // ---- frames to the peer ----------------------------------------------------------------------
  // Some control frame is due (drops the streams found owing nothing any more).
  bool has_control_frames();
  // Some stream has data (or a FIN) it may send now. Drops scheduled streams found empty or
  // blocked (more credit schedules them again).
  bool has_data();
  // MAX_DATA, MAX_STREAMS, then per stream RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA, as many as
  // fit. Each one written is appended to `sent`; returns whether any was.
  bool write_control_frames(wire::Writer& w, std::vector<SentStreamFrame>& sent);
  // STREAM frames while there is room: the most urgent streams first, equal urgencies in turn, one
  // frame each. Returns whether any was written.
  bool write_stream_frames(wire::Writer& w, std::vector<SentStreamFrame>& sent);
  // The frames one ACK acknowledged, in the order they were sent. Consecutive data of one stream
  // (a bulk transfer's packets) is taken as one range: one lookup and one send-buffer update.
  void on_acked(std::span<const SentStreamFrame> frames);
  void on_lost(const SentStreamFrame& frame);
  // Sends this data again (a PTO probe repeats the oldest data, so that it repairs a lost tail).
  void resend(const StreamDataSent& data);
  // After acknowledgements freed send buffers, or packets took unsent data: writable events for
  // writers that were short (SendBuffer::writer_may_resume).
  void signal_writable();

  // ---- the application -------------------------------------------------------------------------
  // Errors common to the calls: invalid_state when this side has no such half (writing a stream
  // the peer opened unidirectional, reading one we opened so); unknown_stream for a stream never
  // opened. See transport::Connection for each call's contract.
  Result<std::uint64_t> open(StreamDirection direction);
  Result<std::size_t> write(std::uint64_t id, std::span<const std::uint8_t> data);
  std::error_code finish(std::uint64_t id);
  std::error_code reset(std::uint64_t id, std::uint64_t application_error);
  std::error_code stop_sending(std::uint64_t id, std::uint64_t application_error, Instant now, Duration srtt);
  std::error_code set_urgency(std::uint64_t id, std::uint8_t urgency);
  Result<std::size_t> read(std::uint64_t id, std::span<std::uint8_t> out, Instant now, Duration srtt);
  bool at_end(std::uint64_t id) const;

  std::optional<StreamEvent> poll_event();

  // ---- introspection ---------------------------------------------------------------------------
  std::size_t open_streams() const { return table_.size(); }
  // Some stream holds written data (or a FIN) the peer has not acknowledged. O(streams).
  bool has_unacknowledged_data() const;
  std::uint64_t allocated_bytes() const;           // stream send and receive buffers
  std::uint64_t largest_receive_window() const;    // per stream, after auto-tuning
  std::uint64_t bytes_retransmitted() const { return bytes_retransmitted_; }
  const ConnectionFlowControl& flow() const { return flow_; }
  const StreamTable& table() const { return table_; }

 private:
  void push(StreamEvent::Kind kind, std::uint64_t id, std::uint64_t application_error = 0) {
    events_.push_back(StreamEvent{kind, id, application_error});
  }
  Result<StreamState*> for_peer_frame(std::uint64_t id, StreamTable::PeerRole role);
  // The stream for an application call. Errors: invalid_state for the wrong direction,
  // unknown_stream for an id never opened, `retired` for one already retired (nullopt: nullptr).
  Result<StreamState*> for_application(std::uint64_t id, bool sending, std::optional<errc> retired);
  void schedule(const StreamState& s);
  void after_send_reset(const StreamState& s);
  void frames_due_for(const StreamState& s);
  void maybe_retire(std::uint64_t id);
  void on_data_acked(const StreamDataSent& data);

  Config config_;
  Role role_ = Role::client;
  bool started_ = false;
  StreamTable table_;
  ConnectionFlowControl flow_;
  StreamScheduler scheduler_;             // streams that may have data to send
  StreamIdSet frames_due_;      // streams owing RESET_STREAM, STOP_SENDING or MAX_STREAM_DATA
  StreamIdSet blocked_writers_;  // a write came up short: a writable event is owed
  std::vector<std::uint64_t> opened_;     // scratch: streams a peer's frame opened
  Deque<StreamEvent> events_;
  std::uint64_t bytes_retransmitted_ = 0;
};

}  // namespace srudp::stream
