// transport::Connection: one reliable, encrypted srudp connection, sans-IO.
//
// The handshake runs through crypto::HandshakeDriver (Noise, cookies, simultaneous open); then the
// connection confirms keys with ESTABLISHED in both directions and carries reliable byte streams
// (STREAM frames, retransmitted in new packets until acknowledged) and unreliable datagrams,
// under congestion control (CUBIC or NewReno) with pacing, path MTU discovery, keepalives, an idle
// timeout and a graceful close. What stream frames mean lives in stream/ (ConnectionStreams, over
// StreamTable: ids and limits, StreamState: one stream, ConnectionFlowControl, StreamScheduler:
// who sends next; and the DatagramQueue): this class carries their frames.
//
// Driver call order (the same for a socket and for the simulator):
//   1. handle_datagram(now, from, bytes) for every datagram received;
//   2. while (auto t = poll_transmit(now, buffer)) send buffer[0, t->size) to t->to;
//   3. arm one timer at poll_timeout(); when it fires call handle_timeout(now), then step 2;
//   4. after each of the above, drain poll_event();
//   application calls (stream_write, stream_read, send_datagram, close) are followed by step 2.
// Application calls take no time argument: they use the latest `now` the connection was given.
//
// Transport parameters travel in the handshake payload. connect() fills
// config.handshake.payload itself. On the server, the HandshakeResponder builds the responder's
// message before the Connection exists, so its HandshakeConfig::payload must be set to
// Connection::handshake_payload(config) of the config later passed to accept().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/address.hpp"
#include "common/random.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "crypto/aead.hpp"
#include "crypto/handshake.hpp"
#include "crypto/packet_protection.hpp"
#include "stream/stream_id.hpp"
#include "transport/congestion_controller.hpp"
#include "transport/pmtud.hpp"

namespace srudp::transport {

using StreamDirection = stream::StreamDirection;

struct ConnectionConfig {
  crypto::HandshakeConfig handshake;            // PSK and/or identity keys, pinned peer
  // Data packet AEAD. Empty: negotiated (AES-256-GCM when both sides have hardware AES, else
  // ChaCha20-Poly1305; transport/packet_aead_choice.hpp). Set: only that one (no common one with
  // the peer fails the handshake).
  std::optional<crypto::AeadAlgorithm> aead;
  std::optional<crypto::PacketProtectionLimits> key_limits;  // tests shrink them
  CongestionAlgorithm congestion = kDefaultCongestionAlgorithm;
  PmtudConfig pmtud;                            // base 1200, max 1452 by default
  Duration handshake_timeout = std::chrono::seconds(20);  // handshake + key confirmation
  Duration idle_timeout = std::chrono::seconds(30);
  Duration keepalive_interval = std::chrono::seconds(15);
  // Short (QUIC's default is 25 ms): the peer's PTO includes it, so it bounds how long a lost tail
  // packet waits (at 1% loss: 64-byte round trip p99 27 ms with 25 ms, 3 ms with 2 ms), and a
  // bulk sender at a loss stalls less (CUBIC at 1% loss between namespaces: 39 -> 133 MB/s).
  Duration max_ack_delay = std::chrono::milliseconds(2);
  std::uint64_t stream_receive_window = 1 << 20;      // per stream, initial
  std::uint64_t connection_receive_window = 8 << 20;  // all streams together, initial
  std::uint64_t max_receive_window = 16 << 20;        // auto-tuning never grows a window beyond
  std::size_t stream_send_buffer = 8 << 20;           // per stream: what is in flight, and up to 256 KiB unsent
  std::uint64_t max_streams = 100;                    // bidirectional streams the peer may have open at once
  std::uint64_t max_unidirectional_streams = 100;     // unidirectional ones, counted apart
  // Datagrams are dropped rather than queued under congestion: at most this many wait (the
  // oldest goes first), and one that waited longer than max_datagram_age is dropped, not sent.
  std::size_t max_queued_datagrams = 64;
  Duration max_datagram_age{};  // zero: one smoothed RTT (at least 5 ms)

  // Debugging and fuzzing corpora: shown the plaintext (the frames) of every authenticated, fresh
  // data packet before it is processed. Empty: nothing is shown.
  std::function<void(std::span<const std::uint8_t>)> on_received_plaintext;

