#include "transport/connection.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <variant>

#include "crypto/handshake_driver.hpp"
#include "crypto/replay_window.hpp"
#include "stream/receive_buffer.hpp"
#include "stream/send_buffer.hpp"
#include "transport/loss_detection.hpp"
#include "transport/pacer.hpp"
#include "transport/received_packets.hpp"
#include "transport/rtt_estimator.hpp"
#include "wire/buffer.hpp"
#include "wire/frame.hpp"
#include "wire/packet.hpp"
#include "wire/transport_params.hpp"
#include "wire/varint.hpp"

namespace srudp::transport {
namespace {

constexpr std::size_t kAeadTag = wire::kAeadTagSize;
constexpr std::size_t kMaxHeader = wire::data_header_size(8);
constexpr std::size_t kAckRangesPerPacket = 32;      // newest ranges reported in one ACK frame
constexpr std::size_t kMaxPendingPathResponses = 4;  // answers to PATH_CHALLENGEs not yet sent
constexpr int kCloseResends = 3;                     // CLOSE repeated in answer to late packets
constexpr int kPathChallengeAttempts = 3;
constexpr std::size_t kMinStreamFrameData = 32;  // not worth a STREAM frame below this
constexpr std::uint64_t kMaxAmplification = 3;
constexpr std::uint64_t kMinSendBudget = 64;  // amplification budget below which we stay silent

// What a sent packet carried that must be repaired if it is lost (or confirmed when acked).
struct StreamChunkSent {
  std::uint64_t stream_id;
  std::uint64_t offset;
  std::uint64_t length;
  bool fin;
};
struct EstablishedSent {};
struct MaxDataSent {};
struct MaxStreamDataSent {
  std::uint64_t stream_id;
};
struct MaxStreamsSent {};
using SentFrame = std::variant<StreamChunkSent, EstablishedSent, MaxDataSent, MaxStreamDataSent, MaxStreamsSent>;

bool is_client_stream(std::uint64_t id) { return (id & 1) == 0; }
bool is_unidirectional(std::uint64_t id) { return (id & 2) != 0; }

Duration millis(std::uint64_t ms) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(ms, 1ull << 40)));
}
std::uint64_t to_millis(Duration d) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

}  // namespace


struct StreamState {
  StreamState(std::uint64_t stream_id, std::size_t send_capacity, std::uint64_t receive_window,
              std::uint64_t peer_limit)
      : id(stream_id), send(send_capacity), receive(receive_window), peer_max_stream_data(peer_limit) {}

  std::uint64_t id;
  stream::SendBuffer send;
  stream::ReceiveBuffer receive;
  std::uint64_t peer_max_stream_data;  // how far we may send
  bool max_stream_data_due = false;    // send MAX_STREAM_DATA with receive.max_stream_data()
  bool readable_signalled = false;     // a stream_readable event is outstanding
  bool wants_writable = false;         // a write came up short: signal stream_writable later
  std::optional<Instant> last_window_update;
};

struct Connection::State {
  ConnectionConfig config;
  RandomSource* rng = nullptr;
  ConnectionState state = ConnectionState::handshaking;
  std::error_code error;
  Instant started{};
  Instant now{};  // the latest time we were given (application calls use it)

  // Handshake.
  std::optional<crypto::HandshakeDriver> driver;
  bool initiator = true;
  wire::ConnectionId local_cid{};
  wire::ConnectionId peer_cid{};
  std::optional<crypto::PublicKey> peer_identity;
  wire::TransportParameters peer_params;

  // Path and anti-amplification.
  SocketAddress peer;
  bool path_validated = false;
  std::uint64_t path_received = 0;
  std::uint64_t path_sent = 0;
  std::optional<std::array<std::uint8_t, wire::kPathDataSize>> challenge;  // outstanding
  bool challenge_due = false;
  int challenge_attempts = 0;
  Instant challenge_deadline{};
  std::deque<std::array<std::uint8_t, wire::kPathDataSize>> path_responses;

  // Data phase.
  std::optional<crypto::PacketProtection> protection;
  crypto::ReplayWindow replay;
  std::optional<std::uint64_t> largest_received_pn;
  ReceivedPackets received;
  LossDetection loss;
  RttEstimator rtt;
  std::unique_ptr<CongestionController> cc;
  SpuriousCongestionTracker spurious_congestion;  // when to undo a reduction
  Pacer pacer{1200};
  Pmtud pmtud;
  std::unordered_map<std::uint64_t, SentFrame> sent_frames;
  std::uint64_t next_token = 0;
  std::uint32_t probes_due = 0;
  std::optional<Instant> pacing_wakeup;
  bool app_limited = true;

  // Key confirmation.
  bool peer_confirmed = false;
  bool ours_acked = false;
  bool established_due = false;
  Instant established_sent_at{};  // the last ESTABLISHED sent (resent every second until acked)

  // Timers.
  Instant last_received{};
  Instant last_sent{};
  bool ping_due = false;
  Duration idle_timeout{};  // zero: none
  std::optional<Instant> closing_deadline;

  // Closing.
  std::optional<std::pair<std::uint64_t, std::string>> close_frame;  // what CLOSE says
  bool close_due = false;
  int close_resends_left = 0;

  // Streams and flow control.
  std::map<std::uint64_t, StreamState> streams;
  std::uint64_t local_streams_opened = 0;   // streams we opened (count)
  std::uint64_t peer_streams_opened = 0;    // streams the peer opened (count, implicit ones included)
  std::uint64_t peer_max_streams = 0;       // how many we may open
  std::uint64_t local_max_streams = 0;      // how many the peer may open (advertised)
  bool max_streams_due = false;
  std::uint64_t peer_max_data = 0;          // connection credit for sending
  std::uint64_t data_sent = 0;              // new stream bytes sent, all streams
  std::uint64_t local_max_data = 0;         // advertised connection limit
  std::uint64_t connection_window = 0;
  std::uint64_t data_received = 0;          // highest offsets received, summed
  std::uint64_t data_consumed = 0;          // bytes the application read, summed
  bool max_data_due = false;
  std::optional<Instant> last_max_data_update;
  std::uint64_t stream_window = 0;          // the window new streams start with
  std::uint64_t round_robin_after = 0;      // stream id served last

  std::deque<std::vector<std::uint8_t>> datagrams;
  std::deque<ConnectionEvent> events;
  std::vector<std::uint8_t> scratch;  // decrypted payloads
  ConnectionStats stats;

  explicit State(ConnectionConfig c)
      : config(std::move(c)),
        received(ReceivedPacketsConfig{config.max_ack_delay, 2, kMaxAckRanges}),
        pmtud(config.pmtud) {}

