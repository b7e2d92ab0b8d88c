#include "wire/transport_params.hpp"

#include <algorithm>

#include "wire/transport_params.pb.h"
#include "wire/varint.hpp"

namespace srudp::wire {
namespace {

constexpr std::uint64_t kMaxStreams = std::uint64_t{1} << 60;

}  // namespace

std::error_code validate(const TransportParameters& p) noexcept {
  const bool in_range =
      p.max_udp_payload_size >= kMinMaxUdpPayloadSize &&
      p.max_udp_payload_size <= kMaxMaxUdpPayloadSize &&
      p.initial_max_streams_bidi <= kMaxStreams && p.initial_max_streams_uni <= kMaxStreams &&
      p.max_ack_delay_ms <= kMaxAckDelayLimitMs && p.max_idle_timeout_ms <= varint::kMax &&
      p.initial_max_data <= varint::kMax &&
      p.initial_max_stream_data_bidi_local <= varint::kMax &&
      p.initial_max_stream_data_bidi_remote <= varint::kMax &&
      p.initial_max_stream_data_uni <= varint::kMax &&
      p.max_datagram_frame_size <= varint::kMax && p.keepalive_interval_ms <= varint::kMax &&
      p.packet_aeads.size() <= kMaxPacketAeads;
  return in_range ? std::error_code{} : make_error_code(errc::value_out_of_range);
}

std::vector<std::uint8_t> encode_transport_parameters(const TransportParameters& p) {
  pb::TransportParameters m;
  m.set_max_idle_timeout_ms(p.max_idle_timeout_ms);
  m.set_max_udp_payload_size(p.max_udp_payload_size);
  m.set_initial_max_data(p.initial_max_data);
  m.set_initial_max_stream_data_bidi_local(p.initial_max_stream_data_bidi_local);
  m.set_initial_max_stream_data_bidi_remote(p.initial_max_stream_data_bidi_remote);
  m.set_initial_max_stream_data_uni(p.initial_max_stream_data_uni);
  m.set_initial_max_streams_bidi(p.initial_max_streams_bidi);
  m.set_initial_max_streams_uni(p.initial_max_streams_uni);
  m.set_max_ack_delay_ms(p.max_ack_delay_ms);
  m.set_max_datagram_frame_size(p.max_datagram_frame_size);
  m.set_keepalive_interval_ms(p.keepalive_interval_ms);
  m.set_connection_id(p.connection_id.data(), p.connection_id.size());
  for (const std::uint32_t code : p.packet_aeads) m.add_packet_aeads(code);
  std::vector<std::uint8_t> out(m.ByteSizeLong());
  // Cannot fail: the buffer has exactly ByteSizeLong() bytes and the message has no required fields.
  (void)m.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

Result<TransportParameters> decode_transport_parameters(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxTransportParametersSize) return errc::value_out_of_range;
  pb::TransportParameters m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return errc::malformed;
  if (m.connection_id().size() != kConnectionIdSize) return errc::malformed;

  TransportParameters p;
  if (m.has_max_idle_timeout_ms()) p.max_idle_timeout_ms = m.max_idle_timeout_ms();
  if (m.has_max_udp_payload_size()) p.max_udp_payload_size = m.max_udp_payload_size();
  if (m.has_initial_max_data()) p.initial_max_data = m.initial_max_data();
  if (m.has_initial_max_stream_data_bidi_local()) {
    p.initial_max_stream_data_bidi_local = m.initial_max_stream_data_bidi_local();
  }
  if (m.has_initial_max_stream_data_bidi_remote()) {
    p.initial_max_stream_data_bidi_remote = m.initial_max_stream_data_bidi_remote();
  }
  if (m.has_initial_max_stream_data_uni()) p.initial_max_stream_data_uni = m.initial_max_stream_data_uni();
  if (m.has_initial_max_streams_bidi()) p.initial_max_streams_bidi = m.initial_max_streams_bidi();
  if (m.has_initial_max_streams_uni()) p.initial_max_streams_uni = m.initial_max_streams_uni();
  if (m.has_max_ack_delay_ms()) p.max_ack_delay_ms = m.max_ack_delay_ms();
  if (m.has_max_datagram_frame_size()) p.max_datagram_frame_size = m.max_datagram_frame_size();
  if (m.has_keepalive_interval_ms()) p.keepalive_interval_ms = m.keepalive_interval_ms();
  std::copy_n(m.connection_id().begin(), kConnectionIdSize, p.connection_id.begin());
  if (m.packet_aeads_size() > static_cast<int>(kMaxPacketAeads)) return errc::value_out_of_range;
  if (m.packet_aeads_size() > 0) {
    p.packet_aeads.clear();
    for (const std::uint32_t code : m.packet_aeads()) {
      const bool known = code == kPacketAeadChaCha20Poly1305 || code == kPacketAeadAes256Gcm;
      if (known && std::find(p.packet_aeads.begin(), p.packet_aeads.end(), code) == p.packet_aeads.end()) {
        p.packet_aeads.push_back(code);
      }
    }
  }

  if (auto ec = validate(p)) return ec;
  return p;
}

}  // namespace srudp::wire
