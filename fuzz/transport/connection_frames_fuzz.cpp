// Fuzzes what an established transport::Connection does with the frames of authenticated packets:
// the frame handlers, stream and flow-control state, loss detection and timers, not only the
// decoders. The connection runs with the test-only null AEAD (plaintext plus a zero tag), so the
// fuzzer writes frames directly; a genuine PSK handshake and key confirmation come first, with
// seeded randomness, so every run is reproducible.
//
// Input: records of [op][length u16 BE][bytes]. op % 4:
//   0: a data packet from the peer: bytes[0] controls, the rest is the plaintext (frames). bytes[0]
//      odd: replay an earlier packet (index bytes[1]) instead; else bytes[0] / 4 packet numbers
//      are skipped first (gaps, reordering);
//   1: time passes (bytes[0] * 4 ms), timers fire;
//   2: `bytes` as a raw datagram (any packet type, no protection);
//   3: the application acts on a stream (open, write, finish, read, reset, stop sending, close).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "crypto/handshake_driver.hpp"
#include "crypto/handshake_responder.hpp"
#include "crypto/packet_protection.hpp"
#include "transport/connection.hpp"
#include "wire/frame.hpp"
#include "wire/packet.hpp"

using namespace srudp;

namespace {

const SocketAddress kClient = SocketAddress::v4(198, 51, 100, 1, 4000);
const SocketAddress kServer = SocketAddress::v4(203, 0, 113, 2, 5000);

crypto::PresharedKey test_psk() {
  std::array<std::uint8_t, 32> b{};
  b.fill(42);
  return crypto::PresharedKey(std::span<const std::uint8_t, 32>(b));
}

transport::ConnectionConfig server_config() {
  transport::ConnectionConfig c;
  c.handshake.psk = test_psk();
  c.aead = crypto::AeadAlgorithm::null_for_testing;
  c.connection_receive_window = 256 * 1024;  // small windows: limits are reached quickly
  c.stream_receive_window = 64 * 1024;
  c.max_receive_window = 128 * 1024;
  c.max_streams = 8;
  c.max_unidirectional_streams = 8;
  return c;
}

// The peer, holding the keys: it seals whatever plaintext the fuzzer gives it.
struct Peer {
  crypto::PacketProtection protection;
  wire::ConnectionId server_cid{};
  std::uint64_t next_pn = 0;

  std::vector<std::uint8_t> seal(std::uint64_t pn, std::span<const std::uint8_t> plaintext) {
    wire::DataHeader h;
    h.key_phase = protection.send_key_phase();
    h.pn_length = 4;
    h.truncated_pn = pn & 0xffffffffu;
    h.receiver_cid = server_cid;
    std::vector<std::uint8_t> out(wire::data_header_size(4) + plaintext.size() + wire::kAeadTagSize);
    auto header_size = wire::encode_data_header(h, out);
    if (!header_size) return {};
    auto sealed = protection.seal(pn, std::span(out).first(*header_size), plaintext, std::span(out).subspan(*header_size));
    if (!sealed) return {};
    out.resize(*header_size + sealed->size);
    return out;
  }
};

struct Session {
  Instant now{std::chrono::hours(1)};
  SeededRandom client_rng{1}, server_rng{2};
  std::optional<transport::Connection> server;
  std::optional<Peer> peer;
  std::vector<std::vector<std::uint8_t>> sent;  // the peer's packets, for replays
  std::array<std::uint8_t, 2048> buf{};

