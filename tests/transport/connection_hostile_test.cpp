// transport::Connection against a hostile peer that holds the keys: a hand-driven initiator built
// from HandshakeDriver and PacketProtection that sends whatever frames and packet numbers it likes
// (optimistic ACKs, ACKs of packets never sent, packet-number jumps, huge offsets, unknown frames).
// No simulator: datagrams are handed over directly and time is advanced by hand.
#include "transport/connection.hpp"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <vector>

#include "crypto/handshake_driver.hpp"
#include "crypto/handshake_responder.hpp"
#include "wire/buffer.hpp"
#include "wire/frame.hpp"
#include "wire/packet.hpp"
#include "wire/transport_params.hpp"
#include "transport/test_data.hpp"

namespace srudp::transport {
namespace {

using std::chrono::milliseconds;

const SocketAddress kClient = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kServer = SocketAddress::v4(203, 0, 113, 2, 5000);

ConnectionConfig server_config() {
  ConnectionConfig c;
  c.handshake.psk = test::psk_from(42);
  return c;
}

// The hostile client: it completes a genuine handshake, then crafts packets by hand.
struct RawPeer {
  explicit RawPeer(std::uint64_t seed) : rng(seed) {}

  SeededRandom rng;
  std::optional<crypto::HandshakeDriver> driver;
  std::optional<crypto::PacketProtection> protection;
  wire::ConnectionId server_cid{};
  std::uint64_t next_pn = 0;
  std::optional<std::uint64_t> largest_received;
  std::vector<std::uint64_t> received_pns;
  bool saw_established = false;
  std::optional<std::uint64_t> close_code;
  std::optional<std::uint64_t> acked_largest;  // what the server's last ACK said
  std::uint64_t stream_bytes = 0;
  std::vector<wire::ResetStream> resets;
  std::uint64_t max_data = 0;  // the largest MAX_DATA the server sent
  std::uint64_t max_uni_streams = 0;  // the largest unidirectional MAX_STREAMS the server sent

  std::vector<std::uint8_t> seal(std::uint64_t pn, std::span<const std::uint8_t> plaintext) {
    wire::DataHeader h;
    h.key_phase = protection->send_key_phase();
    h.pn_length = 8;
    h.truncated_pn = pn;
    h.receiver_cid = server_cid;
    std::vector<std::uint8_t> out(wire::data_header_size(8) + plaintext.size() + wire::kAeadTagSize);
    auto hs = wire::encode_data_header(h, out);
    EXPECT_TRUE(hs);
    auto sealed = protection->seal(pn, std::span(out).first(*hs), plaintext, std::span(out).subspan(*hs));
    EXPECT_TRUE(sealed) << sealed.error().message();
    return out;
  }
  std::vector<std::uint8_t> packet(const std::vector<wire::Frame>& frames, std::optional<std::uint64_t> pn = {}) {
    std::array<std::uint8_t, 1400> plain{};
    wire::Writer w(plain);
    for (const auto& f : frames) EXPECT_FALSE(wire::encode_frame(f, w));
    const std::uint64_t number = pn ? *pn : next_pn;
    next_pn = number + 1;
    return seal(number, w.written());
  }

