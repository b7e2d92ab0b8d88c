#include "stream/connection_streams.hpp"

#include <algorithm>

#include "wire/varint.hpp"

namespace srudp::stream {

namespace {

constexpr std::size_t kMinStreamFrameData = 32;  // not worth a STREAM frame below this
constexpr std::size_t kMaxStreamFrameData = 16383;  // a 2-byte length

StreamTable::Config table_config(const ConnectionStreams::Config& c, Role role) {
  StreamTable::Config t;
  t.role = role;
  t.send_capacity = c.send_capacity;
  t.receive_window = c.stream_receive_window;
  t.max_receive_window = c.max_receive_window;
  t.max_bidi_streams = c.max_bidi_streams;
  t.max_uni_streams = c.max_uni_streams;
  return t;
}

// Writes `frame` when it fits whole.
template <wire::FrameAlternative T>
bool put(wire::Writer& w, const T& frame) {
  return wire::encoded_size(frame) <= w.remaining() && !wire::encode_frame(frame, w);
}

}  // namespace

ConnectionStreams::ConnectionStreams(const Config& config)
    : config_(config),
      table_(table_config(config, Role::client)),
      flow_(config.connection_receive_window, config.max_receive_window) {}

void ConnectionStreams::start(Role role, const PeerLimits& peer) {
  role_ = role;
  table_ = StreamTable(table_config(config_, role));
  table_.set_peer_limits(peer.streams);
  flow_.set_send_limit(peer.max_data);
  started_ = true;
}

void ConnectionStreams::clear() {
  table_.clear();
  scheduler_.clear();
  frames_due_.clear();
  blocked_writers_.clear();
  events_.clear();
}

// ---- frames from the peer -----------------------------------------------------------------------

Result<StreamState*> ConnectionStreams::for_peer_frame(std::uint64_t id, StreamTable::PeerRole role) {
  opened_.clear();
  auto s = table_.for_peer_frame(id, role, opened_);
  for (std::uint64_t opened : opened_) push(StreamEvent::Kind::opened, opened);
  return s;
}

std::error_code ConnectionStreams::on_stream(const wire::Stream& frame, Instant now, Duration srtt) {
  auto s = for_peer_frame(frame.stream_id, StreamTable::PeerRole::sender);
  if (!s) return s.error();
  StreamState* st = *s;
  if (!st) return {};  // a stream already retired: a late retransmission
  if (auto ec = st->on_data(frame, flow_, now, srtt)) return ec;
  if ((st->readable() > 0 || st->at_end()) && !st->readable_signalled) {
    st->readable_signalled = true;
    push(StreamEvent::Kind::readable, frame.stream_id);
  }
  maybe_retire(frame.stream_id);  // a stream we stopped reading is done once its end is known
  return {};
}

std::error_code ConnectionStreams::on_reset_stream(const wire::ResetStream& frame, Instant now, Duration srtt) {
  auto s = for_peer_frame(frame.stream_id, StreamTable::PeerRole::sender);
  if (!s) return s.error();
  if (!*s) return {};
  auto reset = (*s)->on_reset(frame.error_code, frame.final_size, flow_, now, srtt);
  if (!reset) return reset.error();
  if (*reset) push(StreamEvent::Kind::reset, frame.stream_id, frame.error_code);
  maybe_retire(frame.stream_id);
  return {};
}

std::error_code ConnectionStreams::on_stop_sending(const wire::StopSending& frame) {
  auto s = for_peer_frame(frame.stream_id, StreamTable::PeerRole::receiver);
  if (!s) return s.error();
  if (*s && (*s)->on_stop_sending(frame.error_code)) {
    after_send_reset(**s);
    push(StreamEvent::Kind::stopped, frame.stream_id, frame.error_code);
  }
  return {};
}

void ConnectionStreams::on_max_data(const wire::MaxData& frame) {
  if (!flow_.on_max_data(frame.max)) return;
  for (const auto& [id, s] : table_.streams()) schedule(s);  // credit for the streams it blocked
}

std::error_code ConnectionStreams::on_max_stream_data(const wire::MaxStreamData& frame) {
  auto s = for_peer_frame(frame.stream_id, StreamTable::PeerRole::receiver);
  if (!s) return s.error();
  if (*s && (*s)->on_max_stream_data(frame.max)) schedule(**s);
  return {};
}

void ConnectionStreams::on_max_streams(const wire::MaxStreams& frame) {
  const auto direction = frame.bidirectional ? StreamDirection::bidirectional : StreamDirection::unidirectional;
  if (table_.on_max_streams(direction, frame.max)) push(StreamEvent::Kind::available, 0);
}

// ---- frames to the peer -------------------------------------------------------------------------

bool ConnectionStreams::has_control_frames() {
  if (flow_.update_due() || table_.max_streams_due(StreamDirection::bidirectional) ||
      table_.max_streams_due(StreamDirection::unidirectional)) {
    return true;
  }
  for (auto it = frames_due_.begin(); it != frames_due_.end();) {
    const StreamState* s = table_.find(*it);
    if (s && s->has_frames_due()) return true;
    it = frames_due_.erase(it);  // retired, or no longer needed (e.g. the peer reset the stream)
  }
  return false;
}

bool ConnectionStreams::has_data() {
  while (auto id = scheduler_.front()) {
    const StreamState* s = table_.find(*id);
    if (s && s->has_pending(flow_.send_credit())) return true;
    scheduler_.remove(*id);
  }
  return false;
}

bool ConnectionStreams::write_control_frames(wire::Writer& w, std::vector<SentStreamFrame>& sent) {
  const std::size_t before = sent.size();
  if (flow_.update_due() && put(w, wire::MaxData{flow_.max_data()})) {
    flow_.on_update_sent();
    sent.emplace_back(MaxDataSent{});
  }
  for (auto direction : {StreamDirection::bidirectional, StreamDirection::unidirectional}) {
    const std::uint64_t max = std::min(table_.local_max_streams(direction), wire::kMaxStreamCount);
    if (table_.max_streams_due(direction) && put(w, wire::MaxStreams{direction == StreamDirection::bidirectional, max})) {
      table_.on_max_streams_sent(direction);
      sent.emplace_back(MaxStreamsSent{direction});
    }
  }
  for (auto it = frames_due_.begin(); it != frames_due_.end();) {
    StreamState* s = table_.find(*it);
    if (!s) {
      it = frames_due_.erase(it);
      continue;
    }
    if (auto f = s->reset_frame(); f && put(w, *f)) {
      s->on_reset_sent();
      sent.emplace_back(ResetStreamSent{*it});
    }
    if (auto f = s->stop_frame(); f && put(w, *f)) {
      s->on_stop_sent();
      sent.emplace_back(StopSendingSent{*it});
    }
    if (auto f = s->max_stream_data_frame(); f && put(w, *f)) {
      s->on_max_stream_data_sent();
      sent.emplace_back(MaxStreamDataSent{*it});
    }
    if (s->has_frames_due()) break;  // the packet is full
    it = frames_due_.erase(it);
  }
  return sent.size() > before;
}

bool ConnectionStreams::write_stream_frames(wire::Writer& w, std::vector<SentStreamFrame>& sent) {
  bool wrote = false;
  while (w.remaining() > 0) {
    const auto id = scheduler_.front();
    if (!id) break;
    StreamState* s = table_.find(*id);
    if (!s || !s->has_pending(flow_.send_credit())) {
      scheduler_.remove(*id);  // empty, or blocked until more credit schedules it again
      continue;
    }
    SendBuffer& send = s->send_buffer();
    const std::uint64_t limit = s->send_limit(flow_.send_credit());
    const std::size_t overhead = 1 + wire::varint::encoded_size(*id) + wire::varint::encoded_size(send.sent_offset()) + 2;
    if (w.remaining() < overhead + 1) break;
    const std::size_t room = std::min(w.remaining() - overhead, kMaxStreamFrameData);
    if (room < kMinStreamFrameData && send.unsent_bytes() + send.lost_bytes() > room) break;
    const std::uint64_t sent_before = send.sent_offset();
    const std::uint64_t unsent_before = send.unsent_bytes();
    auto chunk = send.next_chunk(room, limit);
    if (!chunk) {
      scheduler_.remove(*id);
      continue;
    }
    wire::Stream frame;
    frame.stream_id = *id;
    frame.offset = chunk->offset;
    frame.data = chunk->data;
    frame.fin = chunk->fin;
    if (wire::encode_frame(frame, w)) {
      // Cannot happen (room was reserved); give the bytes back as lost to stay consistent.
      send.on_lost(chunk->offset, chunk->data.size(), chunk->fin);
      break;
    }
    flow_.on_sent(send.sent_offset() - sent_before);
    sent.emplace_back(StreamDataSent{*id, chunk->offset, chunk->data.size(), chunk->fin});
    wrote = true;
    // A writer waiting on the unsent limit need not wait for an ACK: this took its data out.
    if (send.reached_resume_mark(unsent_before) && send.writer_may_resume() && blocked_writers_.erase(*id)) {
      push(StreamEvent::Kind::writable, *id);
    }
    if (s->has_pending(flow_.send_credit())) {
      scheduler_.rotate(*id);  // its turn is over
    } else {
      scheduler_.remove(*id);
    }
  }
  return wrote;
}

void ConnectionStreams::on_acked(std::span<const SentStreamFrame> frames) {
  // The run of contiguous data acknowledged so far, applied when something else comes.
  std::optional<StreamDataSent> run;
  const auto apply_run = [&] {
    if (run) on_data_acked(*run);
    run.reset();
  };
  for (const SentStreamFrame& frame : frames) {
    const auto* d = std::get_if<StreamDataSent>(&frame);
    if (d && run && d->stream_id == run->stream_id && !run->fin && d->offset == run->offset + run->length) {
      run->length += d->length;
      run->fin = d->fin;
      continue;
    }
    apply_run();
    if (d) {
      run = *d;
    } else if (const auto* r = std::get_if<ResetStreamSent>(&frame)) {
      if (StreamState* s = table_.find(r->stream_id)) {
        s->on_reset_acked();
        maybe_retire(r->stream_id);
      }
    }
  }
  apply_run();
}

void ConnectionStreams::on_data_acked(const StreamDataSent& data) {
  if (StreamState* s = table_.find(data.stream_id)) {
    s->send_buffer().on_acked(data.offset, data.length, data.fin);
    maybe_retire(data.stream_id);
  }
}

void ConnectionStreams::on_lost(const SentStreamFrame& frame) {
  std::visit(
      [&](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, StreamDataSent>) {
          if (const StreamState* s = table_.find(f.stream_id); s && !s->is_send_reset()) bytes_retransmitted_ += f.length;
          resend(f);
        } else if constexpr (std::is_same_v<T, MaxDataSent>) {
          flow_.on_update_lost();  // re-sent with the current value
        } else if constexpr (std::is_same_v<T, MaxStreamsSent>) {
          table_.on_max_streams_lost(f.direction);
        } else if (StreamState* s = table_.find(f.stream_id)) {  // re-sent with current values if still needed
          if constexpr (std::is_same_v<T, MaxStreamDataSent>) s->on_max_stream_data_lost();
          if constexpr (std::is_same_v<T, ResetStreamSent>) s->on_reset_lost();
          if constexpr (std::is_same_v<T, StopSendingSent>) s->on_stop_lost();
          frames_due_for(*s);
        }
      },
      frame);
}

