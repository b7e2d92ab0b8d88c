#include "stream/stream_table.hpp"

#include <algorithm>

namespace srudp::stream {

namespace {
Role other(Role r) { return r == Role::client ? Role::server : Role::client; }
}  // namespace

StreamTable::StreamTable(const Config& config) : config_(config), tuned_window_(config.receive_window) {
  side(StreamDirection::bidirectional).local_max = config.max_bidi_streams;
  side(StreamDirection::unidirectional).local_max = config.max_uni_streams;
}

void StreamTable::set_peer_limits(const PeerLimits& limits) {
  peer_ = limits;
  side(StreamDirection::bidirectional).peer_max = limits.max_bidi_streams;
  side(StreamDirection::unidirectional).peer_max = limits.max_uni_streams;
  for (auto& [id, s] : streams_) (void)s.on_max_stream_data(initial_peer_limit(id));
}

std::uint64_t StreamTable::initial_peer_limit(std::uint64_t id) const {
  if (!is_local(id, config_.role)) return is_unidirectional(id) ? 0 : peer_.max_stream_data_bidi_local;
  return is_unidirectional(id) ? peer_.max_stream_data_uni : peer_.max_stream_data_bidi_remote;
}

StreamState& StreamTable::add(std::uint64_t id) {
  StreamState::Config c;
  c.sends = can_send(id, config_.role);
  c.receives = can_receive(id, config_.role);
  c.send_capacity = config_.send_capacity;
  c.receive_window = config_.receive_window;
  c.tuned_window = tuned_window_;
  c.max_receive_window = config_.max_receive_window;
  c.peer_max_stream_data = initial_peer_limit(id);
  return streams_.try_emplace(id, id, c).first->second;
}

Result<std::uint64_t> StreamTable::open(StreamDirection direction) {
  Side& s = side(direction);
  if (s.opened >= s.peer_max) {
    s.refused = true;
    return errc::stream_limit_reached;
  }
  const std::uint64_t id = make_stream_id(s.opened, config_.role, direction);
  ++s.opened;
  add(id);
  return id;
}

bool StreamTable::on_max_streams(StreamDirection direction, std::uint64_t max) {
  Side& s = side(direction);
  if (max <= s.peer_max) return false;
  s.peer_max = max;
  const bool was_refused = s.refused;
  s.refused = false;
  return was_refused;
}

Result<StreamState*> StreamTable::for_peer_frame(std::uint64_t id, PeerRole role, std::vector<std::uint64_t>& opened) {
  // The peer's sending frames need a half where we receive, and the other way round.
  const bool allowed = role == PeerRole::sender ? can_receive(id, config_.role) : can_send(id, config_.role);
  if (!allowed) return errc::protocol_violation;
  auto it = streams_.find(id);
  if (it != streams_.end()) return &it->second;
  const std::uint64_t index = stream_index(id);
  Side& s = side(direction_of(id));
  if (is_local(id, config_.role)) {
    if (index >= s.opened) return errc::protocol_violation;  // never opened
    return static_cast<StreamState*>(nullptr);
  }
  if (index < s.peer_opened) return static_cast<StreamState*>(nullptr);
  if (index >= s.local_max) return errc::protocol_violation;  // beyond the stream limit
  StreamState* last = nullptr;
  // Bounded by the limit: at most max_*_streams new streams at once.
  for (std::uint64_t i = s.peer_opened; i <= index; ++i) {
    const std::uint64_t sid = make_stream_id(i, other(config_.role), direction_of(id));
    last = &add(sid);
    opened.push_back(sid);
  }
  s.peer_opened = index + 1;
  return last;
}

StreamState* StreamTable::find(std::uint64_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

const StreamState* StreamTable::find(std::uint64_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

bool StreamTable::retire_if_done(std::uint64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second.is_done()) return false;
  streams_.erase(it);
  if (!is_local(id, config_.role)) {
    Side& s = side(direction_of(id));
    ++s.local_max;
    s.max_due = true;
  }
  return true;
}

bool StreamTable::was_opened(std::uint64_t id) const {
  const Side& s = side(direction_of(id));
  return stream_index(id) < (is_local(id, config_.role) ? s.opened : s.peer_opened);
}

void StreamTable::grow_stream_window(std::uint64_t window) { tuned_window_ = std::max(tuned_window_, window); }

}  // namespace srudp::stream
