#include "transport/connection.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <variant>

#include "common/deque.hpp"
#include "crypto/handshake_driver.hpp"
#include "crypto/replay_window.hpp"
#include "stream/connection_streams.hpp"
#include "stream/datagram_queue.hpp"
#include "transport/loss_detection.hpp"
#include "transport/pacer.hpp"
#include "transport/packet_aead_choice.hpp"
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
constexpr std::size_t kAckRoom = 64;             // kept free for an ACK beside a full datagram
constexpr Duration kMinDatagramAge = std::chrono::milliseconds(5);
constexpr std::uint64_t kMaxAmplification = 3;
constexpr std::size_t kMaxUnreadDatagrams = 256;  // received datagrams waiting for poll_event
// The shortest idle timeout a peer's transport parameters can impose on us.
constexpr Duration kMinIdleTimeout = std::chrono::seconds(3);
constexpr std::uint64_t kMinSendBudget = 64;  // amplification budget below which we stay silent

// What a sent packet carried that must be repaired if it is lost (or confirmed when acked).
struct EstablishedSent {};
using SentFrame = std::variant<EstablishedSent, stream::SentStreamFrame>;

Duration millis(std::uint64_t ms) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(ms, 1ull << 40)));
}
std::uint64_t to_millis(Duration d) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
}

stream::ConnectionStreams::Config streams_config(const ConnectionConfig& c) {
  stream::ConnectionStreams::Config s;
  s.send_capacity = c.stream_send_buffer;
  s.stream_receive_window = c.stream_receive_window;
  s.connection_receive_window = c.connection_receive_window;
  s.max_receive_window = c.max_receive_window;
  s.max_bidi_streams = c.max_streams;
  s.max_uni_streams = c.max_unidirectional_streams;
  return s;
}