  // ---- lifecycle -------------------------------------------------------------------------------
  void push_event(ConnectionEvent::Kind kind, std::uint64_t stream_id = 0, std::vector<std::uint8_t> data = {},
                  std::error_code ec = {}) {
    events.push_back(ConnectionEvent{kind, stream_id, std::move(data), ec});
  }

  bool is_over() const {
    return state == ConnectionState::closing || state == ConnectionState::draining ||
           state == ConnectionState::closed;
  }

  void release_resources() {
    streams.clear();
    datagrams.clear();
    sent_frames.clear();
    driver.reset();
  }

  // Ends the connection without a word to the peer (timeouts, or no keys to say it with).
  void fail_silently(std::error_code ec) {
    if (state == ConnectionState::closed) return;
    const bool announced = is_over();
    state = ConnectionState::closed;
    if (!error) error = ec;
    release_resources();
    if (!announced) push_event(ConnectionEvent::Kind::closed, 0, {}, ec);
  }

  // Ends the connection with a CLOSE to the peer (closing state for 3 PTOs).
  void close_with(std::error_code ec, std::uint64_t wire_code, std::string reason) {
    if (is_over()) return;
    if (!protection) {
      fail_silently(ec);
      return;
    }
    error = ec;
    state = ConnectionState::closing;
    close_frame.emplace(wire_code, std::move(reason));
    close_due = true;
    close_resends_left = kCloseResends;
    closing_deadline = now + 3 * loss.pto_period(rtt);
    streams.clear();
    datagrams.clear();
    sent_frames.clear();
    push_event(ConnectionEvent::Kind::closed, 0, {}, ec);
  }

  void protocol_violation(const char* why) { close_with(errc::protocol_violation, kCloseProtocolViolation, why); }

  // ---- anti-amplification ----------------------------------------------------------------------
  std::uint64_t amplification_budget() const {
    if (path_validated) return UINT64_MAX;
    const std::uint64_t allowed = kMaxAmplification * path_received;
    return allowed > path_sent ? allowed - path_sent : 0;
  }
  void on_path_sent(std::size_t bytes) {
    if (!path_validated) path_sent += bytes;
    stats.bytes_sent += bytes;
    ++stats.packets_sent;
  }

  // ---- handshake -------------------------------------------------------------------------------
  void start_data_phase(Instant t) {
    auto outcome = driver->take_outcome();
    if (!outcome) {
      fail_silently(outcome.error());
      return;
    }
    initiator = outcome->initiator;
    local_cid = outcome->local_cid;
    peer_cid = outcome->peer_cid;
    peer_identity = outcome->peer_identity;
    if (!outcome->peer_payload.empty()) {
      auto params = wire::decode_transport_parameters(outcome->peer_payload);
      if (!params) {
        fail_silently(errc::protocol_violation);
        return;
      }
      peer_params = *params;
    }
    crypto::PacketProtectionConfig pp;
    pp.send_secret = std::move(outcome->send_secret);
    pp.receive_secret = std::move(outcome->receive_secret);
    pp.algorithm = config.aead;
    pp.limits = config.key_limits;
    auto created = crypto::PacketProtection::create(std::move(pp));
    if (!created) {
      fail_silently(created.error());
      return;
    }
    protection.emplace(std::move(*created));

    // Limits the peer announced.
    peer_max_data = peer_params.initial_max_data;
    peer_max_streams = peer_params.initial_max_streams_bidi;
    for (auto& [id, s] : streams) {
      s.peer_max_stream_data = initial_peer_stream_limit(id);
    }
    rtt.set_max_ack_delay(millis(peer_params.max_ack_delay_ms));
    const Duration peer_idle = millis(peer_params.max_idle_timeout_ms);
    if (config.idle_timeout <= Duration::zero()) {
      idle_timeout = peer_params.max_idle_timeout_ms == 0 ? Duration::zero() : peer_idle;
    } else {
      idle_timeout = peer_params.max_idle_timeout_ms == 0 ? config.idle_timeout : std::min(config.idle_timeout, peer_idle);
    }
    PmtudConfig pc = config.pmtud;
    pc.max_plpmtu = static_cast<std::size_t>(
        std::min<std::uint64_t>(pc.max_plpmtu, peer_params.max_udp_payload_size));
    pmtud = Pmtud(pc);
    cc = make_congestion_controller(config.congestion, pmtud.current());
    pacer = Pacer(pmtud.current());

    state = ConnectionState::confirming;
    established_due = true;
    last_received = t;
  }

  // New streams advertise the initial window the peer knows of, and grow to the auto-tuned one
  // with their first update.
  StreamState& add_stream(std::uint64_t id) {
    auto [pos, inserted] = streams.try_emplace(id, id, config.stream_send_buffer, config.stream_receive_window,
                                               initial_peer_stream_limit(id));
    pos->second.receive.set_window(stream_window);
    return pos->second;
  }

  std::uint64_t initial_peer_stream_limit(std::uint64_t id) const {
    // The peer's "local" limit applies to streams it opened, its "remote" one to ours.
    const bool ours = is_client_stream(id) == initiator;
    return ours ? peer_params.initial_max_stream_data_bidi_remote : peer_params.initial_max_stream_data_bidi_local;
  }

  void check_established(Instant t) {
    if (state == ConnectionState::confirming && peer_confirmed) {
      state = ConnectionState::established;
      loss.on_handshake_confirmed(t, rtt);
      if (driver) driver->peer_has_keys();
      driver.reset();
      push_event(ConnectionEvent::Kind::established);
    }
  }

  // ---- receiving -------------------------------------------------------------------------------
  void handle_datagram(Instant t, const SocketAddress& from, std::span<const std::uint8_t> datagram) {
    now = std::max(now, t);
    if (state == ConnectionState::closed || state == ConnectionState::draining) return;
    auto type = wire::peek_packet_type(datagram);
    if (!type) return;
    if (from == peer && !path_validated) path_received += datagram.size();
    if (*type != wire::PacketType::Data) {
      if (!driver || is_over()) return;
      if (auto ec = driver->handle_packet(t, from, datagram)) {
        fail_silently(ec);
        return;
      }
      if (driver->heard_authenticated_reply() && from == peer) path_validated = true;
      if (!protection && driver->is_complete()) start_data_phase(t);
      return;
    }
    on_data_packet(t, from, datagram);
  }