  void receive(std::span<const std::uint8_t> datagram) {
    auto type = wire::peek_packet_type(datagram);
    if (!type) return;
    if (*type != wire::PacketType::Data) {
      (void)driver->handle_packet(Instant{}, kServer, datagram);
      if (!protection && driver->is_complete()) {
        auto outcome = driver->take_outcome();
        ASSERT_TRUE(outcome);
        server_cid = outcome->peer_cid;
        crypto::PacketProtectionConfig pp;
        pp.send_secret = std::move(outcome->send_secret);
        pp.receive_secret = std::move(outcome->receive_secret);
        pp.algorithm = crypto::AeadAlgorithm::chacha20_poly1305;
        auto created = crypto::PacketProtection::create(std::move(pp));
        ASSERT_TRUE(created);
        protection.emplace(std::move(*created));
      }
      return;
    }
    if (!protection) return;
    auto h = wire::decode_data_header(datagram);
    if (!h) return;
    const std::uint64_t pn = wire::decode_packet_number(largest_received, h->truncated_pn, h->pn_length * 8u);
    std::array<std::uint8_t, 2048> plain{};
    auto opened = protection->open(pn, h->key_phase, datagram.first(h->header_size), datagram.subspan(h->header_size),
                                   plain);
    if (!opened) return;
    if (!largest_received || pn > *largest_received) largest_received = pn;
    received_pns.push_back(pn);
    (void)wire::parse_frames(std::span<const std::uint8_t>(plain.data(), opened->size), [&](wire::Frame&& f) {
      if (std::holds_alternative<wire::Established>(f)) saw_established = true;
      if (auto* c = std::get_if<wire::Close>(&f)) close_code = c->error_code;
      if (auto* a = std::get_if<wire::Ack>(&f)) acked_largest = a->largest();
      if (auto* s = std::get_if<wire::Stream>(&f)) stream_bytes += s->data.size();
      if (auto* r = std::get_if<wire::ResetStream>(&f)) resets.push_back(*r);
      if (auto* m = std::get_if<wire::MaxData>(&f)) max_data = std::max(max_data, m->max);
      if (auto* m = std::get_if<wire::MaxStreams>(&f); m && !m->bidirectional) {
        max_uni_streams = std::max(max_uni_streams, m->max);
      }
    });
  }

  // An honest ACK of everything received (one range per contiguous run).
  wire::Ack honest_ack() const {
    std::vector<std::uint64_t> pns = received_pns;
    std::sort(pns.begin(), pns.end(), std::greater<>());
    pns.erase(std::unique(pns.begin(), pns.end()), pns.end());
    wire::Ack ack;
    for (std::uint64_t pn : pns) {
      if (!ack.ranges.empty() && ack.ranges.back().smallest == pn + 1) {
        ack.ranges.back().smallest = pn;
      } else if (ack.ranges.size() < 200) {
        ack.ranges.push_back({pn, pn});
      }
    }
    return ack;
  }
};

// What the raw client announces by default. It protects its packets with ChaCha20-Poly1305, so it
// announces only that one.
std::vector<std::uint8_t> raw_client_parameters() {
  ConnectionConfig c;
  c.aead = crypto::AeadAlgorithm::chacha20_poly1305;
  return Connection::handshake_payload(c);
}

// The server Connection and the raw client, wired back to back.
struct Harness {
  // `client_parameters`: the transport parameters the raw client announces.
  explicit Harness(std::uint64_t seed, ConnectionConfig config = server_config(),
                   std::vector<std::uint8_t> client_parameters = raw_client_parameters())
      : peer(seed), rng(seed + 1) {
    crypto::HandshakeConfig client_hs;
    client_hs.psk = test::psk_from(42);
    client_hs.payload = std::move(client_parameters);
    auto d = crypto::HandshakeDriver::connect(client_hs, kServer, now, peer.rng);
    EXPECT_TRUE(d);
    peer.driver.emplace(std::move(*d));
    std::array<std::uint8_t, 2048> buf{};
    auto n = peer.driver->poll_transmit(now, buf);
    EXPECT_TRUE(n);
    auto hc = config.handshake.clone();
    hc.payload = Connection::handshake_payload(config);
    crypto::HandshakeResponder responder(std::move(hc), {}, rng);
    wire::ConnectionId cid{};
    rng.fill(cid);
    auto decision = responder.on_initiation(now, kClient, std::span(buf).first(*n), 0, cid);
    auto* accept = std::get_if<crypto::HandshakeResponder::Accept>(&decision);
    EXPECT_NE(accept, nullptr);
    auto c = Connection::accept(std::move(config), std::move(accept->handshake), kClient, *n, now, rng);
    EXPECT_TRUE(c);
    conn.emplace(std::move(*c));
    flush();
    // Confirm: ESTABLISHED plus an honest ACK.
    EXPECT_TRUE(peer.protection.has_value());
    EXPECT_TRUE(peer.saw_established);
    send({peer.honest_ack(), wire::Established{}});
    flush();
    EXPECT_TRUE(conn->is_established());
  }

