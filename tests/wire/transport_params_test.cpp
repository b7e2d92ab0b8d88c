#include "wire/transport_params.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "common/random.hpp"
#include "wire/varint.hpp"

namespace srudp::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Hand-built protobuf wire format, so the tests check the schema's field numbers as well.
void append_leb128(Bytes& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}
void uint_field(Bytes& out, std::uint32_t number, std::uint64_t v) {
  append_leb128(out, std::uint64_t{number} << 3);  // wire type 0
  append_leb128(out, v);
}
void bytes_field(Bytes& out, std::uint32_t number, const Bytes& v) {
  append_leb128(out, (std::uint64_t{number} << 3) | 2);
  append_leb128(out, v.size());
  out.insert(out.end(), v.begin(), v.end());
}

const Bytes kCid{1, 2, 3, 4, 5, 6, 7, 8};

Bytes with_cid(Bytes fields = {}) {
  bytes_field(fields, 12, kCid);
  return fields;
}

TEST(TransportParameters, Defaults) {
  const TransportParameters p;
  EXPECT_EQ(p.max_idle_timeout_ms, 30'000u);
  EXPECT_EQ(p.max_udp_payload_size, 1452u);
  EXPECT_EQ(p.max_ack_delay_ms, 25u);
  EXPECT_EQ(p.keepalive_interval_ms, 15'000u);
  EXPECT_GT(p.initial_max_data, 0u);
  EXPECT_GT(p.initial_max_streams_bidi, 0u);
  EXPECT_EQ(validate(p), std::error_code{});
}

TEST(TransportParameters, RoundTripDefaults) {
  TransportParameters p;
  p.connection_id = {9, 8, 7, 6, 5, 4, 3, 2};
  const Bytes enc = encode_transport_parameters(p);
  auto d = decode_transport_parameters(enc);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(*d, p);
}

TEST(TransportParameters, RoundTripEveryFieldAtItsLimit) {
  TransportParameters p;
  p.max_idle_timeout_ms = varint::kMax;
  p.max_udp_payload_size = kMaxMaxUdpPayloadSize;
  p.initial_max_data = varint::kMax;
  p.initial_max_stream_data_bidi_local = varint::kMax - 1;
  p.initial_max_stream_data_bidi_remote = varint::kMax - 2;
  p.initial_max_stream_data_uni = varint::kMax - 3;
  p.initial_max_streams_bidi = std::uint64_t{1} << 60;
  p.initial_max_streams_uni = (std::uint64_t{1} << 60) - 1;
  p.max_ack_delay_ms = kMaxAckDelayLimitMs;
  p.max_datagram_frame_size = varint::kMax;
  p.keepalive_interval_ms = varint::kMax;
  p.connection_id = {0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0};
  const Bytes enc = encode_transport_parameters(p);
  EXPECT_LE(enc.size(), kMaxTransportParametersSize);
  EXPECT_EQ(*decode_transport_parameters(enc), p);
}

TEST(TransportParameters, ExplicitZerosAreKept) {
  TransportParameters p;
  p.max_idle_timeout_ms = 0;
  p.keepalive_interval_ms = 0;
  p.max_datagram_frame_size = 0;
  p.initial_max_streams_uni = 0;
  EXPECT_EQ(*decode_transport_parameters(encode_transport_parameters(p)), p);
}

TEST(TransportParameters, AbsentFieldsTakeDefaults) {
  auto d = decode_transport_parameters(with_cid());
  ASSERT_TRUE(d.has_value());
  TransportParameters expected;
  expected.connection_id = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(*d, expected);
}

TEST(TransportParameters, FieldNumbersMatchTheSchema) {
  Bytes in;
  for (std::uint32_t n = 1; n <= 11; ++n) uint_field(in, n, 1200 + n);
  auto d = decode_transport_parameters(with_cid(in));
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->max_idle_timeout_ms, 1201u);
  EXPECT_EQ(d->max_udp_payload_size, 1202u);
  EXPECT_EQ(d->initial_max_data, 1203u);
  EXPECT_EQ(d->initial_max_stream_data_bidi_local, 1204u);
  EXPECT_EQ(d->initial_max_stream_data_bidi_remote, 1205u);
  EXPECT_EQ(d->initial_max_stream_data_uni, 1206u);
  EXPECT_EQ(d->initial_max_streams_bidi, 1207u);
  EXPECT_EQ(d->initial_max_streams_uni, 1208u);
  EXPECT_EQ(d->max_ack_delay_ms, 1209u);
  EXPECT_EQ(d->max_datagram_frame_size, 1210u);
  EXPECT_EQ(d->keepalive_interval_ms, 1211u);
}

TEST(TransportParameters, ConnectionIdMustBeEightBytes) {
  EXPECT_EQ(decode_transport_parameters(Bytes{}).error(), errc::malformed);
  Bytes seven;
  bytes_field(seven, 12, Bytes(7, 1));
  EXPECT_EQ(decode_transport_parameters(seven).error(), errc::malformed);
  Bytes nine;
  bytes_field(nine, 12, Bytes(9, 1));
  EXPECT_EQ(decode_transport_parameters(nine).error(), errc::malformed);
}

TEST(TransportParameters, ValuesOutsideTheirLimits) {
  auto decode_with = [](std::uint32_t field, std::uint64_t v) {
    Bytes in;
    uint_field(in, field, v);
    return decode_transport_parameters(with_cid(in));
  };
  EXPECT_EQ(decode_with(2, 1199).error(), errc::value_out_of_range);
  EXPECT_TRUE(decode_with(2, 1200).has_value());
  EXPECT_EQ(decode_with(2, kMaxMaxUdpPayloadSize + 1).error(), errc::value_out_of_range);
  EXPECT_TRUE(decode_with(7, std::uint64_t{1} << 60).has_value());
  EXPECT_EQ(decode_with(7, (std::uint64_t{1} << 60) + 1).error(), errc::value_out_of_range);
  EXPECT_EQ(decode_with(8, (std::uint64_t{1} << 60) + 1).error(), errc::value_out_of_range);
  EXPECT_EQ(decode_with(9, kMaxAckDelayLimitMs + 1).error(), errc::value_out_of_range);
  EXPECT_EQ(decode_with(3, varint::kMax + 1).error(), errc::value_out_of_range);
  EXPECT_EQ(decode_with(1, UINT64_MAX).error(), errc::value_out_of_range);
  TransportParameters p;
  p.max_udp_payload_size = 1000;
  EXPECT_EQ(validate(p), errc::value_out_of_range);
}

TEST(TransportParameters, InputSizeIsBounded) {
  Bytes in = with_cid();
  bytes_field(in, 100, Bytes(kMaxTransportParametersSize - in.size() - 4, 'x'));  // unknown field 100: 2-byte tag, 2-byte length
  ASSERT_EQ(in.size(), kMaxTransportParametersSize);
  EXPECT_TRUE(decode_transport_parameters(in).has_value());  // unknown fields are ignored
  Bytes over = with_cid();
  bytes_field(over, 100, Bytes(kMaxTransportParametersSize - over.size() - 3, 'x'));
  ASSERT_EQ(over.size(), kMaxTransportParametersSize + 1);
  EXPECT_EQ(decode_transport_parameters(over).error(), errc::value_out_of_range);
}

TEST(TransportParameters, GarbageIsMalformed) {
  EXPECT_EQ(decode_transport_parameters(Bytes{0xff, 0xff, 0xff}).error(), errc::malformed);
  EXPECT_EQ(decode_transport_parameters(Bytes{0x08}).error(), errc::malformed);        // no value
  EXPECT_EQ(decode_transport_parameters(Bytes{0x62, 0x08, 1}).error(), errc::malformed);  // short
  Bytes wrong_type;
  uint_field(wrong_type, 12, 5);  // connection_id sent as an integer
  EXPECT_EQ(decode_transport_parameters(wrong_type).error(), errc::malformed);
}

// Field 13, packed (proto3's encoding of a repeated scalar).
Bytes with_aeads(const std::vector<std::uint64_t>& codes) {
  Bytes packed;
  for (const auto c : codes) append_leb128(packed, c);
  Bytes fields;
  bytes_field(fields, 13, packed);
  return with_cid(fields);
}

TEST(TransportParameters, PacketAeadsAbsentMeansChaChaOnly) {
  auto d = decode_transport_parameters(with_cid());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->packet_aeads, std::vector<std::uint32_t>{kPacketAeadChaCha20Poly1305});
}