void ConnectionStreams::resend(const StreamDataSent& data) {
  if (StreamState* s = table_.find(data.stream_id)) {
    s->send_buffer().on_lost(data.offset, data.length, data.fin);
    schedule(*s);
  }
}

void ConnectionStreams::signal_writable() {
  for (auto it = blocked_writers_.begin(); it != blocked_writers_.end();) {
    const StreamState* s = table_.find(*it);
    if (s && !s->writer_may_resume()) {
      ++it;
      continue;
    }
    if (s) push(StreamEvent::Kind::writable, *it);
    it = blocked_writers_.erase(it);
  }
}

// ---- the application ----------------------------------------------------------------------------

Result<StreamState*> ConnectionStreams::for_application(std::uint64_t id, bool sending, std::optional<errc> retired) {
  if (sending ? !can_send(id, role_) : !can_receive(id, role_)) return errc::invalid_state;
  if (StreamState* s = table_.find(id)) return s;
  if (!table_.was_opened(id)) return errc::unknown_stream;
  if (retired) return *retired;
  return nullptr;  // retired, and the caller takes that as no error
}

Result<std::uint64_t> ConnectionStreams::open(StreamDirection direction) {
  if (!started_) return errc::invalid_state;  // the peer's limits are not known yet
  return table_.open(direction);
}