ConnectionEvent to_connection_event(const stream::StreamEvent& e) {
  using K = ConnectionEvent::Kind;
  K kind = K::stream_opened;
  switch (e.kind) {
    case stream::StreamEvent::Kind::opened: kind = K::stream_opened; break;
    case stream::StreamEvent::Kind::readable: kind = K::stream_readable; break;
    case stream::StreamEvent::Kind::writable: kind = K::stream_writable; break;
    case stream::StreamEvent::Kind::reset: kind = K::stream_reset; break;
    case stream::StreamEvent::Kind::stopped: kind = K::stream_stopped; break;
    case stream::StreamEvent::Kind::available: kind = K::streams_available; break;
  }
  return ConnectionEvent{kind, e.stream_id, {}, {}, e.application_error};
}

}  // namespace

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
  bool follow_peer = true;  // false once the application picked the path (set_path)
  bool path_validated = false;
  std::optional<SocketAddress> validated_peer;  // the last address that passed validation
  std::uint64_t path_received = 0;
  std::uint64_t path_sent = 0;
  std::optional<std::array<std::uint8_t, wire::kPathDataSize>> challenge;  // outstanding
  bool challenge_due = false;
  Instant challenge_deadline{};  // resend
  Instant challenge_expiry{};    // give up on the new path
  Deque<std::array<std::uint8_t, wire::kPathDataSize>> path_responses;

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
  // What each sent packet carried, by frame number (SentPacket::first_frame, frame_count): a
  // queue from sent_frames_base on, entries emptied when their packet is acknowledged or lost and
  // popped from the front. No allocation or hashing per frame: a Deque used as a FIFO keeps
  // reusing its buffer (std::deque allocates a block every few frames and frees it again).
  static constexpr std::size_t kMaxIdleSentFrames = 64;  // about this many kept when it empties
  Deque<std::optional<SentFrame>> sent_frames;
  std::uint64_t sent_frames_base = 0;
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
  bool readable_while_draining = false;  // the peer closed gracefully: received data can be read
  Duration idle_timeout{};  // zero: none
  Duration keepalive_interval{};  // ours, shortened to half the idle timeout when that is shorter
  std::optional<Instant> closing_deadline;

  // Closing.
  std::optional<std::pair<std::uint64_t, std::string>> close_frame;  // what CLOSE says
  bool close_due = false;
  int close_resends_left = 0;

  // Streams and datagrams.
  stream::ConnectionStreams streams;
  std::vector<stream::SentStreamFrame> sent_scratch;  // what one packet carried for the streams
  // One ACK's outcome, kept so that its vectors' memory serves the next ACK too (no allocation
  // per ACK); more than kMaxKeptAckedPackets packets' worth only while data is in flight.
  static constexpr std::size_t kMaxKeptAckedPackets = 64;
  AckOutcome ack_outcome;
  std::vector<AckedPacket> acked_scratch;             // one ACK's in-flight packets, for cc
  std::vector<stream::SentStreamFrame> acked_stream_frames;  // one ACK's stream frames, in send order
  stream::DatagramQueue datagrams;

  Deque<ConnectionEvent> events;
  std::size_t unread_datagram_events = 0;  // datagram events in `events`
  std::vector<std::uint8_t> scratch;  // decrypted payloads
  ConnectionStats stats;

  explicit State(ConnectionConfig c)
      : config(std::move(c)),
        received(ReceivedPacketsConfig{config.max_ack_delay, 2, kMaxAckRanges}),
        pmtud(config.pmtud),
        streams(streams_config(config)),
        datagrams(config.max_queued_datagrams) {}

  // ---- lifecycle -------------------------------------------------------------------------------
  void push_event(ConnectionEvent::Kind kind, std::uint64_t stream_id = 0, std::vector<std::uint8_t> data = {},
                  std::error_code ec = {}, std::uint64_t application_error = 0) {
    events.push_back(ConnectionEvent{kind, stream_id, std::move(data), ec, application_error});
  }

  bool is_over() const {
    return state == ConnectionState::closing || state == ConnectionState::draining ||
           state == ConnectionState::closed;
  }

  // Streams and datagrams die with the connection.
  void drop_application_data() {
    take_stream_events();  // before the closed event
    streams.clear();
    datagrams.clear();
    sent_frames_base += sent_frames.size();
    sent_frames.clear();
  }

  void release_resources() {
    drop_application_data();
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
    drop_application_data();
    push_event(ConnectionEvent::Kind::closed, 0, {}, ec);
  }

  void protocol_violation(const char* why) { close_with(errc::protocol_violation, kCloseProtocolViolation, why); }

  // Stream events join the connection's, in order.
  void take_stream_events() {
    while (auto e = streams.poll_event()) events.push_back(to_connection_event(*e));
  }

  // ---- path validation and anti-amplification --------------------------------------------------
  void mark_path_validated() {
    path_validated = true;
    if (validated_peer && validated_peer->ip != peer.ip) restart_congestion_state();
    validated_peer = peer;
  }

  // A path to another IP address is confirmed (validated, or chosen by the application): what the
  // old path taught the congestion controller and the RTT estimator says nothing about it, so both
  // start over (RFC 9000 9.4), as does pacing. A NAT rebinding that changes only the port keeps
  // them. The path MTU search stays: black-hole detection brings it down if the new path is smaller.
  void restart_congestion_state() {
    if (!cc) return;  // not established yet: nothing learned
    const Duration max_ack_delay = rtt.max_ack_delay();
    rtt = RttEstimator();
    rtt.set_max_ack_delay(max_ack_delay);
    cc = make_congestion_controller(config.congestion, pmtud.current());
    pacer = Pacer(pmtud.current());
    pacing_wakeup.reset();
    ++stats.congestion_restarts;
  }

  void migrate_to(const SocketAddress& from, std::size_t datagram_size) {
    ++stats.path_migrations;
    peer = from;
    challenge.reset();
    challenge_due = false;
    if (validated_peer && from == *validated_peer) {
      path_validated = true;  // back on a path that passed validation before (RFC 9000 9.3.3)
      return;
    }
    path_validated = false;
    path_received = datagram_size;
    path_sent = 0;
    std::array<std::uint8_t, wire::kPathDataSize> data{};
    rng->fill(data);
    challenge = data;
    challenge_due = true;
    challenge_deadline = now;
    // RFC 9000 9.3.2: three times the larger of the current PTO and that of a fresh path (the new
    // path may be much slower than the old one).
    challenge_expiry = now + 3 * std::max(loss.pto_period(rtt), RttEstimator().pto_base(rtt.max_ack_delay()));
  }

  // No PATH_RESPONSE in time: the new path does not work (or the packet that moved us was
  // forwarded by someone else). Back to the last validated path rather than staying, limited by
  // the amplification budget, on one that may lead nowhere.
  void abandon_path_validation() {
    challenge.reset();
    challenge_due = false;
    ++stats.path_validation_failures;
    if (validated_peer && *validated_peer != peer) {
      peer = *validated_peer;
      path_validated = true;
    }
  }

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
    // Every srudp peer announces its parameters; none at all is a broken or foreign peer, not a
    // reason to assume defaults.
    auto params = outcome->peer_payload.empty() ? Result<wire::TransportParameters>(errc::protocol_violation)
                                                : wire::decode_transport_parameters(outcome->peer_payload);
    if (!params) {
      fail_silently(errc::protocol_violation);
      return;
    }
    peer_params = *params;
    auto aead = choose_packet_aead(config.aead, peer_params.packet_aeads);
    if (!aead) {
      fail_silently(aead.error());
      return;
    }
    crypto::PacketProtectionConfig pp;
    pp.send_secret = std::move(outcome->send_secret);
    pp.receive_secret = std::move(outcome->receive_secret);
    pp.algorithm = *aead;
    pp.limits = config.key_limits;
    auto created = crypto::PacketProtection::create(std::move(pp));
    if (!created) {
      fail_silently(created.error());
      return;
    }
    protection.emplace(std::move(*created));

    // Our role in stream ids, and the limits the peer announced.
    streams.start(initiator ? stream::Role::client : stream::Role::server,
                  {{peer_params.initial_max_stream_data_bidi_local, peer_params.initial_max_stream_data_bidi_remote,
                    peer_params.initial_max_stream_data_uni, peer_params.initial_max_streams_bidi,
                    peer_params.initial_max_streams_uni},
                   peer_params.initial_max_data});
    rtt.set_max_ack_delay(millis(peer_params.max_ack_delay_ms));
    // The idle timeout is the smaller of the two, but a peer cannot shrink ours below a floor, and
    // keepalives then come at least twice per idle period so the connection lives through it.
    const Duration peer_idle = std::max(millis(peer_params.max_idle_timeout_ms), kMinIdleTimeout);
    if (config.idle_timeout <= Duration::zero()) {
      idle_timeout = peer_params.max_idle_timeout_ms == 0 ? Duration::zero() : peer_idle;
    } else {
      idle_timeout = peer_params.max_idle_timeout_ms == 0 ? config.idle_timeout : std::min(config.idle_timeout, peer_idle);
    }
    keepalive_interval = config.keepalive_interval;
    if (keepalive_interval > Duration::zero() && idle_timeout > Duration::zero()) {
      keepalive_interval = std::min(keepalive_interval, idle_timeout / 2);
    }
    PmtudConfig pc = config.pmtud;
    pc.max_plpmtu = static_cast<std::size_t>(
        std::min<std::uint64_t>(pc.max_plpmtu, peer_params.max_udp_payload_size));
    pmtud = Pmtud(pc);
    cc = make_congestion_controller(config.congestion, pmtud.current());
    pacer = Pacer(pmtud.current());

    take_handshake_round_trip(t);  // the initiator's: pacing starts from it, not from 333 ms
    state = ConnectionState::confirming;
    established_due = true;
    last_received = t;
  }

  // The handshake's round trip as the first RTT sample, unless one came already.
  void take_handshake_round_trip(Instant t) {
    const auto sample = driver->round_trip();
    if (sample && !rtt.has_sample()) rtt.update(*sample, Duration::zero(), t, false);
  }

  void check_established(Instant t) {
    if (state == ConnectionState::confirming && peer_confirmed) {
      state = ConnectionState::established;
      loss.on_handshake_confirmed(t, rtt);
      if (driver) driver->peer_has_keys(t);
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
      if (driver->heard_authenticated_reply() && from == peer) mark_path_validated();
      if (!protection && driver->is_complete()) start_data_phase(t);
      return;
    }
    on_data_packet(t, from, datagram);
  }

  // A PSK-only simultaneous open answered the peer's Initiation without proof that it was fresh
  // (a replayed one looks the same): the first data packet that opens under one answer's keys is
  // that proof, and makes it the handshake (see HandshakeDriver). False when none opens it.
  bool confirm_provisional_answer(Instant t, std::span<const std::uint8_t> datagram, const wire::DataHeader& header) {
    const std::uint64_t pn = wire::decode_packet_number(std::nullopt, header.truncated_pn, header.pn_length * 8u);
    const auto ciphertext = datagram.subspan(header.header_size);
    if (ciphertext.size() > scratch.size() + kAeadTag) return false;
    for (std::size_t i = 0; i < driver->provisional_count(); ++i) {
      const crypto::HandshakeOutcome& candidate = driver->provisional_outcome(i);
      const auto params = wire::decode_transport_parameters(candidate.peer_payload);
      const auto aead = params ? choose_packet_aead(config.aead, params->packet_aeads) : Result<crypto::AeadAlgorithm>(params.error());
      if (!aead) continue;
      crypto::PacketProtectionConfig pp;
      pp.send_secret = candidate.send_secret.clone();
      pp.receive_secret = candidate.receive_secret.clone();
      pp.algorithm = *aead;
      pp.limits = config.key_limits;
      auto trial = crypto::PacketProtection::create(std::move(pp));
      if (!trial || !trial->open(pn, header.key_phase, datagram.first(header.header_size), ciphertext, scratch)) {
        continue;
      }
      driver->confirm_provisional(i);
      start_data_phase(t);
      return protection.has_value();
    }
    return false;
  }

  void on_data_packet(Instant t, const SocketAddress& from, std::span<const std::uint8_t> datagram) {
    auto header = wire::decode_data_header(datagram);
    if (!header || header->receiver_cid != local_cid) return;
    if (!protection && driver && from == peer && driver->provisional_count() > 0 &&
        !confirm_provisional_answer(t, datagram, *header)) {
      return;
    }
    if (!protection) return;
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
    if (driver) {
      driver->peer_has_keys(t);  // stop resending message 3
      take_handshake_round_trip(t);  // the responder's: the peer answered message 2
    }

    if (state == ConnectionState::closing) {
      // Still talking to us: repeat the CLOSE a few times, then let it be.
      if (close_resends_left > 0) {
        --close_resends_left;
        close_due = true;
      }
      return;
    }

    // Follow the peer to a new address only for authenticated, non-replayed, newest packets
    // (an older one from elsewhere, say still on its way over the relay, is only read).
    if (from != peer) {
      if (newest && follow_peer) migrate_to(from, datagram.size());
    } else if (!path_validated && !challenge) {
      mark_path_validated();  // the first authenticated packet at the handshake address
    }

    bool ack_eliciting = false;
    const std::span<const std::uint8_t> payload(scratch.data(), opened->size);
    if (config.on_received_plaintext) config.on_received_plaintext(payload);
    const std::error_code ec = wire::parse_frames(payload, [&](const auto& frame) -> std::error_code {
      if (wire::is_ack_eliciting(frame)) ack_eliciting = true;
      const std::error_code handled = handle(t, frame);
      take_stream_events();
      return handled;
    });
    if (state == ConnectionState::closed || state == ConnectionState::closing ||
        state == ConnectionState::draining) {
      return;
    }
    if (ec) {
      if (ec == errc::flow_control_error) {
        close_with(errc::protocol_violation, kCloseFlowControlError, "flow control");
      } else {
        protocol_violation(ec == errc::protocol_violation  ? "protocol violation"
                           : ec == errc::final_size_error ? "final size changed"
                                                           : "malformed frame");
      }
      return;
    }
    received.on_packet_received(pn, ack_eliciting, t);
    check_established(t);
  }

  std::error_code handle(Instant, const wire::Padding&) { return {}; }
  std::error_code handle(Instant, const wire::Ping&) { return {}; }
  std::error_code handle(Instant, const wire::Established&) {
    peer_confirmed = true;
    return {};
  }
  std::error_code handle(Instant t, const wire::Ack& ack) {
    // An optimistic or bogus ACK.
    if (loss.on_ack_received(ack, t, rtt, ack_outcome)) return errc::protocol_violation;
    on_ack_outcome(t, ack_outcome);
    // Kept for the next ACK while data is in flight; once nothing is, a burst's worth is given back.
    if (ack_outcome.acked.capacity() > kMaxKeptAckedPackets && loss.sent_packets().bytes_in_flight() == 0) {
      ack_outcome.acked = {};
    }
    return {};
  }
  std::error_code handle(Instant, const wire::Close& close) {
    state = ConnectionState::draining;
    error = errc::connection_closed;
    closing_deadline = now + 3 * loss.pto_period(rtt);
    // A graceful close (error 0) ends the connection as TCP's close() does: what the peer sent
    // and we received stays readable while draining (nothing more arrives or is sent).
    readable_while_draining = close.error_code == kCloseNoError;
    if (!readable_while_draining) drop_application_data();
    push_event(ConnectionEvent::Kind::closed, 0, std::vector<std::uint8_t>(close.reason.begin(), close.reason.end()),
               errc::connection_closed);
    return make_error_code(errc::connection_closed);  // stop parsing
  }
  std::error_code handle(Instant, const wire::Datagram& dg) {
    // An application that does not poll cannot make us hold the peer's datagrams without bound:
    // past the cap new ones are dropped (they are unreliable) and counted.
    if (unread_datagram_events >= kMaxUnreadDatagrams) {
      ++stats.datagrams_received_dropped;
      return {};
    }
    ++unread_datagram_events;
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
      mark_path_validated();
    }
    return {};
  }
  std::error_code handle(Instant, const wire::MaxData& f) {
    streams.on_max_data(f);
    return {};
  }
  std::error_code handle(Instant, const wire::MaxStreams& f) {
    streams.on_max_streams(f);
    return {};
  }
  std::error_code handle(Instant, const wire::MaxStreamData& f) { return streams.on_max_stream_data(f); }
  std::error_code handle(Instant, const wire::StopSending& f) { return streams.on_stop_sending(f); }
  std::error_code handle(Instant t, const wire::ResetStream& f) { return streams.on_reset_stream(f, t, rtt.smoothed()); }
  std::error_code handle(Instant t, const wire::Stream& f) { return streams.on_stream(f, t, rtt.smoothed()); }

  void on_ack_outcome(Instant t, const AckOutcome& outcome) {
    acked_scratch.clear();
    acked_stream_frames.clear();
    for (const SentPacket& p : outcome.acked) {
      if (p.ack_frame_largest) received.on_ack_frame_acked(*p.ack_frame_largest);
      for (std::uint32_t k = 0; k < p.frame_count; ++k) on_frame_acked(p.first_frame + k);
      if (p.in_flight) acked_scratch.push_back(AckedPacket{p.packet_number, p.time_sent, p.size, p.rate_sample});
      pmtud.on_packet_acked(p.packet_number, p.size, t);
    }
    streams.on_acked(acked_stream_frames);
    if (cc && !acked_scratch.empty()) {
      cc->on_acks(t, acked_scratch, rtt, loss.sent_packets().bytes_in_flight(), app_limited);
    }
    on_lost(t, outcome.lost, outcome.persistent_congestion);
    // After the new losses, so that a real one among them keeps the reduction in place.
    stats.packets_spuriously_lost += outcome.spurious_losses.size();
    if (spurious_congestion.on_spurious_losses(outcome.spurious_losses) && cc) cc->on_spurious_congestion(t);
    after_mtu_change();
    pmtud.set_probe_timer(3 * loss.pto_period(rtt));
    streams.signal_writable();
    take_stream_events();
  }

  void on_lost(Instant t, const std::vector<SentPacket>& lost, bool persistent) {
    std::optional<Instant> latest_lost;
    std::vector<std::uint64_t> congestion_lost;
    for (const SentPacket& p : lost) {
      ++stats.packets_lost;
      const bool probe = pmtud.is_probe(p.packet_number);
      pmtud.on_packet_lost(p.packet_number, p.size, t);
      for (std::uint32_t k = 0; k < p.frame_count; ++k) on_frame_lost(p.first_frame + k);
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

  // The frame recorded as `number`, taken out of the record (nullopt when it is gone already).
  std::optional<SentFrame> take_sent_frame(std::uint64_t number) {
    if (number < sent_frames_base || number - sent_frames_base >= sent_frames.size()) return std::nullopt;
    std::optional<SentFrame> frame = std::move(sent_frames[number - sent_frames_base]);
    sent_frames[number - sent_frames_base].reset();
    while (!sent_frames.empty() && !sent_frames.front()) {
      sent_frames.pop_front();
      ++sent_frames_base;
    }
    release_if_emptied(sent_frames, kMaxIdleSentFrames);
    return frame;
  }

  void on_frame_acked(std::uint64_t number) {
    auto frame = take_sent_frame(number);
    if (!frame) return;
    if (auto* f = std::get_if<stream::SentStreamFrame>(&*frame)) {
      acked_stream_frames.push_back(std::move(*f));  // on_ack_outcome hands them over together
    } else {
      ours_acked = true;  // ESTABLISHED
    }
  }

  void on_frame_lost(std::uint64_t number) {
    auto frame = take_sent_frame(number);
    if (!frame) return;
    if (const auto* f = std::get_if<stream::SentStreamFrame>(&*frame)) {
      streams.on_lost(*f);
    } else if (!ours_acked) {
      established_due = true;
    }
  }

  // ---- sending ---------------------------------------------------------------------------------
  bool has_control_frames() {
    return established_due || ping_due || challenge_due || !path_responses.empty() || streams.has_control_frames();
  }

  bool wants_ack_eliciting() {
    return has_control_frames() || probes_due > 0 ||
           (state == ConnectionState::established && (streams.has_data() || !datagrams.empty()));
  }

  // A datagram that waited this long is stale: newer ones are worth more than its delivery.
  Duration max_datagram_age() const {
    if (config.max_datagram_age > Duration::zero()) return config.max_datagram_age;
    return std::max(rtt.smoothed(), kMinDatagramAge);
  }

  std::size_t max_datagram_payload() const {
    // A full datagram leaves room for the header, an ACK, the frame type and length, and the tag.
    std::size_t limit = pmtud.current() - kMaxHeader - kAckRoom - 3 - kAeadTag;
    const std::uint64_t peer_frame_limit = peer_params.max_datagram_frame_size;  // frame, not payload
    if (peer_frame_limit < limit + 3) limit = peer_frame_limit > 3 ? static_cast<std::size_t>(peer_frame_limit - 3) : 0;
    return limit;
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
    // Frame numbers are consecutive within a packet (see State::remember).
    void add_frame(std::uint64_t number) {
      if (frame_count_ == 0) first_frame_ = number;
      ++frame_count_;
    }
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
      p.first_frame = first_frame_;
      p.frame_count = frame_count_;
      if (st.loss.on_packet_sent(p, st.rtt)) return std::nullopt;
      if (st.cc) st.cc->on_packet_sent(t, st.loss.sent_packets().bytes_in_flight(), size, ack_eliciting);
      st.on_path_sent(size);
      st.last_sent = t;
      return Transmit{st.peer, size};
    }
    std::uint64_t packet_number() const { return pn_; }

   private:
    std::uint64_t pn_ = 0;
    std::uint64_t first_frame_ = 0;
    std::uint32_t frame_count_ = 0;
    std::size_t header_size_ = 0;
    std::span<std::uint8_t> out_;
    std::optional<wire::Writer> writer_;
  };

  std::uint64_t remember(SentFrame frame) {
    sent_frames.emplace_back(std::move(frame));
    return sent_frames_base + sent_frames.size() - 1;
  }

  std::optional<Transmit> send_data_packet(Instant t, std::span<std::uint8_t> out) {
    datagrams.drop_stale(t, max_datagram_age());
    const bool ack_due = received.ack_due(t);
    const bool probing = probes_due > 0;
    bool can_elicit = wants_ack_eliciting();
    // PTO probes are base-size: they get through an MTU black hole, which their ACK then reveals.
    const std::uint64_t mtu = probing ? pmtud.pto_probe_size() : pmtud.current();
    if (can_elicit && !probing) {
      const std::uint64_t cwnd = cc->congestion_window();
      if (loss.sent_packets().bytes_in_flight() + mtu > cwnd) {
        can_elicit = false;
        app_limited = false;
      } else {
        const Instant at = pacer.next_send_time(t, mtu, cc->pacing_rate_bytes_per_sec(rtt), cwnd);
        if (at > t) {
          can_elicit = false;
          pacing_wakeup = pacer.wakeup_time(t, mtu);  // a batch's worth of credit, not one datagram's
        }
      }
    } else if (!can_elicit) {
      app_limited = true;
      loss.on_app_limited();  // rate samples of what follows show what we offered, not the path
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
        const std::uint64_t largest = ack->largest();
        if (wire::encoded_size(*ack) <= w.remaining() && !wire::encode_frame(*ack, w)) {
          b.ack_largest = largest;
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
    auto put = [&](const auto& f) {
      if (wire::encoded_size(f) > w.remaining()) return false;
      if (wire::encode_frame(f, w)) return false;
      wrote = true;
      return true;
    };
    if (established_due && put(wire::Established{})) {
      established_due = false;
      established_sent_at = now;
      b.add_frame(remember(EstablishedSent{}));
    }
    while (!path_responses.empty() && put(wire::PathResponse{path_responses.front()})) path_responses.pop_front();
    if (challenge_due && challenge && put(wire::PathChallenge{*challenge})) {
      challenge_due = false;
      challenge_deadline = now + loss.pto_period(rtt);
    }
    if (ping_due && put(wire::Ping{})) ping_due = false;
    if (state != ConnectionState::established) return wrote;

    sent_scratch.clear();
    if (streams.write_control_frames(w, sent_scratch)) wrote = true;
    while (!datagrams.empty()) {
      if (datagrams.front().size() > max_datagram_payload()) {
        datagrams.drop_front();  // queued before the path MTU shrank
        continue;
      }
      wire::Datagram dg;
      dg.data = datagrams.front();
      if (!put(dg)) break;
      datagrams.pop();  // never retransmitted: no token
      ++stats.datagrams_sent;
    }
    if (streams.write_stream_frames(w, sent_scratch)) wrote = true;
    for (const auto& f : sent_scratch) b.add_frame(remember(f));
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
    if (state == ConnectionState::established && keepalive_interval > Duration::zero() && !ping_due) {
      take(last_sent + keepalive_interval);
    }
    take(loss.timeout());
    if (amplification_budget() >= kMinSendBudget) take(received.ack_deadline());
    take(pmtud.timeout());
    if (pacing_wakeup) take(pacing_wakeup);
    if (challenge) {
      if (!challenge_due) take(challenge_deadline);
      take(challenge_expiry);  // even when the amplification budget keeps the challenge from going out
    }
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
      // A peer that answered only under a wrong identity key is reported as such.
      const std::error_code rejection = driver ? driver->identity_rejection() : std::error_code{};
      fail_silently(rejection ? rejection : make_error_code(errc::handshake_timeout));
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
    if (challenge && t >= challenge_expiry) {
      abandon_path_validation();
    } else if (challenge && !challenge_due && t >= challenge_deadline) {
      challenge_due = true;  // resent every PTO until it expires
    }
    if (state == ConnectionState::established && keepalive_interval > Duration::zero() &&
        t >= last_sent + keepalive_interval) {
      ping_due = true;
    }
  }

  // A PTO probe carries the oldest unacknowledged stream data again (new packet number), so a
  // lost tail is repaired by the probe itself; new data would not repair it.
  void requeue_oldest_stream_data() {
    for (const auto& [pn, p] : loss.sent_packets().outstanding()) {
      if (!p.ack_eliciting) continue;
      for (std::uint64_t number = p.first_frame; number < p.first_frame + p.frame_count; ++number) {
        if (number < sent_frames_base || number - sent_frames_base >= sent_frames.size()) continue;
        const auto& frame = sent_frames[number - sent_frames_base];
        const auto* f = frame ? std::get_if<stream::SentStreamFrame>(&*frame) : nullptr;
        if (const auto* data = f ? std::get_if<stream::StreamDataSent>(f) : nullptr) streams.resend(*data);
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
  p.initial_max_stream_data_uni = p.initial_max_stream_data_bidi_local;
  p.initial_max_streams_bidi = std::min<std::uint64_t>(config.max_streams, wire::kMaxStreamCount);
  p.initial_max_streams_uni = std::min<std::uint64_t>(config.max_unidirectional_streams, wire::kMaxStreamCount);
  p.max_ack_delay_ms = std::min<std::uint64_t>(to_millis(config.max_ack_delay), wire::kMaxAckDelayLimitMs);
  p.max_datagram_frame_size = p.max_udp_payload_size;
  p.keepalive_interval_ms = to_millis(config.keepalive_interval);
  p.packet_aeads = offered_packet_aeads(config.aead);
  return wire::encode_transport_parameters(p);
}

namespace {
std::error_code validate_config(const ConnectionConfig& c) {
  if (c.stream_receive_window == 0 || c.connection_receive_window == 0 || c.stream_send_buffer == 0 ||
      c.stream_receive_window > c.max_receive_window || c.connection_receive_window > (std::uint64_t{1} << 40) ||
      c.max_receive_window > (std::uint64_t{1} << 32) || c.max_streams > 1u << 16 ||
      c.max_unidirectional_streams > 1u << 16 ||
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
  st->validated_peer = peer;
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
  s_->take_stream_events();
  if (s_->events.empty()) return std::nullopt;
  ConnectionEvent e = std::move(s_->events.front());
  s_->events.pop_front();
  if (e.kind == ConnectionEvent::Kind::datagram) --s_->unread_datagram_events;
  return e;
}

Result<std::uint64_t> Connection::open_stream(StreamDirection direction) {
  if (s_->is_over()) return errc::connection_closed;
  return s_->streams.open(direction);
}

Result<std::size_t> Connection::stream_write(std::uint64_t stream_id, std::span<const std::uint8_t> data) {
  if (s_->is_over()) return errc::connection_closed;
  return s_->streams.write(stream_id, data);
}

std::error_code Connection::stream_finish(std::uint64_t stream_id) {
  if (s_->is_over()) return errc::connection_closed;
  return s_->streams.finish(stream_id);
}

std::error_code Connection::stream_reset(std::uint64_t stream_id, std::uint64_t application_error) {
  if (s_->is_over()) return errc::connection_closed;
  return s_->streams.reset(stream_id, application_error);
}

std::error_code Connection::stream_stop_sending(std::uint64_t stream_id, std::uint64_t application_error) {
  if (s_->is_over()) return errc::connection_closed;
  return s_->streams.stop_sending(stream_id, application_error, s_->now, s_->rtt.smoothed());
}

std::error_code Connection::set_stream_priority(std::uint64_t stream_id, std::uint8_t urgency) {
  if (s_->is_over()) return errc::connection_closed;
  return s_->streams.set_urgency(stream_id, urgency);
}

Result<std::size_t> Connection::stream_read(std::uint64_t stream_id, std::span<std::uint8_t> out) {
  const bool readable = s_->state == ConnectionState::draining && s_->readable_while_draining;
  if (s_->is_over() && !readable) return errc::connection_closed;
  return s_->streams.read(stream_id, out, s_->now, s_->rtt.smoothed());
}

bool Connection::stream_at_end(std::uint64_t stream_id) const { return s_->streams.at_end(stream_id); }

bool Connection::has_unacknowledged_stream_data() const {
  return !s_->is_over() && s_->streams.has_unacknowledged_data();
}

std::uint64_t Connection::unread_stream_bytes() const {
  return s_->streams.flow().received() - s_->streams.flow().consumed();
}

std::error_code Connection::send_datagram(std::span<const std::uint8_t> payload) {
  State& st = *s_;
  if (st.state != ConnectionState::established) return errc::invalid_state;
  if (st.peer_params.max_datagram_frame_size == 0) return errc::invalid_state;  // the peer takes none
  if (payload.size() > max_datagram_payload()) return errc::invalid_argument;
  st.datagrams.push(payload);
  return {};
}

std::size_t Connection::max_datagram_payload() const { return s_->max_datagram_payload(); }

void Connection::close(std::uint64_t error_code, std::string_view reason) {
  State& st = *s_;
  if (st.is_over()) return;
  st.close_with(errc::connection_closed, error_code, std::string(reason.substr(0, wire::kMaxCloseReasonSize)));
}

ConnectionState Connection::state() const { return s_->state; }
std::error_code Connection::error() const { return s_->error; }
const wire::ConnectionId& Connection::local_cid() const { return s_->local_cid; }
const SocketAddress& Connection::peer_address() const { return s_->peer; }

void Connection::set_path(const SocketAddress& address) {
  State& st = *s_;
  st.follow_peer = false;
  if (address == st.peer) return;
  ++st.stats.path_migrations;
  st.peer = address;
  st.challenge.reset();
  st.challenge_due = false;
  st.mark_path_validated();
}
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
  if (st.protection) {
    out.aead = st.protection->algorithm();
    out.key_updates = st.protection->stats().key_updates;
  }
  out.packets_outstanding = st.loss.sent_packets().outstanding().size();
  out.ack_ranges = st.received.range_count();
  out.stream_receive_window = st.streams.largest_receive_window();
  out.buffered_bytes = st.streams.allocated_bytes();
  out.stream_bytes_retransmitted = st.streams.bytes_retransmitted();
  out.open_streams = st.streams.open_streams();
  out.datagrams_dropped = st.datagrams.dropped();
  out.datagrams_queued = st.datagrams.size();
  return out;
}

}  // namespace srudp::transport