  // Delivers everything the server wants to send now to the raw peer; returns the count.
  std::size_t flush(std::size_t max = 100000) {
    std::size_t count = 0;
    std::array<std::uint8_t, 2048> buf{};
    while (count < max) {
      auto t = conn->poll_transmit(now, buf);
      if (!t) break;
      peer.receive(std::span(buf).first(t->size));
      ++count;
    }
    return count;
  }
  void send(const std::vector<wire::Frame>& frames, std::optional<std::uint64_t> pn = {}) {
    auto p = peer.packet(frames, pn);
    conn->handle_datagram(now, kClient, p);
  }
  void advance(Duration d) {
    now += d;
    if (auto t = conn->poll_timeout(); t && *t <= now) conn->handle_timeout(now);
  }

  Instant now{std::chrono::hours(1)};
  RawPeer peer;
  SeededRandom rng;
  std::optional<Connection> conn;
};

// Caught within 256 packets, for every seed (the first skipped number is drawn anew for each).
class OptimisticAck : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(OptimisticAck, IsCaughtWithin256Packets) {
  Harness h(GetParam());
  auto id = h.conn->open_stream();
  ASSERT_TRUE(id);
  std::vector<std::uint8_t> data(2 << 20, 0x5a);
  std::size_t written = 0;
  // The peer acknowledges every number up to the newest it saw, whether it arrived or not, and
  // a few beyond: that covers the numbers the sender skipped on purpose.
  for (int round = 0; round < 2000 && h.conn->state() == ConnectionState::established; ++round) {
    if (written < data.size()) {
      auto n = h.conn->stream_write(*id, std::span(data).subspan(written));
      if (n) written += *n;
    }
    h.flush(8);
    if (h.peer.largest_received) {
      wire::Ack ack;
      ack.ranges.push_back({0, *h.peer.largest_received});
      h.send({ack, wire::Ping{}});
    }
    h.advance(milliseconds(1));
  }
  EXPECT_EQ(h.conn->error(), errc::protocol_violation);
  EXPECT_EQ(h.conn->state(), ConnectionState::closing);
  h.flush();
  ASSERT_TRUE(h.peer.close_code.has_value());
  EXPECT_EQ(*h.peer.close_code, kCloseProtocolViolation);
  EXPECT_LE(h.conn->stats().packets_sent, 256u);
}

INSTANTIATE_TEST_SUITE_P(ConnectionHostile, OptimisticAck, ::testing::Range<std::uint64_t>(1, 21));

TEST(ConnectionHostile, AckOfPacketsNeverSentClosesTheConnection) {
  Harness h(2);
  wire::Ack ack;
  ack.ranges.push_back({0, 1'000'000});
  h.send({ack});
  EXPECT_EQ(h.conn->error(), errc::protocol_violation);
  h.flush();
  ASSERT_TRUE(h.peer.close_code.has_value());
}

TEST(ConnectionHostile, PacketNumberJumpsCostNoLoopAndNoMemory) {
  Harness h(3);
  std::uint64_t pn = h.peer.next_pn;
  for (int i = 0; i < 1000; ++i) {
    pn += std::uint64_t{1} << 30;
    h.send({wire::Ping{}}, pn);
    h.advance(milliseconds(30));  // the delayed ACK goes out
    h.flush();
  }
  ASSERT_TRUE(h.conn->is_established());
  ASSERT_TRUE(h.peer.acked_largest.has_value());
  EXPECT_EQ(*h.peer.acked_largest, pn);
  const auto stats = h.conn->stats();
  EXPECT_LE(stats.ack_ranges, wire::kMaxAckRanges);
  EXPECT_LE(stats.packets_outstanding, 1100u);
}

TEST(ConnectionHostile, HugeStreamOffsetIsAFlowControlViolationWithoutAllocation) {
  Harness h(4);
  std::array<std::uint8_t, 10> bytes{};
  wire::Stream s;
  s.stream_id = 0;  // the client's first bidirectional stream
  s.offset = wire::kMaxStreamOffset - 100;
  s.data = bytes;
  h.send({s});
  EXPECT_EQ(h.conn->error(), errc::protocol_violation);
  EXPECT_LT(h.conn->stats().buffered_bytes, 1u << 20);
}

TEST(ConnectionHostile, StreamBeyondTheLimitAndServerStreamsNeverOpenedAreViolations) {
  {
    Harness h(5);
    std::array<std::uint8_t, 4> bytes{1, 2, 3, 4};
    wire::Stream s;
    s.stream_id = 4 * 100;  // the 101st client stream: the limit is 100
    s.data = bytes;
    h.send({s});
    EXPECT_EQ(h.conn->error(), errc::protocol_violation);
  }
  {
    Harness h(6);
    wire::MaxStreamData m{1, 1000};  // stream 1: the server's, never opened
    h.send({m});
    EXPECT_EQ(h.conn->error(), errc::protocol_violation);
  }
}

TEST(ConnectionHostile, UnknownFrameTypeIsAProtocolViolation) {
  Harness h(7);
  const std::array<std::uint8_t, 3> plain{0x3f, 0, 0};
  auto p = h.peer.seal(h.peer.next_pn++, plain);
  h.conn->handle_datagram(h.now, kClient, p);
  EXPECT_EQ(h.conn->error(), errc::protocol_violation);
}

TEST(ConnectionHostile, ForgedAndReplayedPacketsAreDroppedQuietly) {
  Harness h(8);
  auto p = h.peer.packet({wire::Ping{}});
  h.conn->handle_datagram(h.now, kClient, p);
  h.conn->handle_datagram(h.now, kClient, p);  // replay
  auto forged = h.peer.packet({wire::Ping{}});
  forged[forged.size() - 1] ^= 0x80;
  h.conn->handle_datagram(h.now, kClient, forged);
  std::vector<std::uint8_t> junk(1200, 0x80);
  h.conn->handle_datagram(h.now, kClient, junk);
  EXPECT_TRUE(h.conn->is_established());
  const auto stats = h.conn->stats();
  EXPECT_EQ(stats.dropped_replayed, 1u);
  EXPECT_EQ(stats.dropped_unauthenticated, 1u);
}

TEST(ConnectionHostile, StreamDataFromThePeerIsDelivered) {
  Harness h(9);
  std::array<std::uint8_t, 5> bytes{'h', 'e', 'l', 'l', 'o'};
  wire::Stream s;
  s.stream_id = 0;
  s.data = bytes;
  s.fin = true;
  h.send({s});
  bool opened = false, readable = false;
  while (auto e = h.conn->poll_event()) {
    opened |= e->kind == ConnectionEvent::Kind::stream_opened && e->stream_id == 0;
    readable |= e->kind == ConnectionEvent::Kind::stream_readable && e->stream_id == 0;
  }
  EXPECT_TRUE(opened);
  EXPECT_TRUE(readable);
  std::array<std::uint8_t, 16> out{};
  auto n = h.conn->stream_read(0, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 5u);
  EXPECT_TRUE(h.conn->stream_at_end(0));
}

// The peer fills the whole connection window on streams nobody reads, then resets them: the
// reset returns their credit (their data is discarded) and MAX_DATA lets the peer send on, so the
// connection does not stall on credit. A read of a stream never opened says so.
TEST(ConnectionHostile, ResetStreamsReturnConnectionCredit) {
  ConnectionConfig config = server_config();
  config.connection_receive_window = 64 * 1024;
  config.stream_receive_window = 16 * 1024;
  Harness h(44, config);
  std::vector<std::uint8_t> chunk(1000, 7);
  std::uint64_t total = 0;
  for (std::uint64_t stream = 0; stream < 4 * 4; stream += 4) {  // four client streams: 0, 4, 8, 12
    for (std::uint64_t offset = 0; offset < 16 * 1000; offset += 1000) {
      wire::Stream s;
      s.stream_id = stream;
      s.offset = offset;
      s.data = chunk;
      h.send({s});
      total += chunk.size();
    }
  }
  ASSERT_TRUE(h.conn->is_established());
  EXPECT_EQ(total, 64'000u);
  h.advance(milliseconds(30));
  h.flush();
  const std::uint64_t before = h.peer.max_data;
  EXPECT_LT(before, total + 16 * 1024);  // nothing was read: no new credit yet
  for (std::uint64_t stream = 0; stream < 16; stream += 4) {
    h.send({wire::ResetStream{stream, 9, 16'000}});
  }
  h.advance(milliseconds(30));
  h.flush();
  EXPECT_GE(h.peer.max_data, total + 32 * 1024);  // the discarded bytes count as consumed
  ASSERT_TRUE(h.conn->is_established());
  // The credit is real: another 16 KB on a new stream is accepted.
  for (std::uint64_t offset = 0; offset < 16 * 1000; offset += 1000) {
    wire::Stream s;
    s.stream_id = 16;
    s.offset = offset;
    s.data = chunk;
    h.send({s});
  }
  EXPECT_TRUE(h.conn->is_established());
  std::array<std::uint8_t, 64> out{};
  EXPECT_EQ(h.conn->stream_read(0, out).error(), errc::stream_reset);
  EXPECT_EQ(h.conn->stream_read(40, out).error(), errc::unknown_stream);   // never opened
  EXPECT_EQ(h.conn->stream_read(1, out).error(), errc::unknown_stream);    // ours, never opened
  auto n = h.conn->stream_read(16, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, out.size());
}

TEST(ConnectionHostile, FramesOnTheWrongHalfOfAUnidirectionalStreamAreViolations) {
  {
    Harness h(10);
    h.send({wire::StopSending{2, 0}});  // stream 2: the client's unidirectional one, the server only reads it
    EXPECT_EQ(h.conn->error(), errc::protocol_violation);
  }
  {
    Harness h(11);
    auto id = h.conn->open_stream(StreamDirection::unidirectional);
    ASSERT_TRUE(id);
    EXPECT_EQ(*id, 3u);
    std::array<std::uint8_t, 4> bytes{1, 2, 3, 4};
    wire::Stream s;
    s.stream_id = *id;  // data on a stream only the server may send on
    s.data = bytes;
    h.send({s});
    EXPECT_EQ(h.conn->error(), errc::protocol_violation);
  }
}

TEST(ConnectionHostile, UnidirectionalStreamsBeyondTheirOwnLimitAreViolations) {
  ConnectionConfig config = server_config();
  config.max_unidirectional_streams = 2;
  Harness h(12, std::move(config));
  std::array<std::uint8_t, 4> bytes{1, 2, 3, 4};
  wire::Stream s;
  s.data = bytes;
  s.stream_id = 6;  // the second client unidirectional stream: allowed
  h.send({s});
  ASSERT_TRUE(h.conn->is_established());
  s.stream_id = 10;  // the third
  h.send({s});
  EXPECT_EQ(h.conn->error(), errc::protocol_violation);
}

// The peer opens 10^5 streams, as fast as the server's MAX_STREAMS lets it, each carrying a few
// bytes and its FIN, 40 to a packet; the application reads only when the peer is held at the limit.
// Memory stays flat: never more than the limit are open at once, and streams are retired once read.
TEST(ConnectionHostile, AHundredThousandStreamOpensKeepMemoryFlat) {
  constexpr std::uint64_t kStreams = 100'000;
  Harness h(46);
  h.peer.max_uni_streams = server_config().max_unidirectional_streams;  // the transport parameter
  const std::array<std::uint8_t, 3> bytes{'a', 'b', 'c'};
  std::uint64_t opened = 0, bytes_read = 0, finished = 0;
  std::uint64_t most_open = 0, most_buffered = 0;
  std::array<std::uint8_t, 16> out{};
  for (int round = 0; round < 100'000 && finished < kStreams && h.conn->is_established(); ++round) {
    std::vector<wire::Frame> frames;
    while (frames.size() < 40 && opened < std::min(kStreams, h.peer.max_uni_streams)) {
      wire::Stream s;
      s.stream_id = 4 * opened + 2;  // the client's unidirectional streams
      s.data = bytes;
      s.fin = true;
      frames.emplace_back(s);
      ++opened;
    }
    frames.emplace_back(h.peer.honest_ack());
    h.send(frames);
    const ConnectionStats stats = h.conn->stats();  // before the application reads
    most_open = std::max(most_open, stats.open_streams);
    most_buffered = std::max(most_buffered, stats.buffered_bytes);
    // A slow application: it reads only once the peer can open no more.
    const bool blocked = opened == std::min(kStreams, h.peer.max_uni_streams);
    while (auto e = blocked ? h.conn->poll_event() : std::nullopt) {
      if (e->kind != ConnectionEvent::Kind::stream_readable) continue;
      while (true) {
        const auto n = h.conn->stream_read(e->stream_id, out);
        if (!n || *n == 0) break;
        bytes_read += *n;
      }
      if (h.conn->stream_at_end(e->stream_id)) ++finished;
    }
    h.advance(milliseconds(1));
    h.flush();
  }
  ASSERT_TRUE(h.conn->is_established()) << h.conn->error().message();
  EXPECT_EQ(finished, kStreams);
  EXPECT_EQ(bytes_read, 3 * kStreams);
  EXPECT_GE(h.peer.max_uni_streams, kStreams);
  EXPECT_LE(most_open, server_config().max_unidirectional_streams);
  EXPECT_LT(most_buffered, server_config().max_unidirectional_streams * 8 * 1024);
  std::printf("  10^5 streams: at most %llu open at once, %llu bytes buffered\n",
              static_cast<unsigned long long>(most_open), static_cast<unsigned long long>(most_buffered));
}

TEST(ConnectionHostile, ResetBeyondTheConnectionLimitIsAFlowControlError) {
  Harness h(13);
  h.send({wire::ResetStream{0, 1, std::uint64_t{1} << 40}});
  EXPECT_EQ(h.conn->error(), errc::protocol_violation);
  h.flush();
  ASSERT_TRUE(h.peer.close_code.has_value());
  EXPECT_EQ(*h.peer.close_code, kCloseFlowControlError);
  EXPECT_LT(h.conn->stats().buffered_bytes, 1u << 20);
}

TEST(ConnectionHostile, StopSendingIsAnsweredWithAResetCarryingItsCode) {
  Harness h(14);
  std::array<std::uint8_t, 1> one{1};
  wire::Stream open;
  open.stream_id = 0;
  open.data = one;
  h.send({open});
  std::vector<std::uint8_t> data(100'000, 0x33);
  ASSERT_TRUE(h.conn->stream_write(0, data));
  h.flush(3);
  ASSERT_GT(h.peer.stream_bytes, 0u);
  h.send({h.peer.honest_ack(), wire::StopSending{0, 5}});
  bool stopped = false;
  while (auto e = h.conn->poll_event()) {
    stopped |= e->kind == ConnectionEvent::Kind::stream_stopped && e->stream_id == 0 && e->application_error == 5;
  }
  EXPECT_TRUE(stopped);
  EXPECT_EQ(h.conn->stream_write(0, data).error(), errc::stream_stopped);
  const auto before = h.peer.stream_bytes;
  h.flush();
  ASSERT_EQ(h.peer.resets.size(), 1u);
  EXPECT_EQ(h.peer.resets[0].stream_id, 0u);
  EXPECT_EQ(h.peer.resets[0].error_code, 5u);
  EXPECT_EQ(h.peer.resets[0].final_size, before);  // everything sent before the reset, no more
  EXPECT_EQ(h.peer.stream_bytes, before);
  EXPECT_TRUE(h.conn->is_established());
}

// An application that never polls: the peer's datagrams wait up to a cap (256), then new ones are
// dropped and counted; memory does not grow with what the peer sends.
TEST(ConnectionHostile, UnreadDatagramsAreCappedAndCounted) {
  Harness h(45);
  while (h.conn->poll_event()) {
  }
  const std::array<std::uint8_t, 100> payload{};
  for (int i = 0; i < 1000; ++i) h.send({wire::Datagram{payload}});
  std::size_t datagrams = 0;
  while (auto e = h.conn->poll_event()) datagrams += e->kind == ConnectionEvent::Kind::datagram;
  EXPECT_EQ(datagrams, 256u);
  EXPECT_EQ(h.conn->stats().datagrams_received_dropped, 744u);
  // Read ones free their places.
  for (int i = 0; i < 10; ++i) h.send({wire::Datagram{payload}});
  datagrams = 0;
  while (auto e = h.conn->poll_event()) datagrams += e->kind == ConnectionEvent::Kind::datagram;
  EXPECT_EQ(datagrams, 10u);
}

// ---- the peer's transport parameters are clamped ------------------------------------------------

std::vector<std::uint8_t> client_parameters(void (*change)(wire::TransportParameters&)) {
  wire::TransportParameters p;
  change(p);
  return wire::encode_transport_parameters(p);
}

// The peer announces a 1 ms idle timeout: ours becomes the floor (3 s), not 1 ms, and our
// keepalives come at least twice per idle period, so an idle connection whose peer answers them
// lives on; one whose peer falls silent ends after the floor.
TEST(ConnectionHostile, PeerCannotShrinkOurIdleTimeoutBelowTheFloorOrOurKeepalives) {
  Harness h(40, server_config(), client_parameters([](wire::TransportParameters& p) { p.max_idle_timeout_ms = 1; }));
  std::size_t answered = 0;
  Instant last_answer = h.now;
  for (int i = 0; i < 200; ++i) {  // 20 s of an idle connection whose peer acknowledges
    h.advance(milliseconds(100));
    h.flush();
    if (h.peer.received_pns.size() > answered) {
      answered = h.peer.received_pns.size();
      h.send({h.peer.honest_ack()});
      last_answer = h.now;
    }
    ASSERT_TRUE(h.conn->is_established()) << "closed after " << (i + 1) * 100 << " ms: " << h.conn->error().message();
  }
  EXPECT_GE(answered, 6u);  // keepalives at most 1.5 s apart
  // Now the peer is silent: the connection ends the floor after its last word, not 1 ms after.
  const Instant silent = last_answer;
  while (h.conn->is_established() && h.now - silent < std::chrono::seconds(10)) {
    h.advance(milliseconds(50));
    h.flush();
  }
  EXPECT_EQ(h.conn->error(), errc::connection_timed_out);
  EXPECT_GE(h.now - silent, std::chrono::seconds(3));
  EXPECT_LE(h.now - silent, std::chrono::milliseconds(3100));
}

TEST(ConnectionHostile, PeersDatagramFrameLimitIsHonoured) {
  Harness small(41, server_config(),
                client_parameters([](wire::TransportParameters& p) { p.max_datagram_frame_size = 100; }));
  EXPECT_LE(small.conn->max_datagram_payload(), 97u);
  EXPECT_FALSE(small.conn->send_datagram(std::vector<std::uint8_t>(small.conn->max_datagram_payload(), 1)));
  EXPECT_EQ(small.conn->send_datagram(std::vector<std::uint8_t>(small.conn->max_datagram_payload() + 1, 1)),
            errc::invalid_argument);
  Harness none(42, server_config(),
               client_parameters([](wire::TransportParameters& p) { p.max_datagram_frame_size = 0; }));
  EXPECT_EQ(none.conn->send_datagram(std::vector<std::uint8_t>(10, 1)), errc::invalid_state);
}

// A handshake whose peer announced no transport parameters at all does not start a connection on
// assumed defaults.
TEST(ConnectionHostile, EmptyTransportParametersAreAProtocolViolation) {
  SeededRandom client_rng(43), rng(44);
  const Instant now{};
  crypto::HandshakeConfig client_hs;
  client_hs.psk = test::psk_from(42);  // and no payload
  auto d = crypto::HandshakeDriver::connect(client_hs, kServer, now, client_rng);
  ASSERT_TRUE(d);
  std::array<std::uint8_t, 2048> buf{};
  auto n = d->poll_transmit(now, buf);
  ASSERT_TRUE(n);
  ConnectionConfig config = server_config();
  auto hc = config.handshake.clone();
  hc.payload = Connection::handshake_payload(config);
  crypto::HandshakeResponder responder(std::move(hc), {}, rng);
  auto decision = responder.on_initiation(now, kClient, std::span(buf).first(*n), 0, wire::ConnectionId{5});
  auto* accept = std::get_if<crypto::HandshakeResponder::Accept>(&decision);
  ASSERT_NE(accept, nullptr);
  auto c = Connection::accept(std::move(config), std::move(accept->handshake), kClient, *n, now, rng);
  if (!c) {
    EXPECT_EQ(c.error(), errc::protocol_violation);
    return;
  }
  EXPECT_EQ(c->state(), ConnectionState::closed);
  EXPECT_EQ(c->error(), errc::protocol_violation);
}

}  // namespace
}  // namespace srudp::transport
