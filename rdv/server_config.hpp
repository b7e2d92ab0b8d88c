// Everything `rdv serve` can be told: where to listen, the mount path, trusted proxies, and the
// limits that keep one server safe to expose (header size and time, lobby and connection caps,
// relay idle timeout and byte rate, STUN rate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "common/time.hpp"
#include "rendezvous/ip_prefix.hpp"
#include "rendezvous/lobby.hpp"
#include "rendezvous/stun_binding.hpp"
#include "rendezvous/token_bucket.hpp"

namespace srudp::rdv {

struct ServerConfig {
  // HTTP. "[::]" listens dual-stack (IPv4 clients appear as IPv4).
  boost::asio::ip::tcp::endpoint listen{boost::asio::ip::address_v6::any(), 8080};
  std::string mount = "/";              // rdv requests are DIAL/ACCEPT <mount><token>
  std::string metrics_path = "/metrics";  // GET here gives Prometheus text; "" turns it off
  std::vector<rendezvous::IpPrefix> trusted_proxies;  // may use PROXY v1 / X-Forwarded-*

  // STUN Binding responders on the listen address. Two ports let a client see whether its NAT
  // maps per destination. 0 picks a free port; an empty list turns STUN off.
  std::vector<std::uint16_t> stun_ports{3478, 3479};
  rendezvous::RateLimit stun_rate_per_source{.per_second = 20, .burst = 40};
  std::size_t stun_max_sources = 65536;
  rendezvous::StunBindingRules stun_rules;

  // Before pairing (slowloris and floods): header size and time, connections in that state.
  std::size_t max_header_bytes = 8192;
  Duration header_timeout = std::chrono::seconds(10);
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_source = 64;
  // At max_connections a newcomer evicts the connection that has been sending its request head
  // the longest, if that has taken over this long: a legitimate client sends its head at once, so
  // slow heads (slowloris) cannot fill the server and lock everyone else out. Zero: never evict.
  Duration evict_heads_older_than = std::chrono::seconds(1);
  Duration linger_timeout = std::chrono::seconds(2);  // after an error, for the client to read it

  // Waiting clients hold a connection too, so the lobby stays within the connection caps.
  rendezvous::LobbyLimits lobby{
      .timeout = std::chrono::seconds(120), .max_waiting = 4096, .max_waiting_per_source = 32};

  // After pairing.
  std::size_t max_relays = 1024;
  Duration relay_idle_timeout = std::chrono::seconds(120);  // also bounds the wait for CONTINUE
  rendezvous::RateLimit relay_rate{.per_second = 32.0 * 1024 * 1024, .burst = 256.0 * 1024};  // bytes/s, per direction
  std::size_t relay_buffer_bytes = 64 * 1024;  // per direction
  Duration drain_timeout = std::chrono::seconds(30);  // relays left after stop() are closed then

  // Debugging and fuzzing corpora: request heads and STUN datagrams received are also written to
  // files in this folder (scripts/fuzz_corpus). Empty: off.
  std::string dump_directory{};
};

}  // namespace srudp::rdv
