// What a connection is configured with: keys, congestion control, timeouts, windows and limits.
// Plain values: no protocol-core types, so users include this without the core's headers.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace srudp {

// 32 bytes of key material: a pre-shared key, an X25519 secret key or an X25519 public key.
using Key = std::array<std::uint8_t, 32>;

enum class CongestionControl { cubic, new_reno, bbr };

// Authentication needs a PSK, an identity (secret key or key file), or both; both peers must be
// configured alike. An identity alone is only authenticated when the peer pins its public key.
struct ConnectionOptions {
  std::optional<Key> psk;              // shared secret (the rendezvous layer derives one from a token)
  std::optional<Key> identity_secret;  // our long-term X25519 secret key ...
  std::string identity_file;           // ... or an identity key file (srudp-identity-v1, mode 0600)
  std::optional<Key> pinned_peer;      // the peer must prove it holds this public key

  CongestionControl congestion = CongestionControl::bbr;  // keeps its rate under random loss
  std::chrono::milliseconds handshake_timeout{20'000};
  std::chrono::milliseconds idle_timeout{30'000};        // 0: none (the peer's, if it has one)
  std::chrono::milliseconds keepalive_interval{15'000};  // 0: no keepalives
  // How long we may hold back an ACK for a lone packet (every second packet is acknowledged at
  // once). The peer's retransmission timer waits this much extra, so it sets how fast a lost tail
  // packet is resent: 2 ms keeps that near the round trip, as games want; longer means fewer ACKs.
  std::chrono::milliseconds max_ack_delay{2};
  std::uint64_t stream_receive_window = 1 << 20;         // per stream, initial (auto-tuned upwards)
  std::uint64_t connection_receive_window = 8 << 20;     // all streams together, initial
  // Per stream, written and not yet acknowledged: writes wait when it is full. Of it, at most
  // 256 KiB waits unsent (a write that stopped there resumes once half of that went out); the rest
  // is data in flight, so this bounds one stream's rate to it per round trip (8 MiB: 670 Mbit/s
  // at 100 ms). Memory is taken as data is written, not up front.
  std::size_t stream_send_buffer = 8 << 20;
  std::uint64_t max_streams = 100;                       // concurrent streams the peer may open
};

struct EndpointOptions {
  bool accept_incoming = false;  // the server role: async_accept hands out incoming connections
  ConnectionOptions server;      // options of accepted connections (with accept_incoming)
  std::size_t max_connections = 4096;
  // Debugging and fuzzing corpora: every datagram this endpoint sends or receives, and the
  // plaintext frames of each data packet its connections receive, are also written to files in
  // this folder (udp-in-*, udp-out-*, frames-in-*). Empty: off.
  std::string dump_directory{};
};

// Key helpers: 64 hex digits (either case) to a key, a key to lowercase hex, a fresh random key
// (a PSK or an identity secret), and the public key of a secret key (what the peer pins).
std::optional<Key> key_from_hex(std::string_view hex);
std::string to_hex(const Key& key);
Key random_key();
Key public_key_of(const Key& secret);

}  // namespace srudp