  void on_data_packet(Instant t, const SocketAddress& from, std::span<const std::uint8_t> datagram) {
    auto header = wire::decode_data_header(datagram);
    if (!header || header->receiver_cid != local_cid || !protection) return;
    const std::uint64_t pn =
        wire::decode_packet_number(largest_received_pn, header->truncated_pn, header->pn_length * 8u);
    if (!replay.may_accept(pn) || received.is_duplicate(pn)) {
      ++stats.dropped_replayed;
      return;
    }
    const auto ciphertext = datagram.subspan(header->header_size);
    if (ciphertext.size() > scratch.size() + kAeadTag) return;
    auto opened = protection->open(pn, header->key_phase, datagram.first(header->header_size), ciphertext, scratch);
    if (!opened) {
      ++stats.dropped_unauthenticated;
      if (opened.error() == errc::key_limit_reached) close_with(opened.error(), kCloseInternalError, "key limit");
      return;
    }
    replay.mark(pn);
    const bool newest = !largest_received_pn || pn > *largest_received_pn;
    if (newest) largest_received_pn = pn;
    last_received = t;
    ++stats.packets_received;
    stats.bytes_received += datagram.size();
    if (driver) driver->peer_has_keys();  // stop resending message 3

    if (state == ConnectionState::closing) {
      // Still talking to us: repeat the CLOSE a few times, then let it be.
      if (close_resends_left > 0) {
        --close_resends_left;
        close_due = true;
      }
      return;
    }

    // Follow the peer to a new address only for authenticated, non-replayed, newest packets.
    if (from != peer) {
      if (!newest) return;
      migrate_to(from, datagram.size());
    } else if (!path_validated && !challenge) {
      path_validated = true;  // the first authenticated packet at the handshake address
    }

    bool ack_eliciting = false;
    const std::span<const std::uint8_t> payload(scratch.data(), opened->size);
    const std::error_code ec = wire::parse_frames(payload, [&](wire::Frame&& frame) -> std::error_code {
      if (wire::is_ack_eliciting(frame)) ack_eliciting = true;
      return on_frame(t, frame);
    });
    if (state == ConnectionState::closed || state == ConnectionState::closing ||
        state == ConnectionState::draining) {
      return;
    }
    if (ec) {
      protocol_violation(ec == errc::protocol_violation ? "protocol violation" : "malformed frame");
      return;
    }
    received.on_packet_received(pn, ack_eliciting, t);
    check_established(t);
  }

  void migrate_to(const SocketAddress& from, std::size_t datagram_size) {
    peer = from;
    ++stats.path_migrations;
    path_validated = false;
    path_received = datagram_size;
    path_sent = 0;
    std::array<std::uint8_t, wire::kPathDataSize> data{};
    rng->fill(data);
    challenge = data;
    challenge_due = true;
    challenge_attempts = 0;
    challenge_deadline = now;
  }

  std::error_code on_frame(Instant t, const wire::Frame& frame) {
    return std::visit([&](const auto& f) { return handle(t, f); }, frame);
  }

  std::error_code handle(Instant, const wire::Padding&) { return {}; }
  std::error_code handle(Instant, const wire::Ping&) { return {}; }
  std::error_code handle(Instant, const wire::Established&) {
    peer_confirmed = true;
    return {};
  }
  std::error_code handle(Instant t, const wire::Ack& ack) {
    auto outcome = loss.on_ack_received(ack, t, rtt);
    if (!outcome) return errc::protocol_violation;  // optimistic or bogus ACK
    on_ack_outcome(t, *outcome);
    return {};
  }
  std::error_code handle(Instant, const wire::Close& close) {
    state = ConnectionState::draining;
    error = errc::connection_closed;
    closing_deadline = now + 3 * loss.pto_period(rtt);
    streams.clear();
    datagrams.clear();
    sent_frames.clear();
    push_event(ConnectionEvent::Kind::closed, 0, std::vector<std::uint8_t>(close.reason.begin(), close.reason.end()),
               errc::connection_closed);
    return make_error_code(errc::connection_closed);  // stop parsing
  }
  std::error_code handle(Instant, const wire::Datagram& dg) {
    push_event(ConnectionEvent::Kind::datagram, 0, std::vector<std::uint8_t>(dg.data.begin(), dg.data.end()));
    return {};
  }
  std::error_code handle(Instant, const wire::PathChallenge& pc) {
    if (path_responses.size() == kMaxPendingPathResponses) path_responses.pop_front();
    path_responses.push_back(pc.data);
    return {};
  }
  std::error_code handle(Instant, const wire::PathResponse& pr) {
    if (challenge && *challenge == pr.data) {
      challenge.reset();
      challenge_due = false;
      path_validated = true;
    }
    return {};
  }
  std::error_code handle(Instant, const wire::MaxData& md) {
    peer_max_data = std::max(peer_max_data, md.max);
    return {};
  }
  std::error_code handle(Instant, const wire::MaxStreams& ms) {
    if (ms.bidirectional) peer_max_streams = std::max(peer_max_streams, ms.max);
    return {};
  }
  std::error_code handle(Instant, const wire::MaxStreamData& msd) {
    auto s = stream_for_frame(msd.stream_id);
    if (!s) return s.error();
    if (*s) (*s)->peer_max_stream_data = std::max((*s)->peer_max_stream_data, msd.max);
    return {};
  }
  std::error_code handle(Instant, const wire::StopSending& ss) {
    auto s = stream_for_frame(ss.stream_id);
    if (!s) return s.error();
    if (*s && !(*s)->send.is_reset()) (*s)->send.reset();
    return {};
  }
  std::error_code handle(Instant, const wire::ResetStream& rs) {
    auto s = stream_for_frame(rs.stream_id);
    if (!s) return s.error();
    StreamState* st = *s;
    if (!st) return {};
    const std::uint64_t before = st->receive.highest_received();
    if (rs.final_size > before && data_received + (rs.final_size - before) > local_max_data) {
      return errc::protocol_violation;
    }
    if (st->receive.on_reset(rs.final_size)) return errc::protocol_violation;
    const std::uint64_t unread = st->receive.highest_received() - st->receive.read_offset();
    data_received += st->receive.highest_received() - before;
    data_consumed += unread;  // the discarded bytes give their credit back
    signal_readable(*st);
    return {};
  }
  std::error_code handle(Instant, const wire::Stream& f) {
    auto s = stream_for_frame(f.stream_id);
    if (!s) return s.error();
    StreamState* st = *s;
    if (!st) return {};  // a stream already retired: a late retransmission
    const std::uint64_t before = st->receive.highest_received();
    const std::uint64_t end = f.offset + f.data.size();  // frame decoding bounds it by 2^62
    if (end > before && data_received + (end - before) > local_max_data) return errc::protocol_violation;
    if (st->receive.insert(f.offset, f.data, f.fin)) return errc::protocol_violation;
    data_received += st->receive.highest_received() - before;
    if (st->receive.readable() > 0 || st->receive.is_finished()) signal_readable(*st);
    return {};
  }

  void signal_readable(StreamState& s) {
    if (s.readable_signalled) return;
    s.readable_signalled = true;
    push_event(ConnectionEvent::Kind::stream_readable, s.id);
  }