  ConnectionConfig clone() const { return *this; }  // an explicit copy (secrets cloned)
};

// Wire error codes carried in CLOSE frames the connection sends on its own.
inline constexpr std::uint64_t kCloseNoError = 0x0;
inline constexpr std::uint64_t kCloseInternalError = 0x1;
inline constexpr std::uint64_t kCloseFlowControlError = 0x3;
inline constexpr std::uint64_t kCloseStreamLimitError = 0x4;
inline constexpr std::uint64_t kCloseProtocolViolation = 0xa;

enum class ConnectionState { handshaking, confirming, established, closing, draining, closed };

struct ConnectionEvent {
  enum class Kind {
    established,      // keys confirmed both ways: streams and datagrams may flow
    stream_opened,    // the peer opened `stream_id`
    stream_readable,  // `stream_id` has bytes (or its end) to read
    stream_writable,  // `stream_id` has room in its send buffer again
    datagram,         // `data` holds an unreliable datagram
    closed,           // the connection is over: `error` says why
    stream_reset,     // the peer reset its sending half of `stream_id` (`application_error`)
    stream_stopped,   // the peer sent STOP_SENDING for `stream_id` (`application_error`): our
                      // sending half was reset in answer (RFC 9000 section 3.5)
    streams_available,  // the peer raised MAX_STREAMS after open_stream was refused: retry
  };
  Kind kind;
  std::uint64_t stream_id = 0;
  std::vector<std::uint8_t> data;
  std::error_code error;
  std::uint64_t application_error = 0;
};

struct Transmit {
  SocketAddress to;
  std::size_t size = 0;
};

struct ConnectionStats {
  Duration smoothed_rtt{}, min_rtt{}, rttvar{};
  std::uint64_t congestion_window = 0, bytes_in_flight = 0;
  std::uint64_t packets_sent = 0, packets_received = 0, packets_lost = 0;
  std::uint64_t packets_spuriously_lost = 0;  // declared lost, acknowledged later (reordering)
  std::uint64_t bytes_sent = 0, bytes_received = 0, stream_bytes_retransmitted = 0;
  std::uint64_t path_mtu = 0;
  std::uint64_t dropped_unauthenticated = 0, dropped_replayed = 0;
  std::uint64_t pto_count = 0, path_migrations = 0;
  std::uint64_t path_validation_failures = 0;  // new paths abandoned (back to the last validated one)
  std::uint64_t congestion_restarts = 0;  // congestion control and RTT started over on a new path
  std::uint64_t packets_outstanding = 0;  // sent, neither acknowledged nor declared lost
  std::uint64_t buffered_bytes = 0;       // memory held by stream send and receive buffers
  std::uint64_t stream_receive_window = 0;  // largest per-stream window now (auto-tuning)
  std::uint64_t ack_ranges = 0;             // received-packet ranges remembered for ACKs
  std::uint64_t open_streams = 0;           // streams held in memory (not yet retired)
  std::uint64_t datagrams_sent = 0, datagrams_dropped = 0;  // dropped: queue full, too old, too big
  std::uint64_t datagrams_queued = 0;       // waiting now
  std::uint64_t datagrams_received_dropped = 0;  // the peer's, dropped: 256 already waited unread
  std::optional<crypto::AeadAlgorithm> aead;      // protecting data packets (once the handshake is done)
  std::uint64_t key_updates = 0;  // key generations moved through since the handshake, by either side
};

class Connection {
 public:
  static Result<Connection> connect(ConnectionConfig config, const SocketAddress& peer, Instant now,
                                    RandomSource& rng);
  // The server side, from a handshake a crypto::HandshakeResponder accepted.
  static Result<Connection> accept(ConnectionConfig config, crypto::Handshake handshake,
                                   const SocketAddress& peer, std::size_t initiation_size, Instant now,
                                   RandomSource& rng);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // The encoded transport parameters announcing `config`'s limits (see the header comment).
  static std::vector<std::uint8_t> handshake_payload(const ConnectionConfig& config);