Result<std::size_t> ConnectionStreams::write(std::uint64_t id, std::span<const std::uint8_t> data) {
  auto s = for_application(id, true, errc::stream_stopped);
  if (!s) return s.error();
  auto n = (*s)->write(data);
  if (!n) return n;
  if (*n > 0) schedule(**s);
  if (*n < data.size()) blocked_writers_.insert(id);
  return n;
}

std::error_code ConnectionStreams::finish(std::uint64_t id) {
  auto s = for_application(id, true, errc::stream_stopped);
  if (!s) return s.error();
  if (auto ec = (*s)->finish()) return ec;
  schedule(**s);
  return {};
}

std::error_code ConnectionStreams::reset(std::uint64_t id, std::uint64_t application_error) {
  auto s = for_application(id, true, errc::stream_stopped);
  if (!s) return s.error() == errc::stream_stopped ? std::error_code{} : s.error();  // over already
  if ((*s)->reset_sending(application_error)) after_send_reset(**s);
  return {};
}

std::error_code ConnectionStreams::stop_sending(std::uint64_t id, std::uint64_t application_error, Instant now,
                                                Duration srtt) {
  auto s = for_application(id, false, errc::stream_stopped);
  if (!s) return s.error() == errc::stream_stopped ? std::error_code{} : s.error();  // over already
  if (auto ec = (*s)->stop_receiving(application_error, flow_, now, srtt)) return ec;
  frames_due_for(**s);
  maybe_retire(id);
  return {};
}

