// Two ConnectionStreams back to back: the frames one writes are decoded and handed to the other,
// and acknowledged at once (a perfect network), so each test checks the stream layer's meaning of
// frames (events, errors, credit) without a connection around it.
#include "stream/connection_streams.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace srudp::stream {
namespace {

using std::chrono::milliseconds;
const Instant kNow{std::chrono::hours(1)};
const Duration kRtt = milliseconds(20);
using Kind = StreamEvent::Kind;

ConnectionStreams::Config config(std::uint64_t max_bidi = 4, std::uint64_t max_uni = 4) {
  ConnectionStreams::Config c;
  c.send_capacity = 64 * 1024;
  c.stream_receive_window = 64 * 1024;
  c.connection_receive_window = 256 * 1024;
  c.max_receive_window = 1 << 20;
  c.max_bidi_streams = max_bidi;
  c.max_uni_streams = max_uni;
  return c;
}

ConnectionStreams::PeerLimits limits_of(const ConnectionStreams::Config& c) {
  const auto w = c.stream_receive_window;
  return {{w, w, w, c.max_bidi_streams, c.max_uni_streams}, c.connection_receive_window};
}

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 31 + seed);
  return v;
}

struct Pair {
  explicit Pair(ConnectionStreams::Config client_config = config(), ConnectionStreams::Config server_config = config())
      : client(client_config), server(server_config) {
    client.start(Role::client, limits_of(server_config));
    server.start(Role::server, limits_of(client_config));
  }