TEST(TransportParameters, PacketAeadsKeepTheirOrderAndDropUnknownAndRepeatedCodes) {
  auto d = decode_transport_parameters(with_aeads({7, 2, 2, 1, 99}));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->packet_aeads, (std::vector<std::uint32_t>{kPacketAeadAes256Gcm, kPacketAeadChaCha20Poly1305}));
  TransportParameters p;
  p.packet_aeads = {kPacketAeadAes256Gcm, kPacketAeadChaCha20Poly1305};
  EXPECT_EQ(*decode_transport_parameters(encode_transport_parameters(p)), p);
}

TEST(TransportParameters, PacketAeadsOfOnlyUnknownCodesLeaveNone) {
  auto d = decode_transport_parameters(with_aeads({3, 4}));
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->packet_aeads.empty());
}

TEST(TransportParameters, TooManyPacketAeadsAreOutOfRange) {
  std::vector<std::uint64_t> codes(kMaxPacketAeads + 1, 1);
  EXPECT_EQ(decode_transport_parameters(with_aeads(codes)).error(), errc::value_out_of_range);
  EXPECT_TRUE(decode_transport_parameters(with_aeads(std::vector<std::uint64_t>(kMaxPacketAeads, 1))).has_value());
}

TEST(TransportParameters, PrefixesAndMutationsNeverCrash) {
  const Bytes enc = encode_transport_parameters(TransportParameters{});
  for (std::size_t len = 0; len < enc.size(); ++len) {
    if (auto d = decode_transport_parameters(std::span(enc).first(len))) {
      EXPECT_EQ(validate(*d), std::error_code{});
    }
  }
  SeededRandom rng(5);
  for (int i = 0; i < 2000; ++i) {
    Bytes m = enc;
    m[rng.uniform(m.size())] = static_cast<std::uint8_t>(rng.uniform(256));
    if (auto d = decode_transport_parameters(m)) {
      EXPECT_EQ(validate(*d), std::error_code{});
    }
  }
}

}  // namespace
}  // namespace srudp::wire