std::error_code ConnectionStreams::set_urgency(std::uint64_t id, std::uint8_t urgency) {
  if (urgency > kMaxUrgency) return errc::invalid_argument;
  StreamState* s = table_.find(id);
  if (!s) return errc::invalid_argument;
  s->urgency = urgency;
  scheduler_.set_urgency(id, urgency);
  return {};
}

Result<std::size_t> ConnectionStreams::read(std::uint64_t id, std::span<std::uint8_t> out, Instant now, Duration srtt) {
  auto s = for_application(id, false, std::nullopt);
  if (!s) return s.error();                // unknown_stream for an id never opened
  if (*s == nullptr) return std::size_t{0};  // retired after its end was read: nothing more
  StreamState& stream = **s;
  auto n = stream.read(out, flow_, now, srtt);
  table_.grow_stream_window(stream.receive_window());
  frames_due_for(stream);
  maybe_retire(id);  // `stream` may be gone from here on
  return n;
}

bool ConnectionStreams::has_unacknowledged_data() const {
  const auto& streams = table_.streams();
  return std::any_of(streams.begin(), streams.end(),
                     [](const auto& entry) { return entry.second.has_unacknowledged_data(); });
}

bool ConnectionStreams::at_end(std::uint64_t id) const {
  if (const StreamState* s = table_.find(id)) return s->at_end();
  // A retired stream was read to its end (or reset). Never-opened ones are not at their end.
  return can_receive(id, role_) && table_.was_opened(id);
}

std::optional<StreamEvent> ConnectionStreams::poll_event() {
  if (events_.empty()) return std::nullopt;
  StreamEvent e = events_.front();
  events_.pop_front();
  return e;
}

// ---- bookkeeping --------------------------------------------------------------------------------

void ConnectionStreams::schedule(const StreamState& s) {
  if (s.has_send_half()) scheduler_.schedule(s.id(), s.urgency);
}

// Our sending half was reset: nothing more to send but RESET_STREAM, nobody to wake.
void ConnectionStreams::after_send_reset(const StreamState& s) {
  scheduler_.remove(s.id());
  blocked_writers_.erase(s.id());
  frames_due_.insert(s.id());
}

void ConnectionStreams::frames_due_for(const StreamState& s) {
  if (s.has_frames_due()) frames_due_.insert(s.id());
}

// Forgets a stream both sides are done with; a peer's stream gives the peer a new one.
void ConnectionStreams::maybe_retire(std::uint64_t id) {
  if (!table_.retire_if_done(id)) return;
  scheduler_.remove(id);
  frames_due_.erase(id);
  blocked_writers_.erase(id);
}

std::uint64_t ConnectionStreams::allocated_bytes() const {
  std::uint64_t total = 0;
  for (const auto& [id, s] : table_.streams()) total += s.allocated_bytes();
  return total;
}

std::uint64_t ConnectionStreams::largest_receive_window() const {
  std::uint64_t largest = table_.stream_window();
  for (const auto& [id, s] : table_.streams()) largest = std::max(largest, s.receive_window());
  return largest;
}

}  // namespace srudp::stream