  // Moves one packet of at most `room` bytes from `from` to `to`, acknowledged at once. Returns
  // the frames it carried (empty: nothing to send).
  std::vector<wire::Frame> packet(ConnectionStreams& from, ConnectionStreams& to, std::size_t room = 1200) {
    std::vector<std::uint8_t> buf(room);
    wire::Writer w(buf);
    std::vector<SentStreamFrame> sent;
    from.write_control_frames(w, sent);
    from.write_stream_frames(w, sent);
    std::vector<wire::Frame> frames;
    if (w.position() == 0) return frames;
    const std::vector<std::uint8_t> payload(w.written().begin(), w.written().end());
    EXPECT_FALSE(wire::parse_frames(payload, [&](wire::Frame&& f) -> std::error_code {
      frames.push_back(f);
      return deliver(f, to);
    }));
    from.on_acked(sent);
    from.signal_writable();
    return frames;
  }
  std::error_code deliver(const wire::Frame& frame, ConnectionStreams& to) {
    if (auto* f = std::get_if<wire::Stream>(&frame)) return to.on_stream(*f, kNow, kRtt);
    if (auto* f = std::get_if<wire::ResetStream>(&frame)) return to.on_reset_stream(*f, kNow, kRtt);
    if (auto* f = std::get_if<wire::StopSending>(&frame)) return to.on_stop_sending(*f);
    if (auto* f = std::get_if<wire::MaxStreamData>(&frame)) return to.on_max_stream_data(*f);
    if (auto* f = std::get_if<wire::MaxData>(&frame)) to.on_max_data(*f);
    if (auto* f = std::get_if<wire::MaxStreams>(&frame)) to.on_max_streams(*f);
    return {};
  }
  // Exchanges packets both ways until neither side has anything to send.
  void settle() {
    for (int i = 0; i < 10000; ++i) {
      const bool a = !packet(client, server).empty();
      const bool b = !packet(server, client).empty();
      if (!a && !b) return;
    }
    ADD_FAILURE() << "never settled";
  }
  static std::vector<StreamEvent> events(ConnectionStreams& s) {
    std::vector<StreamEvent> out;
    while (auto e = s.poll_event()) out.push_back(*e);
    return out;
  }
  static std::vector<std::uint8_t> read_all(ConnectionStreams& s, std::uint64_t id) {
    std::vector<std::uint8_t> out;
    std::array<std::uint8_t, 4096> buf{};
    while (true) {
      auto n = s.read(id, buf, kNow, kRtt);
      if (!n || *n == 0) break;
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    return out;
  }

  ConnectionStreams client;
  ConnectionStreams server;
};

bool has(const std::vector<StreamEvent>& events, Kind kind, std::uint64_t id, std::uint64_t code = 0) {
  for (const auto& e : events) {
    if (e.kind == kind && e.stream_id == id && e.application_error == code) return true;
  }
  return false;
}

TEST(ConnectionStreams, NothingBeforeStart) {
  ConnectionStreams s(config());
  EXPECT_EQ(s.open(StreamDirection::bidirectional).error(), errc::invalid_state);
}

TEST(ConnectionStreams, BidirectionalExchangeThenBothSidesRetireAndTheSlotReturns) {
  Pair p(config(), config(1, 1));  // the server lets the client have one stream of each kind at a time
  const auto request = bytes(10000, 1);
  const auto reply = bytes(20000, 2);
  const std::uint64_t id = *p.client.open(StreamDirection::bidirectional);
  EXPECT_EQ(p.client.open(StreamDirection::bidirectional).error(), errc::stream_limit_reached);
  ASSERT_EQ(*p.client.write(id, request), request.size());
  ASSERT_FALSE(p.client.finish(id));
  p.settle();
  auto ev = Pair::events(p.server);
  EXPECT_TRUE(has(ev, Kind::opened, id));
  EXPECT_TRUE(has(ev, Kind::readable, id));
  EXPECT_EQ(Pair::read_all(p.server, id), request);
  EXPECT_TRUE(p.server.at_end(id));
  ASSERT_EQ(*p.server.write(id, reply), reply.size());
  ASSERT_FALSE(p.server.finish(id));
  p.settle();
  EXPECT_EQ(p.server.open_streams(), 0u);  // both halves over at the server: retired
  EXPECT_EQ(Pair::read_all(p.client, id), reply);
  EXPECT_TRUE(p.client.at_end(id));
  p.settle();
  EXPECT_EQ(p.client.open_streams(), 0u);
  EXPECT_TRUE(has(Pair::events(p.client), Kind::available, 0));  // MAX_STREAMS after the refusal
  EXPECT_EQ(*p.client.open(StreamDirection::bidirectional), 4u);
  EXPECT_TRUE(p.client.at_end(id));  // retired streams read to the end stay at their end
}

TEST(ConnectionStreams, UnidirectionalStreamsBothWays) {
  Pair p;
  const std::uint64_t up = *p.client.open(StreamDirection::unidirectional);
  const std::uint64_t down = *p.server.open(StreamDirection::unidirectional);
  EXPECT_EQ(up, 2u);
  EXPECT_EQ(down, 3u);
  ASSERT_EQ(*p.client.write(up, bytes(3000, 3)), 3000u);
  ASSERT_FALSE(p.client.finish(up));
  ASSERT_EQ(*p.server.write(down, bytes(4000, 4)), 4000u);
  ASSERT_FALSE(p.server.finish(down));
  p.settle();
  EXPECT_EQ(Pair::read_all(p.server, up), bytes(3000, 3));
  EXPECT_EQ(Pair::read_all(p.client, down), bytes(4000, 4));
  // Each side has one half only.
  std::array<std::uint8_t, 8> buf{};
  EXPECT_EQ(p.client.read(up, buf, kNow, kRtt).error(), errc::invalid_state);
  EXPECT_EQ(p.server.write(up, bytes(1, 0)).error(), errc::invalid_state);
  EXPECT_EQ(p.server.stop_sending(down, 1, kNow, kRtt), errc::invalid_state);
  EXPECT_EQ(p.client.reset(down, 1), errc::invalid_state);
  p.settle();
  EXPECT_EQ(p.client.open_streams(), 0u);
  EXPECT_EQ(p.server.open_streams(), 0u);
}

TEST(ConnectionStreams, ResetReachesThePeerAndLeavesOtherStreamsAlone) {
  Pair p;
  const std::uint64_t doomed = *p.client.open(StreamDirection::bidirectional);
  const std::uint64_t fine = *p.client.open(StreamDirection::bidirectional);
  ASSERT_EQ(*p.client.write(doomed, bytes(5000, 5)), 5000u);
  ASSERT_EQ(*p.client.write(fine, bytes(5000, 6)), 5000u);
  (void)p.packet(p.client, p.server, 2000);  // part of it arrives
  ASSERT_FALSE(p.client.reset(doomed, 99));
  EXPECT_FALSE(p.client.reset(doomed, 100));  // once is enough; no error
  EXPECT_EQ(p.client.write(doomed, bytes(1, 0)).error(), errc::stream_stopped);
  ASSERT_FALSE(p.client.finish(fine));
  p.settle();
  auto ev = Pair::events(p.server);
  EXPECT_TRUE(has(ev, Kind::reset, doomed, 99));
  std::array<std::uint8_t, 64> buf{};
  EXPECT_EQ(p.server.read(doomed, buf, kNow, kRtt).error(), errc::stream_reset);
  EXPECT_EQ(Pair::read_all(p.server, fine), bytes(5000, 6));
  // The server finishes its halves; everything retires on both sides.
  ASSERT_FALSE(p.server.finish(doomed));
  ASSERT_FALSE(p.server.finish(fine));
  p.settle();
  EXPECT_TRUE(p.client.at_end(doomed));
  EXPECT_TRUE(p.client.at_end(fine));
  p.settle();
  EXPECT_EQ(p.server.open_streams(), 0u);
  EXPECT_EQ(p.client.open_streams(), 0u);
  // The discarded bytes count as consumed: connection credit is not lost with them.
  EXPECT_EQ(p.server.flow().consumed(), p.server.flow().received());
}

TEST(ConnectionStreams, StopSendingMakesThePeerResetWithTheSameCode) {
  Pair p;
  const std::uint64_t id = *p.client.open(StreamDirection::bidirectional);
  ASSERT_EQ(*p.client.write(id, bytes(60000, 7)), 60000u);
  (void)p.packet(p.client, p.server);
  (void)Pair::events(p.server);
  ASSERT_FALSE(p.server.stop_sending(id, 33, kNow, kRtt));
  std::array<std::uint8_t, 64> buf{};
  EXPECT_EQ(p.server.read(id, buf, kNow, kRtt).error(), errc::stream_stopped);
  p.settle();
  auto ev = Pair::events(p.client);
  EXPECT_TRUE(has(ev, Kind::stopped, id, 33));
  EXPECT_EQ(p.client.write(id, bytes(1, 0)).error(), errc::stream_stopped);
  EXPECT_EQ(p.client.finish(id), errc::stream_stopped);
  // The server's receive half is over (the reset told it the final size); its send half is not.
  EXPECT_EQ(p.server.open_streams(), 1u);
  ASSERT_FALSE(p.server.finish(id));
  p.settle();
  EXPECT_TRUE(p.client.at_end(id));
  p.settle();
  EXPECT_EQ(p.server.open_streams(), 0u);
  EXPECT_EQ(p.client.open_streams(), 0u);
  EXPECT_LT(p.server.flow().received(), 60000u);  // the sender stopped early
  EXPECT_EQ(p.server.flow().consumed(), p.server.flow().received());
}

TEST(ConnectionStreams, MostUrgentStreamGoesFirstAndEqualOnesTakeTurns) {
  Pair p;
  const std::uint64_t bulk_a = *p.client.open(StreamDirection::bidirectional);
  const std::uint64_t bulk_b = *p.client.open(StreamDirection::bidirectional);
  const std::uint64_t urgent = *p.client.open(StreamDirection::bidirectional);
  ASSERT_EQ(*p.client.write(bulk_a, bytes(20000, 1)), 20000u);
  ASSERT_EQ(*p.client.write(bulk_b, bytes(20000, 2)), 20000u);
  auto first = p.packet(p.client, p.server);
  ASSERT_FALSE(p.client.set_urgency(urgent, 0));
  EXPECT_EQ(p.client.set_urgency(urgent, 8), errc::invalid_argument);
  EXPECT_EQ(p.client.set_urgency(400, 1), errc::invalid_argument);
  ASSERT_EQ(*p.client.write(urgent, bytes(100, 3)), 100u);
  std::vector<std::uint64_t> order;
  for (int i = 0; i < 6; ++i) {
    for (const auto& f : p.packet(p.client, p.server)) {
      if (auto* s = std::get_if<wire::Stream>(&f)) order.push_back(s->stream_id);
    }
  }
  ASSERT_GE(order.size(), 6u);
  EXPECT_EQ(order[0], urgent);
  // Then the two bulk streams alternate, one frame each.
  for (std::size_t i = 2; i < order.size(); ++i) EXPECT_NE(order[i], order[i - 1]) << i;
  ASSERT_FALSE(p.client.set_urgency(bulk_b, 7));
  order.clear();
  for (int i = 0; i < 4; ++i) {
    for (const auto& f : p.packet(p.client, p.server)) {
      if (auto* s = std::get_if<wire::Stream>(&f)) order.push_back(s->stream_id);
    }
  }
  EXPECT_EQ(order, std::vector<std::uint64_t>(order.size(), bulk_a));
}

TEST(ConnectionStreams, ShortWritesAreWokenWhenAcknowledgementsFreeRoom) {
  auto c = config();
  c.send_capacity = 4000;
  Pair p(c, config());
  const std::uint64_t id = *p.client.open(StreamDirection::bidirectional);
  ASSERT_EQ(*p.client.write(id, bytes(10000, 1)), 4000u);
  EXPECT_TRUE(Pair::events(p.client).empty());
  (void)p.packet(p.client, p.server);  // acknowledged at once
  EXPECT_TRUE(has(Pair::events(p.client), Kind::writable, id));
}

// A writer stopped by the unsent limit is woken by packets taking its data out, before any ACK:
// once no more than half the limit still waits.
TEST(ConnectionStreams, WritersAheadOfTheConnectionAreWokenAsPacketsTakeTheirData) {
  auto c = config();
  c.send_capacity = 4 * kMaxUnsentBytes;
  auto s = config();  // lets the whole limit through
  s.stream_receive_window = s.connection_receive_window = s.max_receive_window = 4 * kMaxUnsentBytes;
  Pair p(c, s);
  const std::uint64_t id = *p.client.open(StreamDirection::bidirectional);
  ASSERT_EQ(*p.client.write(id, bytes(2 * kMaxUnsentBytes, 1)), kMaxUnsentBytes);
  EXPECT_TRUE(Pair::events(p.client).empty());
  std::vector<SentStreamFrame> sent;  // never acknowledged
  std::size_t packets = 0;
  while (Pair::events(p.client).empty()) {
    std::vector<std::uint8_t> buf(1200);
    wire::Writer w(buf);
    ASSERT_TRUE(p.client.write_stream_frames(w, sent));
    ++packets;
  }
  // About half the limit went out.
  EXPECT_GE(packets * 1200, kMaxUnsentBytes / 2);
  EXPECT_LE(packets * 1200, kMaxUnsentBytes / 2 + 2 * 1200);
  EXPECT_GT(*p.client.write(id, bytes(kMaxUnsentBytes, 2)), kMaxUnsentBytes / 2 - 1);
}

// The frames of one ACK come to on_acked together, in send order: contiguous data of a stream is
// applied as one range, and another stream's frame or a frame not acknowledged ends the range.
TEST(ConnectionStreams, AnAckOfManyFramesAcknowledgesEachOfThemAndNothingElse) {
  Pair p;
  const std::uint64_t a = *p.client.open(StreamDirection::unidirectional);
  const std::uint64_t b = *p.client.open(StreamDirection::unidirectional);
  ASSERT_EQ(*p.client.write(a, bytes(3000, 1)), 3000u);
  ASSERT_EQ(*p.client.write(b, bytes(3000, 2)), 3000u);
  ASSERT_FALSE(p.client.finish(a));
  ASSERT_FALSE(p.client.finish(b));
  // Packets of 1000 bytes: one frame each, the two streams taking turns.
  const auto send_all = [&] {
    std::vector<SentStreamFrame> sent;
    for (int i = 0; i < 20; ++i) {
      std::vector<std::uint8_t> buf(1000);
      wire::Writer w(buf);
      if (!p.client.write_stream_frames(w, sent)) break;
    }
    return sent;
  };
  std::vector<SentStreamFrame> sent = send_all();
  ASSERT_GE(sent.size(), 8u);
  const auto of_stream = [&](std::uint64_t id, std::size_t nth) {
    for (std::size_t i = 0; i < sent.size(); ++i) {
      if (std::get<StreamDataSent>(sent[i]).stream_id == id && nth-- == 0) return i;
    }
    return sent.size();
  };
  // Everything but a's second frame: b is done, a waits for the gap.
  const std::size_t gap = of_stream(a, 1);
  ASSERT_LT(gap, sent.size());
  std::vector<SentStreamFrame> acked = sent;
  acked.erase(acked.begin() + static_cast<std::ptrdiff_t>(gap));
  p.client.on_acked(acked);
  EXPECT_EQ(p.client.open_streams(), 1u);
  p.client.on_acked(std::span(&sent[gap], 1));
  EXPECT_EQ(p.client.open_streams(), 0u);

  // One stream alone: its frames follow each other, so a frame left out must split the run.
  const std::uint64_t c = *p.client.open(StreamDirection::unidirectional);
  ASSERT_EQ(*p.client.write(c, bytes(3000, 3)), 3000u);
  ASSERT_FALSE(p.client.finish(c));
  sent = send_all();
  ASSERT_GE(sent.size(), 4u);
  acked = sent;
  acked.erase(acked.begin() + 1);
  p.client.on_acked(acked);
  EXPECT_EQ(p.client.open_streams(), 1u);
  p.client.on_acked(std::span(&sent[1], 1));
  EXPECT_EQ(p.client.open_streams(), 0u);
}

TEST(ConnectionStreams, LostFramesAreSentAgainAndDataCountsAsRetransmitted) {
  Pair p;
  const std::uint64_t id = *p.client.open(StreamDirection::bidirectional);
  ASSERT_EQ(*p.client.write(id, bytes(1000, 1)), 1000u);
  EXPECT_EQ(p.client.reset(1, 0), errc::unknown_stream);  // a server stream never opened
  std::vector<std::uint8_t> buf(1200);
  wire::Writer w(buf);
  std::vector<SentStreamFrame> sent;
  ASSERT_TRUE(p.client.write_stream_frames(w, sent));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(p.client.has_data());
  p.client.on_lost(sent[0]);
  EXPECT_EQ(p.client.bytes_retransmitted(), 1000u);
  EXPECT_TRUE(p.client.has_data());
  p.settle();
  EXPECT_EQ(Pair::read_all(p.server, id), bytes(1000, 1));
}

TEST(ConnectionStreams, PeerFramesOnStreamsItMayNotUseAreErrors) {
  Pair p;
  std::vector<std::uint8_t> data{1};
  wire::Stream f;
  f.data = data;
  f.stream_id = 1;  // the server's stream, never opened
  EXPECT_EQ(p.server.on_stream(f, kNow, kRtt), errc::protocol_violation);
  const std::uint64_t uni = *p.server.open(StreamDirection::unidirectional);
  f.stream_id = uni;  // data on a stream only the server sends on
  EXPECT_EQ(p.server.on_stream(f, kNow, kRtt), errc::protocol_violation);
  EXPECT_EQ(p.server.on_stop_sending(wire::StopSending{2, 0}), errc::protocol_violation);  // client uni: we only receive
  f.stream_id = 4 * 4;  // the fifth client stream: the limit is four
  EXPECT_EQ(p.server.on_stream(f, kNow, kRtt), errc::protocol_violation);
}

}  // namespace
}  // namespace srudp::stream
