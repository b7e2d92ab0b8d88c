// Two srudp peers on loopback, each with its own UDP socket, driven by a thin Boost.Asio loop:
// the handshake (PSK or pinned identity keys), ESTABLISHED confirmation both ways, then encrypted
// datagrams back and forth. Prints what happens and the figures.
//
//   srudp_handshake_demo [--mode psk|identity] [--datagrams N] [--size BYTES]
#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/handshake_responder.hpp"
#include "crypto/secure_session.hpp"

namespace asio = boost::asio;
using asio::ip::udp;
using namespace srudp;

namespace {

Instant now() { return Instant(std::chrono::steady_clock::now().time_since_epoch()); }

SocketAddress to_address(const udp::endpoint& ep) {
  if (ep.address().is_v4()) return SocketAddress::v4(ep.address().to_v4().to_uint(), ep.port());
  return SocketAddress::v6(ep.address().to_v6().to_bytes(), ep.port());
}

udp::endpoint to_endpoint(const SocketAddress& a) {
  if (a.is_v4()) return {asio::ip::address_v4(a.v4_host_order()), a.port};
  return {asio::ip::address_v6(a.ip), a.port};
}

std::string hex(std::span<const std::uint8_t> b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += digits[x >> 4];
    s += digits[x & 15];
  }
  return s;
}

// Drives sessions on one socket: receive -> handle -> drain transmits -> re-arm one timer.
// A peer either connects (one session) or serves (a HandshakeResponder for newcomers).
class Peer {
 public:
  Peer(asio::io_context& io, std::string name, crypto::SessionConfig config, RandomSource& rng)
      : name_(std::move(name)), socket_(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        timer_(io), config_(std::move(config)), rng_(rng) {
    // Room for bursts: the kernel drops what does not fit, and datagrams are never resent.
    socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20));
    socket_.set_option(asio::socket_base::send_buffer_size(4 << 20));
  }

  SocketAddress address() const { return to_address(socket_.local_endpoint()); }

  void connect(const SocketAddress& peer) {
    auto s = crypto::SecureSession::connect(config_.clone(), peer, now(), rng_);
    if (!s) throw std::runtime_error("connect: " + s.error().message());
    sessions_.emplace(peer, std::move(*s));
    spdlog::info("{}: Initiation to {}", name_, peer.to_string());
    flush();
  }

  void serve(crypto::ResponderLimits limits) {
    responder_.emplace(config_.handshake.clone(), limits, rng_);
  }

  void start() { receive(); }

  crypto::SecureSession* session() { return sessions_.empty() ? nullptr : &sessions_.begin()->second; }

  std::function<void(crypto::SecureSession&)> on_established;
  std::function<void(crypto::SecureSession&, std::vector<std::uint8_t>)> on_datagram;
  std::function<void(crypto::SecureSession&, std::error_code)> on_closed;

  void flush() {
    const Instant t = now();
    for (auto& [addr, s] : sessions_) {
      while (auto tx = s.poll_transmit(t, buffer_)) {
        boost::system::error_code ec;
        socket_.send_to(asio::buffer(buffer_.data(), tx->size), to_endpoint(tx->to), 0, ec);
        if (ec) spdlog::warn("{}: send: {}", name_, ec.message());
      }
      drain(s);
    }
    rearm();
  }

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(rx_), from_, [this](std::error_code ec, std::size_t n) {
      if (ec) return;
      on_datagram_received(to_address(from_), std::span<const std::uint8_t>(rx_.data(), n));
      flush();
      receive();
    });
  }

  void on_datagram_received(const SocketAddress& from, std::span<const std::uint8_t> bytes) {
    const Instant t = now();
    auto it = sessions_.find(from);
    if (it != sessions_.end()) {
      it->second.handle_datagram(t, from, bytes);
      return;
    }
    if (!responder_) return;
    wire::ConnectionId cid{};
    rng_.fill(cid);
    auto decision = responder_->on_initiation(t, from, bytes, half_open(), cid);
    if (auto* accept = std::get_if<crypto::HandshakeResponder::Accept>(&decision)) {
      auto s = crypto::SecureSession::accept(config_.clone(), std::move(accept->handshake), from, bytes.size(), t, rng_);
      if (s) {
        spdlog::info("{}: accepted Initiation from {}, sending message 2", name_, from.to_string());
        sessions_.emplace(from, std::move(*s));
      }
    } else if (auto* cookie = std::get_if<crypto::HandshakeResponder::SendCookie>(&decision)) {
      socket_.send_to(asio::buffer(cookie->datagram), to_endpoint(from));
    }
  }

  std::size_t half_open() const {
    std::size_t n = 0;
    for (const auto& [a, s] : sessions_) n += !s.is_established();
    return n;
  }

  void drain(crypto::SecureSession& s) {
    while (auto e = s.poll_event()) {
      switch (e->kind) {
        case crypto::SessionEvent::Kind::established:
          if (on_established) on_established(s);
          break;
        case crypto::SessionEvent::Kind::datagram:
          if (on_datagram) on_datagram(s, std::move(e->data));
          break;
        case crypto::SessionEvent::Kind::closed:
          if (on_closed) on_closed(s, e->error);
          break;
      }
    }
  }

  void rearm() {
    std::optional<Instant> next;
    for (auto& [a, s] : sessions_) {
      if (auto t = s.poll_timeout(); t && (!next || *t < *next)) next = t;
    }
    if (!next) return;
    timer_.expires_at(std::chrono::steady_clock::time_point(next->time_since_epoch()));
    timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      const Instant t = now();
      for (auto& [a, s] : sessions_) {
        if (auto d = s.poll_timeout(); d && *d <= t) s.handle_timeout(t);
      }
      flush();
    });
  }

  std::string name_;
  udp::socket socket_;
  asio::steady_timer timer_;
  crypto::SessionConfig config_;
  RandomSource& rng_;
  std::optional<crypto::HandshakeResponder> responder_;
  std::map<SocketAddress, crypto::SecureSession> sessions_;
  std::array<std::uint8_t, 2048> rx_{};
  std::array<std::uint8_t, 2048> buffer_{};
  udp::endpoint from_;
};