  void handle_datagram(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram);
  std::optional<Transmit> poll_transmit(Instant now, std::span<std::uint8_t> out);
  std::optional<Instant> poll_timeout() const;
  void handle_timeout(Instant now);
  std::optional<ConnectionEvent> poll_event();

  // Streams: ids encode the initiator (bit 0: 0 client, 1 server) and direction (bit 1: 0
  // bidirectional, 1 unidirectional), as in QUIC (stream/stream_id.hpp). A unidirectional stream
  // is written by its opener and read by the peer. Errors common to the calls below:
  // connection_closed; unknown_stream for a stream never opened by either side (so stream_read's
  // 0 always means "nothing yet", or the end after stream_at_end);
  // invalid_state for the wrong direction (writing a stream the peer opened unidirectional,
  // reading one we opened so).
  //
  // Error stream_limit_reached while the peer's MAX_STREAMS for that kind allows no more open
  // streams (costs nothing); the event streams_available says when to try again.
  Result<std::uint64_t> open_stream(StreamDirection direction = StreamDirection::bidirectional);
  // Copies as much as the send buffer takes; returns the count (0: full, wait for writable).
  // Error stream_stopped after our stream_reset or the peer's STOP_SENDING; invalid_state after
  // stream_finish.
  Result<std::size_t> stream_write(std::uint64_t stream_id, std::span<const std::uint8_t> data);
  std::error_code stream_finish(std::uint64_t stream_id);  // half-close: FIN after written data
  // Abandons our sending half: RESET_STREAM with `application_error`; unsent and unacknowledged
  // data is dropped. Nothing happens when the half is already over.
  std::error_code stream_reset(std::uint64_t stream_id, std::uint64_t application_error);
  // Asks the peer to stop sending (STOP_SENDING with `application_error`); data buffered or
  // arriving later is discarded, and reads fail with stream_stopped.
  std::error_code stream_stop_sending(std::uint64_t stream_id, std::uint64_t application_error);
  // 0 most urgent .. 7 least; default 3. Lower urgencies send first, equal ones take turns.
  std::error_code set_stream_priority(std::uint64_t stream_id, std::uint8_t urgency);
  // Reads in order; returns 0 when nothing is available yet (or the stream ended: see below).
  // After the peer closed the connection gracefully (CLOSE with error 0), what was received can
  // still be read while the connection drains, as after a TCP peer's close().
  // Error stream_reset when the peer reset the stream (its data is discarded, RFC 9000 3.2);
  // stream_stopped after our stream_stop_sending.
  Result<std::size_t> stream_read(std::uint64_t stream_id, std::span<std::uint8_t> out);
  bool stream_at_end(std::uint64_t stream_id) const;        // FIN received and everything read
  // Some stream holds written data (or a FIN) the peer has not acknowledged yet: a graceful close
  // that should deliver it waits for this to become false (see io::ConnectionCore).
  bool has_unacknowledged_stream_data() const;
  // Stream bytes that arrived (up to the highest offset on each stream) and that the application
  // has not read or discarded yet: what the streams' receive buffers commit to holding.
  std::uint64_t unread_stream_bytes() const;

  // An unreliable datagram: never retransmitted, dropped (and counted) when it waited too long
  // or the queue is full. Errors: invalid_state before establishment (or when the peer accepts no
  // datagrams), invalid_argument above max_datagram_payload().
  std::error_code send_datagram(std::span<const std::uint8_t> payload);
  std::size_t max_datagram_payload() const;  // for the current path MTU

  void close(std::uint64_t error_code, std::string_view reason);

  // Sends to `address` from now on: a path the application proved to work both ways (the rdv
  // client's hole punching, or the relay). It counts as validated. From then on the connection no
  // longer follows the peer to the address of its newest packet (the application picks the path;
  // the peer follows us). Packets keep being accepted from any address.
  void set_path(const SocketAddress& address);

  ConnectionState state() const;
  std::error_code error() const;
  bool is_established() const { return state() == ConnectionState::established; }
  const wire::ConnectionId& local_cid() const;
  const SocketAddress& peer_address() const;
  const std::optional<crypto::PublicKey>& peer_identity() const;
  ConnectionStats stats() const;

 private:
  struct State;
  explicit Connection(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace srudp::transport
