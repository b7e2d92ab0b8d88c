// A snapshot of one connection's figures (srudp::Connection::stats()).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include <boost/asio/ip/udp.hpp>

namespace srudp {

struct ConnectionStats {
  std::chrono::nanoseconds smoothed_rtt{}, min_rtt{}, rtt_variation{};
  std::uint64_t congestion_window = 0;  // bytes
  std::uint64_t bytes_in_flight = 0;
  std::uint64_t packets_sent = 0, packets_received = 0;
  std::uint64_t packets_lost = 0;             // declared lost (a later ACK may prove some spurious)
  std::uint64_t packets_spuriously_lost = 0;  // declared lost, acknowledged later (reordering)
  std::uint64_t bytes_sent = 0, bytes_received = 0;  // UDP payload bytes, all packets
  std::uint64_t bytes_retransmitted = 0;             // stream bytes sent again after a loss
  boost::asio::ip::udp::endpoint path;               // where the peer is now (follows NAT rebinding)
  std::uint64_t path_mtu = 0;                        // UDP payload bytes the path carries
  std::uint64_t buffered_bytes = 0;                  // memory held by stream send and receive buffers
  std::uint64_t streams = 0;                         // streams this side still tracks
  // The AEAD protecting data packets, negotiated in the handshake: "AES-256-GCM" when both sides
  // have hardware AES, else "ChaCha20-Poly1305"; empty before the handshake completes.
  std::string_view packet_aead;

  double loss_rate() const {
    return packets_sent == 0 ? 0.0 : static_cast<double>(packets_lost) / static_cast<double>(packets_sent);
  }
};

}  // namespace srudp