  // The stream a frame names: nullptr for a stream already retired; errors for ids the peer may
  // not use. Peer-initiated streams open implicitly, lower numbers included (as in QUIC).
  Result<StreamState*> stream_for_frame(std::uint64_t id) {
    if (is_unidirectional(id)) return errc::protocol_violation;
    auto it = streams.find(id);
    if (it != streams.end()) return &it->second;
    const std::uint64_t index = id >> 2;
    const bool ours = is_client_stream(id) == initiator;
    if (ours) {
      if (index >= local_streams_opened) return errc::protocol_violation;  // never opened
      return static_cast<StreamState*>(nullptr);
    }
    if (index < peer_streams_opened) return static_cast<StreamState*>(nullptr);
    if (index >= local_max_streams) return errc::protocol_violation;  // stream limit
    StreamState* last = nullptr;
    for (std::uint64_t i = peer_streams_opened; i <= index; ++i) {  // bounded by max_streams
      const std::uint64_t sid = (i << 2) | (initiator ? 1u : 0u);
      last = &add_stream(sid);
      push_event(ConnectionEvent::Kind::stream_opened, sid);
    }
    peer_streams_opened = index + 1;
    return last;
  }

  void on_ack_outcome(Instant t, const AckOutcome& outcome) {
    for (const SentPacket& p : outcome.acked) {
      if (p.ack_frame_largest) received.on_ack_frame_acked(*p.ack_frame_largest);
      for (std::uint64_t token : p.frame_tokens) on_frame_acked(token);
      if (p.in_flight && cc) {
        cc->on_ack(t, AckedPacket{p.packet_number, p.time_sent, p.size, std::nullopt}, rtt,
                   loss.sent_packets().bytes_in_flight(), app_limited);
      }
      pmtud.on_packet_acked(p.packet_number, p.size, t);
    }
    on_lost(t, outcome.lost, outcome.persistent_congestion);
    // After the new losses, so that a real one among them keeps the reduction in place.
    stats.packets_spuriously_lost += outcome.spurious_losses.size();
    if (spurious_congestion.on_spurious_losses(outcome.spurious_losses) && cc) cc->on_spurious_congestion(t);
    after_mtu_change();
    pmtud.set_probe_timer(3 * loss.pto_period(rtt));
    signal_writable();
  }

  void on_lost(Instant t, const std::vector<SentPacket>& lost, bool persistent) {
    std::optional<Instant> latest_lost;
    std::vector<std::uint64_t> congestion_lost;
    for (const SentPacket& p : lost) {
      ++stats.packets_lost;
      const bool probe = pmtud.is_probe(p.packet_number);
      pmtud.on_packet_lost(p.packet_number, p.size, t);
      for (std::uint64_t token : p.frame_tokens) on_frame_lost(token);
      if (p.in_flight && !probe) {
        latest_lost = latest_lost ? std::max(*latest_lost, p.time_sent) : p.time_sent;
        congestion_lost.push_back(p.packet_number);
      }
    }
    if (latest_lost && cc) {
      const bool reduces = !cc->in_recovery(*latest_lost);
      cc->on_congestion_event(t, *latest_lost, persistent, rtt);
      spurious_congestion.on_packets_lost(congestion_lost, reduces, persistent);
    }
  }

  void after_mtu_change() {
    if (!cc || cc->max_datagram_size() == pmtud.current()) return;
    cc->on_max_datagram_size_changed(pmtud.current());
    pacer.on_max_datagram_size_changed(pmtud.current());
    stats.path_mtu = pmtud.current();
  }

  void on_frame_acked(std::uint64_t token) {
    auto it = sent_frames.find(token);
    if (it == sent_frames.end()) return;
    std::visit(
        [&](const auto& f) {
          using T = std::decay_t<decltype(f)>;
          if constexpr (std::is_same_v<T, StreamChunkSent>) {
            auto s = streams.find(f.stream_id);
            if (s != streams.end()) {
              s->second.send.on_acked(f.offset, f.length, f.fin);
              maybe_retire(s->first);
            }
          } else if constexpr (std::is_same_v<T, EstablishedSent>) {
            ours_acked = true;
          }
        },
        it->second);
    sent_frames.erase(it);
  }

  void on_frame_lost(std::uint64_t token) {
    auto it = sent_frames.find(token);
    if (it == sent_frames.end()) return;
    std::visit(
        [&](const auto& f) {
          using T = std::decay_t<decltype(f)>;
          if constexpr (std::is_same_v<T, StreamChunkSent>) {
            auto s = streams.find(f.stream_id);
            if (s != streams.end()) {
              s->second.send.on_lost(f.offset, f.length, f.fin);
              if (f.length > 0) stats.stream_bytes_retransmitted += f.length;
            }
          } else if constexpr (std::is_same_v<T, EstablishedSent>) {
            if (!ours_acked) established_due = true;
          } else if constexpr (std::is_same_v<T, MaxDataSent>) {
            max_data_due = true;  // re-sent with the current value
          } else if constexpr (std::is_same_v<T, MaxStreamDataSent>) {
            auto s = streams.find(f.stream_id);
            if (s != streams.end() && !s->second.receive.final_size()) s->second.max_stream_data_due = true;
          } else if constexpr (std::is_same_v<T, MaxStreamsSent>) {
            max_streams_due = true;
          }
        },
        it->second);
    sent_frames.erase(it);
  }

  void signal_writable() {
    for (auto& [id, s] : streams) {
      if (s.wants_writable && s.send.writable() > 0) {
        s.wants_writable = false;
        push_event(ConnectionEvent::Kind::stream_writable, id);
      }
    }
  }

  // Forgets a stream both sides are done with; a peer's stream gives the peer a new one.
  void maybe_retire(std::uint64_t id) {
    auto it = streams.find(id);
    if (it == streams.end()) return;
    StreamState& s = it->second;
    const bool send_done = s.send.all_acked() || s.send.is_reset();
    const bool receive_done = s.receive.is_finished() || s.receive.is_reset();
    if (!send_done || !receive_done) return;
    const bool peers = is_client_stream(id) != initiator;
    streams.erase(it);
    if (peers) {
      ++local_max_streams;
      max_streams_due = true;
    }
  }

