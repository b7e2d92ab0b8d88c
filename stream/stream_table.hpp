// A connection's streams: the live StreamStates by id, the stream ids each side has used, and the
// stream limits (MAX_STREAMS) in both directions, separately for bidirectional and
// unidirectional streams.
//
// MAX_STREAMS limits how many streams of a kind the peer may have open at once: when one of the
// peer's streams is done (both halves over, everything read), the stream is retired (its memory
// freed) and the limit moves up by one, announced in a new MAX_STREAMS frame. Opening beyond the
// peer's limit is refused at no cost (errc::stream_limit_reached); the peer's later MAX_STREAMS
// says when to try again (on_max_streams returns true).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "common/result.hpp"
#include "stream/stream_id.hpp"
#include "stream/stream_state.hpp"

namespace srudp::stream {

class StreamTable {
 public:
  struct Config {
    Role role = Role::client;
    std::size_t send_capacity = 1 << 20;       // per stream
    std::uint64_t receive_window = 1 << 20;    // per stream, as announced to the peer
    std::uint64_t max_receive_window = 16 << 20;
    std::uint64_t max_bidi_streams = 100;      // the peer's streams open at once, per kind
    std::uint64_t max_uni_streams = 100;
  };
  // What the peer announced in its transport parameters.
  struct PeerLimits {
    std::uint64_t max_stream_data_bidi_local = 0;   // on streams it opens
    std::uint64_t max_stream_data_bidi_remote = 0;  // on streams we open
    std::uint64_t max_stream_data_uni = 0;          // on unidirectional streams we open
    std::uint64_t max_bidi_streams = 0;
    std::uint64_t max_uni_streams = 0;
  };
  // Which way a peer's frame uses a stream: STREAM and RESET_STREAM come from its sender,
  // STOP_SENDING and MAX_STREAM_DATA from its receiver.
  enum class PeerRole { sender, receiver };

  explicit StreamTable(const Config& config);

  void set_peer_limits(const PeerLimits& limits);

  // Opens one of our streams. Error stream_limit_reached while the peer's limit is reached.
  Result<std::uint64_t> open(StreamDirection direction);
  // The peer's MAX_STREAMS. Returns true when it raised a limit that refused an open() since
  // the last raise (time to tell the application: streams available).
  bool on_max_streams(StreamDirection direction, std::uint64_t max);

  // The stream a peer's frame names, opening the peer's streams implicitly up to it (lower ids
  // first, as in QUIC; their ids are appended to `opened`). nullptr: a stream already retired.
  // Error protocol_violation: one of our streams never opened, a half the stream does not have
  // (e.g. STREAM on our unidirectional stream), or beyond the limit we announced.
  Result<StreamState*> for_peer_frame(std::uint64_t id, PeerRole role, std::vector<std::uint64_t>& opened);

  StreamState* find(std::uint64_t id);
  const StreamState* find(std::uint64_t id) const;
  // Retires the stream when it is done (StreamState::is_done); a peer's stream returns its slot.
  bool retire_if_done(std::uint64_t id);
  // The stream was opened at some point (it may be retired since).
  bool was_opened(std::uint64_t id) const;

  // MAX_STREAMS we owe the peer, per kind.
  bool max_streams_due(StreamDirection direction) const { return side(direction).max_due; }
  std::uint64_t local_max_streams(StreamDirection direction) const { return side(direction).local_max; }
  void on_max_streams_sent(StreamDirection direction) { side(direction).max_due = false; }
  void on_max_streams_lost(StreamDirection direction) { side(direction).max_due = true; }  // resent, current value

  // The window new streams start with (auto-tuning raises it).
  void grow_stream_window(std::uint64_t window);
  std::uint64_t stream_window() const { return tuned_window_; }

  std::map<std::uint64_t, StreamState>& streams() { return streams_; }
  const std::map<std::uint64_t, StreamState>& streams() const { return streams_; }
  std::size_t size() const { return streams_.size(); }
  void clear() { streams_.clear(); }

 private:
  struct Side {
    std::uint64_t opened = 0;       // our streams of this kind opened so far
    std::uint64_t peer_max = 0;     // how many the peer lets us open (cumulative)
    bool refused = false;           // open() failed since the last raise
    std::uint64_t peer_opened = 0;  // the peer's streams of this kind opened so far
    std::uint64_t local_max = 0;    // how many we let the peer open (cumulative, announced)
    bool max_due = false;
  };
  Side& side(StreamDirection d) { return sides_[d == StreamDirection::bidirectional ? 0 : 1]; }
  const Side& side(StreamDirection d) const { return sides_[d == StreamDirection::bidirectional ? 0 : 1]; }
  StreamState& add(std::uint64_t id);
  std::uint64_t initial_peer_limit(std::uint64_t id) const;

  Config config_;
  PeerLimits peer_;
  std::array<Side, 2> sides_{};
  std::uint64_t tuned_window_;
  std::map<std::uint64_t, StreamState> streams_;
};

}  // namespace srudp::stream