  // A genuine handshake, then the peer's ESTABLISHED: the server is established.
  bool start() {
    crypto::HandshakeConfig client_hs;
    client_hs.psk = test_psk();
    client_hs.payload = transport::Connection::handshake_payload(server_config());
    auto driver = crypto::HandshakeDriver::connect(client_hs, kServer, now, client_rng);
    if (!driver) return false;
    auto initiation = driver->poll_transmit(now, buf);
    if (!initiation) return false;
    auto config = server_config();
    auto hc = config.handshake.clone();
    hc.payload = transport::Connection::handshake_payload(config);
    crypto::HandshakeResponder responder(std::move(hc), {}, server_rng);
    auto decision = responder.on_initiation(now, kClient, std::span(buf).first(*initiation), 0, wire::ConnectionId{7});
    auto* accept = std::get_if<crypto::HandshakeResponder::Accept>(&decision);
    if (accept == nullptr) return false;
    auto connection = transport::Connection::accept(std::move(config), std::move(accept->handshake), kClient,
                                                    *initiation, now, server_rng);
    if (!connection) return false;
    server.emplace(std::move(*connection));
    while (auto t = server->poll_transmit(now, buf)) {
      // Message 2 completes the client's handshake; the server's data packets wait for keys.
      (void)driver->handle_packet(now, kServer, std::span(buf).first(t->size));
    }
    auto outcome = driver->take_outcome();
    if (!outcome) return false;
    crypto::PacketProtectionConfig pp;
    pp.send_secret = std::move(outcome->send_secret);
    pp.receive_secret = std::move(outcome->receive_secret);
    pp.algorithm = crypto::AeadAlgorithm::null_for_testing;
    auto protection = crypto::PacketProtection::create(std::move(pp));
    if (!protection) return false;
    peer.emplace(Peer{std::move(*protection), outcome->peer_cid, 0});
    std::array<std::uint8_t, 64> plain{};
    wire::Writer w(plain);
    if (wire::encode_frame(wire::Frame{wire::Established{}}, w)) return false;
    wire::Ack ack;
    ack.ranges.push_back({0, 0});
    if (wire::encode_frame(wire::Frame{ack}, w)) return false;
    deliver(peer->seal(peer->next_pn++, w.written()));
    return server->is_established();
  }

  void deliver(std::span<const std::uint8_t> datagram) {
    server->handle_datagram(now, kClient, datagram);
    settle();
  }
  // What a driver does after every input: drain transmits and events, read what is readable.
  void settle() {
    for (int i = 0; i < 64; ++i) {
      if (!server->poll_transmit(now, buf)) break;
    }
    while (auto e = server->poll_event()) {
      if (e->kind == transport::ConnectionEvent::Kind::stream_readable) {
        std::array<std::uint8_t, 4096> sink{};
        for (int i = 0; i < 16; ++i) {
          auto n = server->stream_read(e->stream_id, sink);
          if (!n || *n == 0) break;
        }
      }
    }
  }
  void advance(std::uint8_t quarter_ms) {
    now += std::chrono::milliseconds(4 * static_cast<int>(quarter_ms));
    if (auto t = server->poll_timeout(); t && *t <= now) server->handle_timeout(now);
    settle();
  }
  void app(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    const std::uint64_t id = bytes.size() > 1 ? bytes[1] % 16 : 0;
    static const std::array<std::uint8_t, 3000> data{};
    switch (bytes[0] % 7) {
      case 0: (void)server->open_stream(bytes[0] & 8 ? transport::StreamDirection::unidirectional
                                                     : transport::StreamDirection::bidirectional); break;
      case 1: (void)server->stream_write(id, std::span(data).first(bytes.size() > 2 ? bytes[2] * 11u : 0u)); break;
      case 2: (void)server->stream_finish(id); break;
      case 3: {
        std::array<std::uint8_t, 512> sink{};
        (void)server->stream_read(id, sink);
        break;
      }
      case 4: (void)server->stream_reset(id, bytes[0]); break;
      case 5: (void)server->stream_stop_sending(id, bytes[0]); break;
      case 6: if (bytes[0] == 6) server->close(1, "fuzz"); break;
    }
    settle();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Session s;
  if (!s.start()) __builtin_trap();  // the genuine handshake must work
  std::span<const std::uint8_t> input(data, size);
  int records = 0;
  while (input.size() >= 3 && records++ < 256) {
    const std::uint8_t op = input[0];
    const std::size_t n = std::min<std::size_t>((std::size_t{input[1]} << 8) | input[2], input.size() - 3);
    const auto bytes = input.subspan(3, n);
    input = input.subspan(3 + n);
    switch (op % 4) {
      case 0: {
        if (bytes.empty()) break;
        if ((bytes[0] & 1) && !s.sent.empty()) {
          s.deliver(s.sent[(bytes.size() > 1 ? bytes[1] : 0) % s.sent.size()]);
          break;
        }
        s.peer->next_pn += bytes[0] / 4u;
        auto datagram = s.peer->seal(s.peer->next_pn++, bytes.subspan(1));
        if (datagram.empty()) break;
        s.deliver(datagram);
        if (s.sent.size() < 64) s.sent.push_back(std::move(datagram));
        break;
      }
      case 1: s.advance(bytes.empty() ? 1 : bytes[0]); break;
      case 2: s.deliver(bytes); break;
      case 3: s.app(bytes); break;
    }
  }
  return 0;
}
