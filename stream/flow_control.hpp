// Flow control above the single stream: the connection-wide limit (MAX_DATA) in both directions,
// and the receive-window auto-tuning rule the connection and every stream share.
//
// Receive side: the peer may send new stream bytes (counted by the highest offset of each stream,
// RFC 9000 section 4.1) up to the limit we advertised. When the application has consumed half a
// window since the last update, a MAX_DATA update is due. Consumed means read, or discarded (a
// reset stream, a stream we asked to stop), so discarded bytes give their credit back.
#pragma once

#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace srudp::stream {

// Auto-tuning (as in quinn and Chromium): when a window update is due again within two smoothed
// RTTs of the previous one, the window, not the reader, limits throughput: double it.
class WindowTuner {
 public:
  // The window to use for the update being sent at `now` (the same, or doubled up to `max_window`).
  std::uint64_t next_window(std::uint64_t window, std::uint64_t max_window, Instant now, Duration smoothed_rtt);

 private:
  std::optional<Instant> last_update_;
};

class ConnectionFlowControl {
 public:
  // `receive_window`: the first limit we advertise, grown by auto-tuning up to `max_receive_window`.
  ConnectionFlowControl(std::uint64_t receive_window, std::uint64_t max_receive_window);

  // --- Sending: new stream bytes (retransmissions do not count) the peer lets us send.
  void set_send_limit(std::uint64_t limit) { send_limit_ = limit; }  // the peer's initial_max_data
  // A MAX_DATA frame; returns whether it raised the limit.
  bool on_max_data(std::uint64_t limit);
  std::uint64_t send_credit() const { return send_limit_ > sent_ ? send_limit_ - sent_ : 0; }
  void on_sent(std::uint64_t new_bytes) { sent_ += new_bytes; }
  std::uint64_t sent() const { return sent_; }

  // --- Receiving
  // Whether `new_bytes` beyond the highest offsets so far stay within the advertised limit.
  bool may_receive(std::uint64_t new_bytes) const { return new_bytes <= advertised_ - received_; }
  void on_received(std::uint64_t new_bytes) { received_ += new_bytes; }
  // The application consumed (read or discarded) `bytes`; may make a MAX_DATA update due.
  void on_consumed(std::uint64_t bytes, Instant now, Duration smoothed_rtt);
  std::uint64_t received() const { return received_; }
  std::uint64_t consumed() const { return consumed_; }

  // The limit advertised (or to advertise, when an update is due).
  std::uint64_t max_data() const { return advertised_; }
  std::uint64_t window() const { return window_; }
  bool update_due() const { return update_due_; }
  void on_update_sent() { update_due_ = false; }
  void on_update_lost() { update_due_ = true; }  // resent with the current value

 private:
  std::uint64_t send_limit_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t window_;
  std::uint64_t max_window_;
  std::uint64_t advertised_;
  std::uint64_t received_ = 0;
  std::uint64_t consumed_ = 0;
  bool update_due_ = false;
  WindowTuner tuner_;
};

}  // namespace srudp::stream
