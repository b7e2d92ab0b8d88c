// Transport parameters: the limits and settings each side announces in the handshake. The wire
// form is the protobuf message srudp.wire.pb.TransportParameters (transport_params.proto); this
// header keeps protobuf out of everyone else's includes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "common/result.hpp"
#include "wire/connection_id.hpp"

namespace srudp::wire {

inline constexpr std::size_t kMaxTransportParametersSize = 1024;
inline constexpr std::uint64_t kMinMaxUdpPayloadSize = 1200;
inline constexpr std::uint64_t kMaxMaxUdpPayloadSize = 65527;  // largest UDP payload over IPv4
inline constexpr std::uint64_t kMaxAckDelayLimitMs = (std::uint64_t{1} << 14) - 1;

// Codes of the packet AEADs in TransportParameters::packet_aeads.
inline constexpr std::uint32_t kPacketAeadChaCha20Poly1305 = 1;
inline constexpr std::uint32_t kPacketAeadAes256Gcm = 2;
inline constexpr std::size_t kMaxPacketAeads = 8;  // more codes than this: value_out_of_range

struct TransportParameters {
  std::uint64_t max_idle_timeout_ms = 30'000;            // 0 = never time out
  std::uint64_t max_udp_payload_size = 1452;             // fits 1500-byte MTU over IPv6/IPv4
  std::uint64_t initial_max_data = 16u << 20;            // connection-wide flow-control window
  std::uint64_t initial_max_stream_data_bidi_local = 1u << 20;
  std::uint64_t initial_max_stream_data_bidi_remote = 1u << 20;
  std::uint64_t initial_max_stream_data_uni = 1u << 20;
  std::uint64_t initial_max_streams_bidi = 100;
  std::uint64_t initial_max_streams_uni = 100;
  std::uint64_t max_ack_delay_ms = 25;
  std::uint64_t max_datagram_frame_size = 1452;          // 0 = DATAGRAM frames not accepted
  std::uint64_t keepalive_interval_ms = 15'000;          // 0 = no keepalives
  ConnectionId connection_id{};                          // the cid the sender wants to receive on
  std::vector<std::uint32_t> packet_aeads{kPacketAeadChaCha20Poly1305};  // what the sender can use, known codes only

  friend bool operator==(const TransportParameters&, const TransportParameters&) = default;
};

// Checks the limits decode enforces: max_udp_payload_size in [1200, 65527], stream counts
// <= 2^60, max_ack_delay_ms < 2^14, at most kMaxPacketAeads AEAD codes, every other value
// <= 2^62-1. Error: value_out_of_range.
std::error_code validate(const TransportParameters& params) noexcept;

// Every field is written explicitly, so a peer with different defaults reads the same values.
std::vector<std::uint8_t> encode_transport_parameters(const TransportParameters& params);

// Absent fields take the defaults above; unknown fields and unknown AEAD codes are ignored (newer
// peers). Errors:
// value_out_of_range (input over kMaxTransportParametersSize bytes or a value outside its
// limit), malformed (not a valid protobuf message, connection_id missing or not 8 bytes).
Result<TransportParameters> decode_transport_parameters(std::span<const std::uint8_t> bytes);

}  // namespace srudp::wire
