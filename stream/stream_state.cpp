#include "stream/stream_state.hpp"

#include <algorithm>

namespace srudp::stream {

StreamState::StreamState(std::uint64_t id, const Config& config)
    : id_(id), max_receive_window_(config.max_receive_window), peer_max_stream_data_(config.peer_max_stream_data) {
  if (config.sends) {
    send_.emplace(config.send_capacity);
    send_->limit_unsent(config.send_unsent_limit);
  }
  if (config.receives) {
    // Advertises the limit the peer already knows; grows to the tuned window with the first update.
    receive_.emplace(config.receive_window);
    receive_->set_window(config.tuned_window);
  }
}

// ---- send half ----------------------------------------------------------------------------------

Result<std::size_t> StreamState::write(std::span<const std::uint8_t> data) {
  if (!send_) return errc::invalid_state;
  if (send_->is_reset()) return errc::stream_stopped;
  if (send_->is_finished()) return errc::invalid_state;
  return send_->write(data);
}

std::error_code StreamState::finish() {
  if (!send_) return errc::invalid_state;
  if (send_->is_reset()) return errc::stream_stopped;
  send_->finish();
  return {};
}

bool StreamState::on_max_stream_data(std::uint64_t limit) {
  if (limit <= peer_max_stream_data_) return false;
  peer_max_stream_data_ = limit;
  return true;
}

std::uint64_t StreamState::send_limit(std::uint64_t connection_credit) const {
  if (!send_) return 0;
  const std::uint64_t sent = send_->sent_offset();
  return std::min(peer_max_stream_data_, sent + std::min(connection_credit, wire::kMaxStreamOffset - sent));
}

bool StreamState::has_pending(std::uint64_t connection_credit) const {
  return send_ && send_->has_pending(send_limit(connection_credit));
}

bool StreamState::reset_sending(std::uint64_t error_code) {
  if (!send_ || send_->is_reset() || send_->all_acked()) return false;
  reset_final_size_ = send_->reset();
  reset_error_ = error_code;
  reset_due_ = true;
  return true;
}

std::optional<wire::ResetStream> StreamState::reset_frame() const {
  if (!reset_due_) return std::nullopt;
  return wire::ResetStream{id_, reset_error_, reset_final_size_};
}

void StreamState::on_reset_sent() { reset_due_ = false; }

void StreamState::on_reset_lost() {
  if (!reset_acked_) reset_due_ = true;
}

void StreamState::on_reset_acked() {
  reset_acked_ = true;
  reset_due_ = false;
}

// ---- receive half -------------------------------------------------------------------------------

std::error_code StreamState::on_data(const wire::Stream& frame, ConnectionFlowControl& flow, Instant now,
                                     Duration srtt) {
  if (!receive_) return errc::protocol_violation;
  const std::uint64_t before = receive_->highest_received();
  const std::uint64_t end = frame.offset + frame.data.size();  // frame decoding bounds it by 2^62
  if (end > before && !flow.may_receive(end - before)) return errc::flow_control_error;
  if (auto ec = receive_->insert(frame.offset, frame.data, frame.fin)) return ec;
  const std::uint64_t added = receive_->highest_received() - before;
  flow.on_received(added);
  // Data for a stream we stopped is dropped at once: its credit goes straight back.
  if (receive_->is_stopped()) flow.on_consumed(added, now, srtt);
  return {};
}

Result<bool> StreamState::on_reset(std::uint64_t error_code, std::uint64_t final_size, ConnectionFlowControl& flow,
                                   Instant now, Duration srtt) {
  if (!receive_) return errc::protocol_violation;
  (void)error_code;  // reported by the connection in its event
  const std::uint64_t before = receive_->highest_received();
  if (receive_->is_reset() || receive_->is_finished()) {
    // Nothing left to discard; a different final size is still an error.
    if (receive_->final_size() && *receive_->final_size() != final_size) return errc::final_size_error;
    return false;
  }
  if (final_size > before && !flow.may_receive(final_size - before)) return errc::flow_control_error;
  const std::uint64_t unread = receive_->is_stopped() ? 0 : before - receive_->read_offset();
  if (auto ec = receive_->on_reset(final_size)) return ec;
  const std::uint64_t added = receive_->highest_received() - before;
  flow.on_received(added);
  flow.on_consumed(unread + added, now, srtt);
  max_stream_data_due_ = false;
  stop_due_ = false;
  return true;
}

Result<std::size_t> StreamState::read(std::span<std::uint8_t> out, ConnectionFlowControl& flow, Instant now,
                                      Duration srtt) {
  if (!receive_) return errc::invalid_state;
  if (receive_->is_reset()) {
    reset_reported_ = true;
    return errc::stream_reset;
  }
  if (receive_->is_stopped()) return errc::stream_stopped;
  const std::size_t n = receive_->read(out);
  if (receive_->readable() == 0) readable_signalled = false;
  flow.on_consumed(n, now, srtt);
  if (receive_->take_window_update()) {
    const std::uint64_t window = tuner_.next_window(receive_->window(), max_receive_window_, now, srtt);
    if (window > receive_->window()) {
      receive_->set_window(window);
      (void)receive_->take_window_update();  // advertise the grown window at once
    }
    max_stream_data_due_ = true;
  }
  return n;
}

std::error_code StreamState::stop_receiving(std::uint64_t error_code, ConnectionFlowControl& flow, Instant now,
                                            Duration srtt) {
  if (!receive_) return errc::invalid_state;
  if (receive_->is_stopped() || receive_->is_reset() || receive_->is_finished()) return {};
  const std::uint64_t unread = receive_->highest_received() - receive_->read_offset();
  receive_->stop();
  flow.on_consumed(unread, now, srtt);
  readable_signalled = false;
  max_stream_data_due_ = false;
  if (!receive_->final_size()) {  // otherwise the peer has nothing more to send
    stop_error_ = error_code;
    stop_due_ = true;
  }
  return {};
}

std::optional<wire::StopSending> StreamState::stop_frame() const {
  if (!stop_due_) return std::nullopt;
  return wire::StopSending{id_, stop_error_};
}

void StreamState::on_stop_lost() {
  // Not needed any more once the peer's reset (or FIN) told us where the stream ends.
  if (receive_ && receive_->is_stopped() && !receive_->final_size()) stop_due_ = true;
}

std::optional<wire::MaxStreamData> StreamState::max_stream_data_frame() const {
  if (!max_stream_data_due_ || !receive_) return std::nullopt;
  return wire::MaxStreamData{id_, receive_->max_stream_data()};
}

void StreamState::on_max_stream_data_lost() {
  if (receive_ && !receive_->final_size() && !receive_->is_stopped()) max_stream_data_due_ = true;
}

// ---- lifecycle ----------------------------------------------------------------------------------

bool StreamState::is_done() const {
  const bool sending_done = !send_ || send_->all_acked() || (send_->is_reset() && reset_acked_);
  if (!sending_done) return false;
  if (!receive_) return true;
  if (receive_->is_finished()) return true;
  if (receive_->is_reset()) return reset_reported_ || receive_->is_stopped();
  return receive_->is_stopped() && receive_->final_size().has_value();
}

std::size_t StreamState::allocated_bytes() const {
  return (send_ ? send_->allocated_bytes() : 0) + (receive_ ? receive_->allocated_bytes() : 0);
}

}  // namespace srudp::stream