int usage() {
  std::fprintf(stderr, "usage: srudp_handshake_demo [--mode psk|identity] [--datagrams N] [--size BYTES]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "psk";
  std::size_t count = 2000, size = 1100;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--mode") mode = argv[++i];
    else if (arg == "--datagrams") count = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--size") size = std::strtoul(argv[++i], nullptr, 10);
    else return usage();
  }
  if (mode != "psk" && mode != "identity") return usage();
  spdlog::set_pattern("%H:%M:%S.%e %v");

  SystemRandom rng;
  crypto::SessionConfig a_cfg, b_cfg;
  if (mode == "psk") {
    crypto::PresharedKey psk;
    rng.fill(psk.bytes());
    a_cfg.handshake.psk = psk.clone();
    b_cfg.handshake.psk = std::move(psk);
    spdlog::info("mode: pre-shared key (Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b)");
  } else {
    auto ka = crypto::KeyPair::generate(rng), kb = crypto::KeyPair::generate(rng);
    spdlog::info("mode: identity keys, each side pins the other (Noise_XX_25519_ChaChaPoly_BLAKE2b)");
    spdlog::info("A identity {}", hex(ka.public_key.bytes));
    spdlog::info("B identity {}", hex(kb.public_key.bytes));
    a_cfg.handshake.pinned_peer = kb.public_key;
    b_cfg.handshake.pinned_peer = ka.public_key;
    a_cfg.handshake.identity = std::move(ka);
    b_cfg.handshake.identity = std::move(kb);
  }

  asio::io_context io;
  Peer a(io, "A", std::move(a_cfg), rng), b(io, "B", std::move(b_cfg), rng);
  b.serve({});
  a.start();
  b.start();
  spdlog::info("A on {}, B on {}", a.address().to_string(), b.address().to_string());

  const auto started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point established_at;
  std::size_t received_by_b = 0, received_by_a = 0, bytes_b = 0;
  int exit_code = 1;
  std::vector<std::uint8_t> payload(std::min(size, std::size_t{1100}), 0x5a);

  std::chrono::steady_clock::time_point last_received_at;
  b.on_datagram = [&](crypto::SecureSession& s, std::vector<std::uint8_t> d) {
    last_received_at = std::chrono::steady_clock::now();
    ++received_by_b;
    bytes_b += d.size();
    if (received_by_b == 1) (void)s.send_datagram(std::vector<std::uint8_t>{'f', 'i', 'r', 's', 't'});
  };
  b.on_established = [&](crypto::SecureSession& s) {
    spdlog::info("B: established with {} (peer cid {})", s.peer_address().to_string(), hex(*s.peer_cid()));
  };
  a.on_established = [&](crypto::SecureSession& s) {
    established_at = std::chrono::steady_clock::now();
    spdlog::info("A: established with {} in {} us (handshake + ESTABLISHED both ways)",
                 s.peer_address().to_string(),
                 std::chrono::duration_cast<std::chrono::microseconds>(established_at - started).count());
    if (s.peer_identity()) spdlog::info("A: peer proved identity {}", hex(s.peer_identity()->bytes));
    spdlog::info("A: sending {} encrypted datagrams of {} bytes", count, payload.size());
  };
  a.on_datagram = [&](crypto::SecureSession&, std::vector<std::uint8_t> d) {
    ++received_by_a;
    spdlog::info("A: datagram from B: \"{}\"", std::string(d.begin(), d.end()));
  };
  a.on_closed = [&](crypto::SecureSession&, std::error_code ec) {
    spdlog::info("A: closed ({})", ec.message());
  };
  b.on_closed = [&](crypto::SecureSession&, std::error_code ec) {
    spdlog::info("B: closed: {}", ec.message());
    exit_code = received_by_b > 0 && received_by_a > 0 ? 0 : 1;
    io.stop();
  };

  a.connect(b.address());
  // Pump datagrams from A once established, a window at a time so nothing is dropped locally.
  std::size_t sent = 0;
  asio::steady_timer pump(io);
  std::function<void()> tick = [&] {
    auto* s = a.session();
    if (s && s->is_established()) {
      // 16 datagrams every 250 us: about 70 MB/s, a rate loopback and the receiver keep up with.
      // (Unreliable datagrams have no congestion control; the transport paces by its window.)
      for (int burst = 0; burst < 16 && sent < count; ++burst, ++sent) (void)s->send_datagram(payload);
      a.flush();
    }
    if (sent < count) {
      pump.expires_after(std::chrono::microseconds(250));
      pump.async_wait([&](std::error_code ec) { if (!ec) tick(); });
    } else {
      // Datagrams are unreliable: give the last ones a moment, then close (CLOSE frame).
      pump.expires_after(std::chrono::milliseconds(100));
      pump.async_wait([&](std::error_code ec) {
        if (ec) return;
        a.session()->close(0, "demo finished");
        a.flush();
      });
    }
  };
  tick();

  asio::steady_timer deadline(io);
  deadline.expires_after(std::chrono::seconds(20));
  deadline.async_wait([&](std::error_code ec) {
    if (!ec) {
      spdlog::error("demo timed out");
      io.stop();
    }
  });
  io.run();

  const double secs = std::chrono::duration<double>(last_received_at - established_at).count();
  spdlog::info("B received {}/{} datagrams ({} bytes) in {:.3f} s: {:.1f} MB/s of payload, paced by the demo",
               received_by_b, count, bytes_b, secs, static_cast<double>(bytes_b) / secs / 1e6);
  spdlog::info("(unreliable datagrams, no congestion control: reliable streams come with the transport)");
  if (auto* s = a.session()) {
    spdlog::info("A stats: {} bytes sent, {} handshake retransmits", s->stats().bytes_sent, s->stats().handshake_retransmits);
  }
  return exit_code;
}