  // ---- flow-control updates --------------------------------------------------------------------
  void after_read(StreamState& s, std::size_t n) {
    data_consumed += n;
    // Auto-tuning: when the window's half was consumed within ~2 RTTs, the window (not the reader)
    // limits throughput; double it, up to max_receive_window.
    if (auto update = s.receive.take_window_update()) {
      if (s.last_window_update && now - *s.last_window_update < 2 * rtt.smoothed() &&
          s.receive.window() < config.max_receive_window) {
        s.receive.set_window(std::min(s.receive.window() * 2, config.max_receive_window));
        stream_window = std::max(stream_window, s.receive.window());
        (void)s.receive.take_window_update();
      }
      s.last_window_update = now;
      s.max_stream_data_due = true;
    }
    const std::uint64_t target = data_consumed + connection_window;
    if (target >= local_max_data + connection_window / 2) {
      if (last_max_data_update && now - *last_max_data_update < 2 * rtt.smoothed() &&
          connection_window < config.max_receive_window) {
        connection_window = std::min(connection_window * 2, config.max_receive_window);
      }
      local_max_data = std::max(local_max_data, data_consumed + connection_window);
      last_max_data_update = now;
      max_data_due = true;
    }
  }

  // ---- sending ---------------------------------------------------------------------------------
  std::uint64_t connection_credit() const { return peer_max_data > data_sent ? peer_max_data - data_sent : 0; }

  std::uint64_t flow_limit(const StreamState& s) const {
    const std::uint64_t sent = s.send.sent_offset();
    return std::min(s.peer_max_stream_data, sent + connection_credit());
  }

  bool has_stream_data() const {
    if (state != ConnectionState::established) return false;
    for (const auto& [id, s] : streams) {
      if (s.send.has_pending(flow_limit(s))) return true;
    }
    return false;
  }

  bool has_control_frames() const {
    if (established_due || ping_due || challenge_due || !path_responses.empty() || max_data_due || max_streams_due) {
      return true;
    }
    for (const auto& [id, s] : streams) {
      if (s.max_stream_data_due) return true;
    }
    return false;
  }

  bool wants_ack_eliciting() const {
    return has_control_frames() || has_stream_data() || probes_due > 0 ||
           (state == ConnectionState::established && !datagrams.empty());
  }

  std::optional<Transmit> poll_transmit(Instant t, std::span<std::uint8_t> out) {
    now = std::max(now, t);
    if (state == ConnectionState::closed || state == ConnectionState::draining) return std::nullopt;
    if (state == ConnectionState::closing) {
      if (!close_due) return std::nullopt;
      return send_close(t, out);
    }
    if (driver) {
      std::array<std::uint8_t, 2048> buffer{};
      if (auto n = driver->poll_transmit(t, buffer)) {
        if (*n <= out.size() && *n <= amplification_budget()) {
          std::copy_n(buffer.begin(), *n, out.begin());
          on_path_sent(*n);
          last_sent = t;
          return Transmit{peer, *n};
        }
      }
    }
    if (!protection) return std::nullopt;
    return send_data_packet(t, out);
  }

  std::optional<Transmit> send_close(Instant t, std::span<std::uint8_t> out) {
    PacketBuilder b;
    if (!b.begin(*this, out, std::min<std::size_t>(out.size(), pmtud.current()))) return std::nullopt;
    wire::Close close;
    close.error_code = close_frame->first;
    close.reason = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(close_frame->second.data()),
                                                 close_frame->second.size());
    if (wire::encode_frame(close, b.writer())) return std::nullopt;
    close_due = false;
    return b.finish(*this, t, false, false);
  }

  // Builds one short-header packet directly in the caller's buffer, sealed in place.
  class PacketBuilder {
   public:
    bool begin(State& st, std::span<std::uint8_t> out, std::size_t size_limit) {
      auto pn = st.loss.next_packet_number(*st.rng);
      if (!pn) {
        st.close_with(pn.error(), kCloseInternalError, "packet numbers exhausted");
        return false;
      }
      pn_ = *pn;
      const wire::DataHeader header = wire::make_data_header(st.peer_cid, st.protection->send_key_phase(), pn_,
                                                             st.loss.sent_packets().largest_acked());
      auto hs = wire::encode_data_header(header, out);
      if (!hs) return false;
      header_size_ = *hs;
      const std::size_t limit = std::min(size_limit, out.size());
      if (limit < header_size_ + kAeadTag + 8) return false;
      out_ = out;
      writer_.emplace(out.subspan(header_size_, limit - header_size_ - kAeadTag));
      return true;
    }
    wire::Writer& writer() { return *writer_; }
    std::vector<std::uint64_t> tokens;
    std::optional<std::uint64_t> ack_largest;

    std::optional<Transmit> finish(State& st, Instant t, bool ack_eliciting, bool in_flight) {
      const std::size_t plain = writer_->position();
      if (plain == 0) return std::nullopt;
      auto sealed = st.protection->seal(pn_, out_.first(header_size_), out_.subspan(header_size_, plain),
                                        out_.subspan(header_size_));
      if (!sealed) {
        st.close_with(sealed.error(), kCloseInternalError, "cannot seal");
        return std::nullopt;
      }
      const std::size_t size = header_size_ + sealed->size;
      SentPacket p;
      p.packet_number = pn_;
      p.time_sent = t;
      p.size = size;
      p.ack_eliciting = ack_eliciting;
      p.in_flight = in_flight;
      p.ack_frame_largest = ack_largest;
      p.frame_tokens = std::move(tokens);
      if (st.loss.on_packet_sent(std::move(p), st.rtt)) return std::nullopt;
      if (st.cc) st.cc->on_packet_sent(t, st.loss.sent_packets().bytes_in_flight(), size, ack_eliciting);
      st.on_path_sent(size);
      st.last_sent = t;
      return Transmit{st.peer, size};
    }
    std::uint64_t packet_number() const { return pn_; }

   private:
    std::uint64_t pn_ = 0;
    std::size_t header_size_ = 0;
    std::span<std::uint8_t> out_;
    std::optional<wire::Writer> writer_;
  };

  std::uint64_t remember(SentFrame frame) {
    const std::uint64_t token = next_token++;
    sent_frames.emplace(token, frame);
    return token;
  }

  std::optional<Transmit> send_data_packet(Instant t, std::span<std::uint8_t> out) {
    const bool ack_due = received.ack_due(t);
    const bool probing = probes_due > 0;
    bool can_elicit = wants_ack_eliciting();
    const std::uint64_t mtu = pmtud.current();
    if (can_elicit && !probing) {
      const std::uint64_t cwnd = cc->congestion_window();
      if (loss.sent_packets().bytes_in_flight() + mtu > cwnd) {
        can_elicit = false;
        app_limited = false;
      } else {
        const Instant at = pacer.next_send_time(t, mtu, cc->pacing_rate_bytes_per_sec(rtt), cwnd);
        if (at > t) {
          can_elicit = false;
          pacing_wakeup = at;
        }
      }
    } else if (!can_elicit) {
      app_limited = true;
    }
    if (!can_elicit && !ack_due) return std::nullopt;

    std::uint64_t budget = amplification_budget();
    if (budget < kMinSendBudget) return std::nullopt;

    // A path-MTU probe: PING + PADDING of exactly the probe size.
    if (can_elicit && !probing && state == ConnectionState::established) {
      if (auto probe = pmtud.probe_size(t); probe && *probe <= out.size() && *probe <= budget &&
                                             loss.sent_packets().bytes_in_flight() + *probe <= cc->congestion_window()) {
        return send_mtu_probe(t, out, *probe);
      }
    }

    PacketBuilder b;
    if (!b.begin(*this, out, static_cast<std::size_t>(std::min<std::uint64_t>(mtu, budget)))) return std::nullopt;
    wire::Writer& w = b.writer();
    bool eliciting = false;

    if (ack_due || received.has_unreported()) {
      if (auto ack = received.build_ack(t, kAckRangesPerPacket)) {
        if (wire::encoded_size(wire::Frame{*ack}) <= w.remaining() && !wire::encode_frame(*ack, w)) {
          b.ack_largest = ack->largest();
          received.on_ack_sent();
        }
      }
    }
    if (can_elicit) {
      eliciting = write_eliciting_frames(b, w);
      if (probing && !eliciting && !wire::encode_frame(wire::Ping{}, w)) eliciting = true;
      if (probing && eliciting) --probes_due;
    }
    if (w.position() == 0) return std::nullopt;
    auto tx = b.finish(*this, t, eliciting, eliciting);
    if (tx && eliciting && !probing) pacer.on_sent(t, tx->size);
    return tx;
  }

  std::optional<Transmit> send_mtu_probe(Instant t, std::span<std::uint8_t> out, std::size_t size) {
    PacketBuilder b;
    if (!b.begin(*this, out, size)) return std::nullopt;
    wire::Writer& w = b.writer();
    if (wire::encode_frame(wire::Ping{}, w)) return std::nullopt;
    if (w.remaining() > 0 && wire::encode_frame(wire::Padding{w.remaining()}, w)) return std::nullopt;
    const std::uint64_t pn = b.packet_number();
    auto tx = b.finish(*this, t, true, true);
    if (tx) {
      pmtud.on_probe_sent(pn, tx->size, t);
      pacer.on_sent(t, tx->size);
    }
    return tx;
  }

  // Control frames, datagrams and stream data, in that order. Returns whether any was written.
  bool write_eliciting_frames(PacketBuilder& b, wire::Writer& w) {
    bool wrote = false;
    auto put = [&](const wire::Frame& f) {
      if (wire::encoded_size(f) > w.remaining()) return false;
      if (wire::encode_frame(f, w)) return false;
      wrote = true;
      return true;
    };
    if (established_due && put(wire::Established{})) {
      established_due = false;
      established_sent_at = now;
      b.tokens.push_back(remember(EstablishedSent{}));
    }
    while (!path_responses.empty() && put(wire::PathResponse{path_responses.front()})) path_responses.pop_front();
    if (challenge_due && challenge && put(wire::PathChallenge{*challenge})) {
      challenge_due = false;
      challenge_deadline = now + 2 * loss.pto_period(rtt);
    }
    if (ping_due && put(wire::Ping{})) ping_due = false;
    if (state != ConnectionState::established) return wrote;

    if (max_data_due && put(wire::MaxData{local_max_data})) {
      max_data_due = false;
      b.tokens.push_back(remember(MaxDataSent{}));
    }
    if (max_streams_due && put(wire::MaxStreams{true, local_max_streams})) {
      max_streams_due = false;
      b.tokens.push_back(remember(MaxStreamsSent{}));
    }
    for (auto& [id, s] : streams) {
      if (s.max_stream_data_due && put(wire::MaxStreamData{id, s.receive.max_stream_data()})) {
        s.max_stream_data_due = false;
        b.tokens.push_back(remember(MaxStreamDataSent{id}));
      }
    }
    while (!datagrams.empty()) {
      wire::Datagram dg;
      dg.data = datagrams.front();
      if (!put(dg)) break;
      datagrams.pop_front();
    }
    if (write_stream_frames(b, w)) wrote = true;
    return wrote;
  }

  // Round-robin over the streams with something to send, starting after the one served last.
  bool write_stream_frames(PacketBuilder& b, wire::Writer& w) {
    if (streams.empty()) return false;
    bool wrote = false;
    auto it = streams.upper_bound(round_robin_after);
    for (std::size_t visited = 0; visited < streams.size() && w.remaining() > 0; ++visited) {
      if (it == streams.end()) it = streams.begin();
      StreamState& s = it->second;
      while (true) {
        const std::uint64_t limit = flow_limit(s);
        if (!s.send.has_pending(limit)) break;
        const std::size_t overhead = 1 + wire::varint::encoded_size(s.id) +
                                     wire::varint::encoded_size(s.send.sent_offset()) + 2;
        if (w.remaining() < overhead + 1) break;
        const std::size_t room = std::min<std::size_t>(w.remaining() - overhead, 16383);
        if (room < kMinStreamFrameData && s.send.unsent_bytes() + s.send.lost_bytes() > room) break;
        const std::uint64_t sent_before = s.send.sent_offset();
        auto chunk = s.send.next_chunk(room, limit);
        if (!chunk) break;
        wire::Stream frame;
        frame.stream_id = s.id;
        frame.offset = chunk->offset;
        frame.data = chunk->data;
        frame.fin = chunk->fin;
        if (wire::encode_frame(frame, w)) {
          // Cannot happen (room was reserved); give the bytes back as lost to stay consistent.
          s.send.on_lost(chunk->offset, chunk->data.size(), chunk->fin);
          break;
        }
        data_sent += s.send.sent_offset() - sent_before;
        b.tokens.push_back(remember(StreamChunkSent{s.id, chunk->offset, chunk->data.size(), chunk->fin}));
        wrote = true;
        round_robin_after = s.id;
        if (chunk->data.empty()) break;  // a lone FIN
      }
      ++it;
    }
    return wrote;
  }

  // ---- timers ----------------------------------------------------------------------------------
  std::optional<Instant> poll_timeout() const {
    if (state == ConnectionState::closed) return std::nullopt;
    if (state == ConnectionState::closing || state == ConnectionState::draining) return closing_deadline;
    std::optional<Instant> t;
    auto take = [&](std::optional<Instant> c) {
      if (c && (!t || *c < *t)) t = c;
    };
    if (state != ConnectionState::established) take(started + config.handshake_timeout);
    if (protection && !ours_acked && !established_due) take(established_sent_at + std::chrono::seconds(1));
    if (driver) take(driver->poll_timeout());
    if (!protection) return t;
    if (idle_timeout > Duration::zero()) take(last_received + idle_timeout);
    // Deadlines whose work is already pending are left out: they would only wake us in a loop.
    if (state == ConnectionState::established && config.keepalive_interval > Duration::zero() && !ping_due) {
      take(last_sent + config.keepalive_interval);
    }
    take(loss.timeout());
    if (amplification_budget() >= kMinSendBudget) take(received.ack_deadline());
    take(pmtud.timeout());
    if (pacing_wakeup) take(pacing_wakeup);
    if (challenge && !challenge_due) take(challenge_deadline);
    return t;
  }

  void handle_timeout(Instant t) {
    now = std::max(now, t);
    if (state == ConnectionState::closed) return;
    if (state == ConnectionState::closing || state == ConnectionState::draining) {
      if (closing_deadline && t >= *closing_deadline) {
        state = ConnectionState::closed;
        release_resources();
      }
      return;
    }
    if (state != ConnectionState::established && t >= started + config.handshake_timeout) {
      fail_silently(errc::handshake_timeout);
      return;
    }
    if (driver) driver->handle_timeout(t);
    if (!protection) return;
    if (idle_timeout > Duration::zero() && t >= last_received + idle_timeout) {
      fail_silently(errc::connection_timed_out);
      return;
    }
    if (pacing_wakeup && t >= *pacing_wakeup) pacing_wakeup.reset();
    if (protection && !ours_acked && t >= established_sent_at + std::chrono::seconds(1)) established_due = true;
    if (auto lt = loss.timeout(); lt && t >= *lt) {
      TimeoutOutcome outcome = loss.on_timeout(t, rtt);
      if (outcome.action == TimeoutOutcome::Action::packets_lost) {
        on_lost(t, outcome.lost, outcome.persistent_congestion);
      } else if (outcome.action == TimeoutOutcome::Action::send_probes) {
        ++stats.pto_count;
        probes_due = outcome.probe_packets;
        pmtud.on_pto_expired(loss.pto_count(), t);
        requeue_oldest_stream_data();
        if (!ours_acked) established_due = true;
      }
      after_mtu_change();
    }
    if (auto pt = pmtud.timeout(); pt && t >= *pt) {
      pmtud.on_timeout(t);
      after_mtu_change();
    }
    if (challenge && !challenge_due && t >= challenge_deadline) {
      if (++challenge_attempts > kPathChallengeAttempts) {
        challenge.reset();  // give up: the path stays limited by the amplification budget
      } else {
        challenge_due = true;
      }
    }
    if (state == ConnectionState::established && config.keepalive_interval > Duration::zero() &&
        t >= last_sent + config.keepalive_interval) {
      ping_due = true;
    }
  }

  // A PTO probe carries the oldest unacknowledged stream data again (new packet number), so a
  // lost tail is repaired by the probe itself; new data would not repair it.
  void requeue_oldest_stream_data() {
    for (const auto& [pn, p] : loss.sent_packets().outstanding()) {
      if (!p.ack_eliciting) continue;
      for (std::uint64_t token : p.frame_tokens) {
        auto it = sent_frames.find(token);
        if (it == sent_frames.end()) continue;
        if (const auto* c = std::get_if<StreamChunkSent>(&it->second)) {
          auto s = streams.find(c->stream_id);
          if (s != streams.end()) {
            s->second.send.on_lost(c->offset, c->length, c->fin);
          }
        }
      }
      return;  // only the oldest ack-eliciting packet
    }
  }
};

// ---- Connection ----------------------------------------------------------------------------------

Connection::Connection(std::unique_ptr<State> state) : s_(std::move(state)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

std::vector<std::uint8_t> Connection::handshake_payload(const ConnectionConfig& config) {
  wire::TransportParameters p;
  p.max_idle_timeout_ms = config.idle_timeout > Duration::zero() ? std::max<std::uint64_t>(1, to_millis(config.idle_timeout)) : 0;
  p.max_udp_payload_size = std::clamp<std::uint64_t>(config.pmtud.max_plpmtu, wire::kMinMaxUdpPayloadSize,
                                                     wire::kMaxMaxUdpPayloadSize);
  p.initial_max_data = std::min<std::uint64_t>(config.connection_receive_window, wire::kMaxStreamOffset);
  p.initial_max_stream_data_bidi_local = std::min<std::uint64_t>(config.stream_receive_window, wire::kMaxStreamOffset);
  p.initial_max_stream_data_bidi_remote = p.initial_max_stream_data_bidi_local;
  p.initial_max_stream_data_uni = 0;
  p.initial_max_streams_bidi = std::min<std::uint64_t>(config.max_streams, wire::kMaxStreamCount);
  p.initial_max_streams_uni = 0;
  p.max_ack_delay_ms = std::min<std::uint64_t>(to_millis(config.max_ack_delay), wire::kMaxAckDelayLimitMs);
  p.max_datagram_frame_size = p.max_udp_payload_size;
  p.keepalive_interval_ms = to_millis(config.keepalive_interval);
  return wire::encode_transport_parameters(p);
}

namespace {
std::error_code validate_config(const ConnectionConfig& c) {
  if (c.stream_receive_window == 0 || c.connection_receive_window == 0 || c.stream_send_buffer == 0 ||
      c.stream_receive_window > c.max_receive_window || c.connection_receive_window > (std::uint64_t{1} << 40) ||
      c.max_receive_window > (std::uint64_t{1} << 32) || c.max_streams > 1u << 16 ||
      c.pmtud.base_plpmtu < 1200 || c.max_ack_delay < Duration::zero()) {
    return errc::invalid_argument;
  }
  return {};
}

}  // namespace

Result<Connection> Connection::connect(ConnectionConfig config, const SocketAddress& peer, Instant now,
                                       RandomSource& rng) {
  if (auto ec = validate_config(config)) return ec;
  config.handshake.payload = handshake_payload(config);
  auto driver = crypto::HandshakeDriver::connect(config.handshake, peer, now, rng);
  if (!driver) return driver.error();
  auto st = std::make_unique<State>(std::move(config));
  st->rng = &rng;
  st->peer = peer;
  st->started = now;
  st->now = now;
  st->last_received = now;
  st->path_validated = true;  // we chose the address
  st->initiator = true;
  st->local_cid = driver->local_cid();
  st->driver.emplace(std::move(*driver));
  st->scratch.resize(std::max<std::size_t>(2048, st->config.pmtud.max_plpmtu));
  st->stream_window = st->config.stream_receive_window;
  st->connection_window = st->config.connection_receive_window;
  st->local_max_data = st->connection_window;
  st->local_max_streams = st->config.max_streams;
  return Connection(std::move(st));
}

Result<Connection> Connection::accept(ConnectionConfig config, crypto::Handshake handshake,
                                      const SocketAddress& peer, std::size_t initiation_size, Instant now,
                                      RandomSource& rng) {
  if (auto ec = validate_config(config)) return ec;
  config.handshake.payload = handshake_payload(config);
  auto driver = crypto::HandshakeDriver::accept(config.handshake, std::move(handshake), peer, now);
  if (!driver) return driver.error();
  auto st = std::make_unique<State>(std::move(config));
  st->rng = &rng;
  st->peer = peer;
  st->started = now;
  st->now = now;
  st->last_received = now;
  st->path_validated = false;
  st->path_received = initiation_size;
  st->initiator = false;
  st->local_cid = driver->local_cid();
  st->driver.emplace(std::move(*driver));
  st->scratch.resize(std::max<std::size_t>(2048, st->config.pmtud.max_plpmtu));
  st->stream_window = st->config.stream_receive_window;
  st->connection_window = st->config.connection_receive_window;
  st->local_max_data = st->connection_window;
  st->local_max_streams = st->config.max_streams;
  if (st->driver->is_complete()) st->start_data_phase(now);
  return Connection(std::move(st));
}

void Connection::handle_datagram(Instant now, const SocketAddress& from, std::span<const std::uint8_t> datagram) {
  s_->handle_datagram(now, from, datagram);
}

std::optional<Transmit> Connection::poll_transmit(Instant now, std::span<std::uint8_t> out) {
  return s_->poll_transmit(now, out);
}

std::optional<Instant> Connection::poll_timeout() const { return s_->poll_timeout(); }

void Connection::handle_timeout(Instant now) { s_->handle_timeout(now); }

std::optional<ConnectionEvent> Connection::poll_event() {
  if (s_->events.empty()) return std::nullopt;
  ConnectionEvent e = std::move(s_->events.front());
  s_->events.pop_front();
  return e;
}

Result<std::uint64_t> Connection::open_stream() {
  State& st = *s_;
  if (st.is_over()) return errc::connection_closed;
  if (!st.protection) return errc::invalid_state;  // the peer's stream limit is not known yet
  if (st.local_streams_opened >= st.peer_max_streams) return errc::invalid_state;
  const std::uint64_t id = (st.local_streams_opened << 2) | (st.initiator ? 0u : 1u);
  ++st.local_streams_opened;
  st.add_stream(id);
  return id;
}

Result<std::size_t> Connection::stream_write(std::uint64_t stream_id, std::span<const std::uint8_t> data) {
  State& st = *s_;
  if (st.is_over()) return errc::connection_closed;
  auto it = st.streams.find(stream_id);
  if (it == st.streams.end()) return errc::invalid_argument;
  StreamState& s = it->second;
  if (s.send.is_reset()) return errc::connection_closed;  // the peer sent STOP_SENDING
  if (s.send.is_finished()) return errc::invalid_state;
  const std::size_t n = s.send.write(data);
  if (n < data.size()) s.wants_writable = true;
  return n;
}

std::error_code Connection::stream_finish(std::uint64_t stream_id) {
  State& st = *s_;
  if (st.is_over()) return errc::connection_closed;
  auto it = st.streams.find(stream_id);
  if (it == st.streams.end()) return errc::invalid_argument;
  it->second.send.finish();
  return {};
}

Result<std::size_t> Connection::stream_read(std::uint64_t stream_id, std::span<std::uint8_t> out) {
  State& st = *s_;
  auto it = st.streams.find(stream_id);
  if (it == st.streams.end()) {
    if (st.is_over()) return errc::connection_closed;
    return std::size_t{0};  // unknown, or retired after its end was read
  }
  StreamState& s = it->second;
  if (s.receive.is_reset()) {
    st.maybe_retire(stream_id);
    return errc::connection_closed;
  }
  const std::size_t n = s.receive.read(out);
  if (s.receive.readable() == 0) s.readable_signalled = false;
  st.after_read(s, n);
  if (s.receive.is_finished()) st.maybe_retire(stream_id);
  return n;
}

bool Connection::stream_at_end(std::uint64_t stream_id) const {
  const State& st = *s_;
  auto it = st.streams.find(stream_id);
  if (it != st.streams.end()) return it->second.receive.is_finished();
  // A retired stream was read to its end (or reset). Never-opened ones are not at their end.
  const std::uint64_t index = stream_id >> 2;
  const bool ours = is_client_stream(stream_id) == st.initiator;
  return ours ? index < st.local_streams_opened : index < st.peer_streams_opened;
}

std::error_code Connection::send_datagram(std::span<const std::uint8_t> payload) {
  State& st = *s_;
  if (st.state != ConnectionState::established) return errc::invalid_state;
  if (payload.size() > max_datagram_payload()) return errc::invalid_argument;
  if (st.datagrams.size() >= st.config.max_queued_datagrams) st.datagrams.pop_front();
  st.datagrams.emplace_back(payload.begin(), payload.end());
  return {};
}

std::size_t Connection::max_datagram_payload() const {
  // Always fits the base MTU: header, ACK room, frame type + length, tag.
  const std::size_t base = s_->pmtud.config().base_plpmtu;
  return base - kMaxHeader - 64 - 3 - kAeadTag;
}

void Connection::close(std::uint64_t error_code, std::string_view reason) {
  State& st = *s_;
  if (st.is_over()) return;
  st.close_with(errc::connection_closed, error_code, std::string(reason.substr(0, wire::kMaxCloseReasonSize)));
}

ConnectionState Connection::state() const { return s_->state; }
std::error_code Connection::error() const { return s_->error; }
const wire::ConnectionId& Connection::local_cid() const { return s_->local_cid; }
const SocketAddress& Connection::peer_address() const { return s_->peer; }
const std::optional<crypto::PublicKey>& Connection::peer_identity() const { return s_->peer_identity; }

ConnectionStats Connection::stats() const {
  const State& st = *s_;
  ConnectionStats out = st.stats;
  out.smoothed_rtt = st.rtt.smoothed();
  out.min_rtt = st.rtt.min_rtt();
  out.rttvar = st.rtt.rttvar();
  out.congestion_window = st.cc ? st.cc->congestion_window() : 0;
  out.bytes_in_flight = st.loss.sent_packets().bytes_in_flight();
  out.path_mtu = st.pmtud.current();
  out.packets_outstanding = st.loss.sent_packets().outstanding().size();
  out.ack_ranges = st.received.range_count();
  out.stream_receive_window = st.stream_window;
  std::uint64_t buffered = 0;
  for (const auto& [id, s] : st.streams) {
    buffered += s.send.allocated_bytes() + s.receive.allocated_bytes();
    out.stream_receive_window = std::max(out.stream_receive_window, s.receive.window());
  }
  out.buffered_bytes = buffered;
  return out;
}

}  // namespace srudp::transport
