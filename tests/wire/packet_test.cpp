#include "wire/packet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/random.hpp"

namespace srudp::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

const ConnectionId kCidA{1, 2, 3, 4, 5, 6, 7, 8};
constexpr std::uint8_t kPnLengths[] = {1, 2, 4, 8};
const ConnectionId kCidB{0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8};

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
  return out;
}

Bytes make_initiation(const Bytes& noise, std::size_t total = kMinInitiationSize,
                      std::uint32_t version = kVersion1) {
  Bytes out(total + 10, 0xee);
  auto n = encode_initiation(version, kCidA, noise, out, total);
  EXPECT_TRUE(n.has_value()) << n.error().message();
  out.resize(n ? *n : 0);
  return out;
}

Bytes make_handshake(const Handshake& h, std::size_t padded = 0) {
  Bytes out(std::max<std::size_t>(padded, 2048));
  auto n = encode_handshake(h, out, padded);
  EXPECT_TRUE(n.has_value()) << n.error().message();
  out.resize(n ? *n : 0);
  return out;
}

// ---- Classification ------------------------------------------------------------------------------

TEST(PacketType, ClassifiesEveryFirstByte) {
  for (unsigned b = 0; b < 256; ++b) {
    const Bytes d{static_cast<std::uint8_t>(b), 0, 0, 0, 1};
    auto t = peek_packet_type(d);
    if (b >= 0x80 && b <= 0xbf) {
      EXPECT_EQ(*t, PacketType::Data) << b;
    } else if (b == 0x41 || b == 0x42 || b == 0x43) {
      EXPECT_EQ(static_cast<unsigned>(*t), b);
    } else {
      EXPECT_EQ(t.error(), errc::unknown_packet_type) << b;  // incl. STUN 0x00-0x03 and 0x44
    }
  }
  EXPECT_EQ(peek_packet_type({}).error(), errc::unknown_packet_type);
}

TEST(PacketType, StunBindingRequestIsNotSrudp) {
  // A STUN header: type 0x0001, length, magic cookie 0x2112A442.
  const Bytes stun{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(peek_packet_type(stun).error(), errc::unknown_packet_type);
  EXPECT_EQ(decode_initiation(stun).error(), errc::unknown_packet_type);
  EXPECT_EQ(decode_data_header(stun).error(), errc::unknown_packet_type);
}

TEST(PacketType, ReservedHolePunchTypeIsUnknown) {
  const Bytes probe{kReservedHolePunchType, 0, 0, 0, 1};
  EXPECT_EQ(peek_packet_type(probe).error(), errc::unknown_packet_type);
  EXPECT_EQ(peek_version(probe).error(), errc::unknown_packet_type);
}

TEST(PacketType, PeekVersion) {
  EXPECT_EQ(*peek_version(Bytes{0x42, 0xde, 0xad, 0xbe, 0xef}), 0xdeadbeefu);
  EXPECT_EQ(peek_version(Bytes{0x42, 0xde, 0xad}).error(), errc::truncated);
  EXPECT_EQ(peek_version(Bytes{0x80, 0, 0, 0, 1}).error(), errc::unknown_packet_type);
}

// ---- Initiation ------------------------------------------------------------------------------------

TEST(Initiation, RoundTripWithMacRegions) {
  const Bytes noise = pattern(96, 3);
  Bytes pkt = make_initiation(noise);
  ASSERT_EQ(pkt.size(), kMinInitiationSize);
  EXPECT_EQ(pkt[0], 0x41);
  EXPECT_EQ(Bytes(pkt.begin() + 1, pkt.begin() + 5), (Bytes{0, 0, 0, 1}));
  EXPECT_EQ(Bytes(pkt.begin() + 5, pkt.begin() + 13), Bytes(kCidA.begin(), kCidA.end()));
  EXPECT_EQ(pkt[13], 0x40);  // varint 96 takes two bytes
  EXPECT_EQ(pkt[14], 96);

  // The MAC fields are zero after encoding; fill them as the handshake would.
  auto mac1 = initiation_mac1(pkt);
  auto mac2 = initiation_mac2(pkt);
  ASSERT_EQ(mac1.size(), kMacSize);
  ASSERT_EQ(mac2.size(), kMacSize);
  EXPECT_TRUE(std::all_of(mac1.begin(), mac1.end(), [](auto b) { return b == 0; }));
  EXPECT_TRUE(std::all_of(mac2.begin(), mac2.end(), [](auto b) { return b == 0; }));
  EXPECT_EQ(initiation_mac1_input(pkt).size(), kMinInitiationSize - 32);
  EXPECT_EQ(initiation_mac2_input(pkt).size(), kMinInitiationSize - 16);
  std::fill(mac1.begin(), mac1.end(), std::uint8_t{0x11});
  std::fill(mac2.begin(), mac2.end(), std::uint8_t{0x22});

  auto d = decode_initiation(pkt);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->version, kVersion1);
  EXPECT_EQ(d->sender_cid, kCidA);
  EXPECT_EQ(Bytes(d->noise_message.begin(), d->noise_message.end()), noise);
  EXPECT_EQ(d->noise_message.data(), pkt.data() + 15);  // zero-copy
  EXPECT_EQ(d->mac1.data(), pkt.data() + kMinInitiationSize - 32);
  EXPECT_EQ(d->mac2.data(), pkt.data() + kMinInitiationSize - 16);
  EXPECT_EQ(Bytes(d->mac1.begin(), d->mac1.end()), Bytes(16, 0x11));
  EXPECT_EQ(Bytes(d->mac2.begin(), d->mac2.end()), Bytes(16, 0x22));
  EXPECT_EQ(d->mac1_covered.data(), pkt.data());
  EXPECT_EQ(d->mac1_covered.size(), kMinInitiationSize - 32);
  EXPECT_EQ(d->mac2_covered.size(), kMinInitiationSize - 16);
}

TEST(Initiation, LargerTotalSizeAndLargestNoiseMessage) {
  const Bytes pkt = make_initiation(pattern(10, 1), 1400);
  auto d = decode_initiation(pkt);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->mac2_covered.size(), 1400u - 16);
  // The biggest message that fits 1200 bytes: 13 fixed + 2 length + n + 32 MACs.
  const Bytes full = pattern(kMinInitiationSize - 13 - 2 - 32, 5);
  const Bytes pkt2 = make_initiation(full);
  auto d2 = decode_initiation(pkt2);
  ASSERT_TRUE(d2.has_value());
  EXPECT_EQ(d2->noise_message.size(), full.size());
  Bytes out(kMinInitiationSize);
  EXPECT_EQ(encode_initiation(kVersion1, kCidA, pattern(full.size() + 1, 0), out).error(),
            errc::value_out_of_range);
}

TEST(Initiation, UnknownVersionIsReturnedForTheCaller) {
  const Bytes pkt = make_initiation(pattern(32, 1), kMinInitiationSize, 0x7a7a7a7a);
  EXPECT_EQ(decode_initiation(pkt)->version, 0x7a7a7a7au);
  EXPECT_EQ(*peek_version(pkt), 0x7a7a7a7au);
}

TEST(Initiation, EncodeErrors) {
  Bytes out(2000);
  const Bytes noise = pattern(32, 1);
  EXPECT_EQ(encode_initiation(kVersion1, kCidA, noise, out, 1199).error(), errc::invalid_argument);
  EXPECT_EQ(encode_initiation(kVersion1, kCidA, {}, out).error(), errc::empty_not_allowed);
  EXPECT_EQ(encode_initiation(kVersion1, kCidA, noise, std::span(out).first(1199)).error(),
            errc::buffer_too_small);
  EXPECT_EQ(encode_initiation(kVersion1, kCidA, noise, out, 2001).error(), errc::buffer_too_small);
}

TEST(Initiation, SmallerThanMinimumIsAnError) {
  Bytes pkt = make_initiation(pattern(32, 1));
  pkt.pop_back();
  EXPECT_EQ(decode_initiation(pkt).error(), errc::truncated);
}

TEST(Initiation, EveryPrefixFails) {
  const Bytes pkt = make_initiation(pattern(64, 9));
  for (std::size_t len = 0; len < pkt.size(); ++len) {
    auto d = decode_initiation(std::span(pkt).first(len));
    ASSERT_FALSE(d.has_value()) << len;
    EXPECT_EQ(d.error(), len == 0 ? errc::unknown_packet_type : errc::truncated) << len;
  }
}

TEST(Initiation, MalformedFields) {
  const Bytes good = make_initiation(pattern(32, 1));
  {  // noise_len 0
    Bytes p = good;
    p[13] = 0;
    EXPECT_EQ(decode_initiation(p).error(), errc::empty_not_allowed);
  }
  {  // noise_len reaching into the MACs (1200 - 13 - 2 - 32 = 1153 fits, 1154 does not)
    Bytes p = good;
    p[13] = 0x44;
    p[14] = 0x82;  // 0x482 = 1154
    EXPECT_EQ(decode_initiation(p).error(), errc::length_past_end);
    p[14] = 0x81;  // 1153: ends right before mac1
    EXPECT_TRUE(decode_initiation(p).has_value());
  }
  {  // a length varint far past the end
    Bytes p = good;
    const Bytes huge{0xc0, 0, 0, 0, 0x40, 0, 0, 0};
    std::copy(huge.begin(), huge.end(), p.begin() + 13);
    EXPECT_EQ(decode_initiation(p).error(), errc::length_past_end);
  }
  {  // non-minimal length
    Bytes p = good;
    p[13] = 0x40;
    p[14] = 32;
    EXPECT_EQ(decode_initiation(p).error(), errc::non_minimal_varint);
  }
  {  // non-zero padding
    Bytes p = good;
    p[100] = 1;
    EXPECT_EQ(decode_initiation(p).error(), errc::malformed);
  }
  {  // wrong type
    Bytes p = good;
    p[0] = 0x42;
    EXPECT_EQ(decode_initiation(p).error(), errc::unknown_packet_type);
  }
}

TEST(Initiation, MacHelpersOnShortInput) {
  Bytes tiny(31);
  EXPECT_TRUE(initiation_mac1(tiny).empty());
  EXPECT_TRUE(initiation_mac2(tiny).empty());
  EXPECT_TRUE(initiation_mac1_input(tiny).empty());
  EXPECT_TRUE(initiation_mac2_input(tiny).empty());
}

// ---- Handshake -------------------------------------------------------------------------------------

TEST(Handshake, RoundTrip) {
  const Bytes noise = pattern(48, 2);
  Handshake h{kVersion1, kCidA, kCidB, 2, noise};
  const Bytes pkt = make_handshake(h);
  ASSERT_EQ(pkt.size(), 22u + 1 + 48);
  EXPECT_EQ(pkt[0], 0x42);
  EXPECT_EQ(pkt[21], 2);
  auto d = decode_handshake(pkt);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->version, kVersion1);
  EXPECT_EQ(d->receiver_cid, kCidA);
  EXPECT_EQ(d->sender_cid, kCidB);
  EXPECT_EQ(d->message_index, 2);
  EXPECT_EQ(Bytes(d->noise_message.begin(), d->noise_message.end()), noise);
}

TEST(Handshake, PaddingIsWrittenAndIgnored) {
  const Bytes noise = pattern(20, 2);
  Handshake h{kVersion1, kCidA, kCidB, 255, noise};
  Bytes pkt = make_handshake(h, 1200);
  ASSERT_EQ(pkt.size(), 1200u);
  EXPECT_TRUE(std::all_of(pkt.begin() + 43, pkt.end(), [](auto b) { return b == 0; }));
  pkt[500] = 0x55;  // padding content does not matter
  auto d = decode_handshake(pkt);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->message_index, 255);
  EXPECT_EQ(d->noise_message.size(), 20u);
}

TEST(Handshake, MessageIndexBelowTwoIsRejected) {
  const Bytes noise = pattern(8, 2);
  for (std::uint8_t index : {std::uint8_t{0}, std::uint8_t{1}}) {
    Handshake h{kVersion1, kCidA, kCidB, index, noise};
    Bytes out(100);
    EXPECT_EQ(encode_handshake(h, out).error(), errc::value_out_of_range);
    Bytes pkt = make_handshake(Handshake{kVersion1, kCidA, kCidB, 3, noise});
    pkt[21] = index;
    EXPECT_EQ(decode_handshake(pkt).error(), errc::value_out_of_range);
  }
}

TEST(Handshake, EmptyNoiseMessageIsRejected) {
  Bytes out(100);
  EXPECT_EQ(encode_handshake(Handshake{kVersion1, kCidA, kCidB, 2, {}}, out).error(),
            errc::empty_not_allowed);
  Bytes pkt = make_handshake(Handshake{kVersion1, kCidA, kCidB, 2, pattern(4, 0)});
  pkt[22] = 0;
  EXPECT_EQ(decode_handshake(pkt).error(), errc::empty_not_allowed);
}

TEST(Handshake, LengthPastEnd) {
  Bytes pkt = make_handshake(Handshake{kVersion1, kCidA, kCidB, 2, pattern(4, 0)});
  pkt[22] = 5;
  EXPECT_EQ(decode_handshake(pkt).error(), errc::length_past_end);
}

TEST(Handshake, EveryPrefixFails) {
  const Bytes pkt = make_handshake(Handshake{kVersion1, kCidA, kCidB, 7, pattern(70, 0)});
  for (std::size_t len = 0; len < pkt.size(); ++len) {
    auto d = decode_handshake(std::span(pkt).first(len));
    ASSERT_FALSE(d.has_value()) << len;
    const errc want = len == 0 ? errc::unknown_packet_type
                               : (len >= 24 ? errc::length_past_end : errc::truncated);
    EXPECT_EQ(d.error(), want) << len;
  }
}

TEST(Handshake, BufferTooSmall) {
  Bytes out(22 + 1 + 3);
  EXPECT_EQ(encode_handshake(Handshake{kVersion1, kCidA, kCidB, 2, pattern(4, 0)}, out).error(),
            errc::buffer_too_small);
  Bytes out2(100);
  EXPECT_EQ(encode_handshake(Handshake{kVersion1, kCidA, kCidB, 2, pattern(4, 0)}, out2, 101).error(),
            errc::buffer_too_small);
}

// ---- CookieReply -----------------------------------------------------------------------------------

CookieReply sample_cookie_reply() {
  CookieReply c;
  c.version = kVersion1;
  c.receiver_cid = kCidB;
  for (std::size_t i = 0; i < c.nonce.size(); ++i) c.nonce[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < c.encrypted_cookie.size(); ++i) {
    c.encrypted_cookie[i] = static_cast<std::uint8_t>(0x80 + i);
  }
  return c;
}

TEST(CookieReply, RoundTripIsExactly69Bytes) {
  const CookieReply c = sample_cookie_reply();
  Bytes out(100);
  auto n = encode_cookie_reply(c, out);
  ASSERT_TRUE(n.has_value());
  ASSERT_EQ(*n, kCookieReplySize);
  out.resize(*n);
  EXPECT_EQ(out[0], 0x43);
  EXPECT_EQ(out[13], 0);      // first nonce byte
  EXPECT_EQ(out[37], 0x80);   // first cookie byte
  EXPECT_EQ(out[68], 0x9f);   // last cookie byte
  EXPECT_EQ(*decode_cookie_reply(out), c);
  Bytes longer = out;
  longer.push_back(0);
  EXPECT_EQ(decode_cookie_reply(longer).error(), errc::malformed);
  for (std::size_t len = 0; len < out.size(); ++len) {
    EXPECT_EQ(decode_cookie_reply(std::span(out).first(len)).error(),
              len == 0 ? errc::unknown_packet_type : errc::truncated);
  }
  Bytes small(68);
  EXPECT_EQ(encode_cookie_reply(c, small).error(), errc::buffer_too_small);
}

// ---- Data header -----------------------------------------------------------------------------------

TEST(DataHeader, FirstByteLayout) {
  // 0b10KLL000
  const std::pair<std::uint8_t, std::uint8_t> lengths[] = {{1, 0x80}, {2, 0x88}, {4, 0x90}, {8, 0x98}};
  for (auto [len, first] : lengths) {
    for (bool kp : {false, true}) {
      DataHeader h{kp, len, 0x01, kCidA, 0};
      Bytes out(32);
      auto n = encode_data_header(h, out);
      ASSERT_TRUE(n.has_value());
      EXPECT_EQ(*n, 9u + len);
      EXPECT_EQ(out[0], first | (kp ? 0x20 : 0));
      EXPECT_EQ(out[9 + len - 1], 0x01);  // big-endian truncated pn
    }
  }
}

TEST(DataHeader, RoundTripEveryLengthAndKeyPhase) {
  for (std::uint8_t len : kPnLengths) {
    for (bool kp : {false, true}) {
      const std::uint64_t pn = len == 8 ? 0x0123456789abcdefull : (std::uint64_t{1} << (8 * len)) - 3;
      DataHeader h{kp, len, pn, kCidB, data_header_size(len)};
      Bytes pkt(h.header_size + kAeadTagSize, 0x77);
      ASSERT_TRUE(encode_data_header(h, pkt).has_value());
      auto d = decode_data_header(pkt);
      ASSERT_TRUE(d.has_value()) << d.error().message();
      EXPECT_EQ(*d, h);
    }
  }
}

TEST(DataHeader, ReservedBitsAreMalformed) {
  for (std::uint8_t bit : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{4}}) {
    Bytes pkt(9 + 1 + kAeadTagSize, 0);
    pkt[0] = static_cast<std::uint8_t>(0x80 | bit);
    EXPECT_EQ(decode_data_header(pkt).error(), errc::malformed) << int(bit);
  }
  Bytes pkt(40, 0);
  pkt[0] = 0xc0;  // bit 6 set: not a short header
  EXPECT_EQ(decode_data_header(pkt).error(), errc::unknown_packet_type);
  pkt[0] = 0x41;
  EXPECT_EQ(decode_data_header(pkt).error(), errc::unknown_packet_type);
}

TEST(DataHeader, TruncatedHeaderOrMissingTag) {
  for (std::uint8_t len : kPnLengths) {
    DataHeader h{false, len, 1, kCidA, 0};
    Bytes pkt(data_header_size(len) + kAeadTagSize, 0x33);
    ASSERT_TRUE(encode_data_header(h, pkt).has_value());
    ASSERT_TRUE(decode_data_header(pkt).has_value());
    for (std::size_t n = 0; n < pkt.size(); ++n) {
      EXPECT_EQ(decode_data_header(std::span(pkt).first(n)).error(),
                n == 0 ? errc::unknown_packet_type : errc::truncated)
          << int(len) << " " << n;
    }
  }
}

TEST(DataHeader, EncodeErrors) {
  Bytes out(32);
  EXPECT_EQ(encode_data_header(DataHeader{false, 3, 0, kCidA, 0}, out).error(), errc::invalid_argument);
  EXPECT_EQ(encode_data_header(DataHeader{false, 0, 0, kCidA, 0}, out).error(), errc::invalid_argument);
  EXPECT_EQ(encode_data_header(DataHeader{false, 1, 0x100, kCidA, 0}, out).error(),
            errc::value_out_of_range);
  EXPECT_EQ(encode_data_header(DataHeader{false, 4, 0x100000000ull, kCidA, 0}, out).error(),
            errc::value_out_of_range);
  EXPECT_EQ(encode_data_header(DataHeader{false, 8, 5, kCidA, 0}, std::span(out).first(16)).error(),
            errc::buffer_too_small);
}

// ---- Packet numbers (RFC 9000 Appendix A) ----------------------------------------------------------

TEST(PacketNumber, Rfc9000A2EncodingExamples) {
  // "If full_pn is 0xac5c02 and largest_acked is 0xabe8b3, ... 16 bits"
  EXPECT_EQ(packet_number_length(0xac5c02, 0xabe8b3), 2);
  // "... 0xace8fe ... 24 bits": srudp has no 3-byte form, so 4 bytes.
  EXPECT_EQ(packet_number_length(0xace8fe, 0xabe8b3), 4);
}

TEST(PacketNumber, LengthBoundaries) {
  EXPECT_EQ(packet_number_length(0, std::nullopt), 1);
  EXPECT_EQ(packet_number_length(127, std::nullopt), 1);    // 128 unacked
  EXPECT_EQ(packet_number_length(128, std::nullopt), 2);
  EXPECT_EQ(packet_number_length(1000 + 128, 1000), 1);
  EXPECT_EQ(packet_number_length(1000 + 129, 1000), 2);
  EXPECT_EQ(packet_number_length(1000 + 32768, 1000), 2);
  EXPECT_EQ(packet_number_length(1000 + 32769, 1000), 4);
  EXPECT_EQ(packet_number_length((1ull << 31) + 5, 5), 4);
  EXPECT_EQ(packet_number_length((1ull << 31) + 6, 5), 8);
  EXPECT_EQ(packet_number_length(5, 5), 8);  // not newer than largest_acked: full form
  EXPECT_EQ(packet_number_length(UINT64_MAX, std::nullopt), 8);
}

TEST(PacketNumber, Rfc9000A3DecodingExample) {
  // "largest successfully authenticated 0xa82f30ea ... 16-bit 0x9b32 ... decoded as 0xa82f9b32"
  EXPECT_EQ(decode_packet_number(0xa82f30ea, 0x9b32, 16), 0xa82f9b32u);
}

TEST(PacketNumber, DecodeWrapsBothWays) {
  EXPECT_EQ(decode_packet_number(std::nullopt, 0, 8), 0u);
  EXPECT_EQ(decode_packet_number(std::nullopt, 5, 8), 5u);
  EXPECT_EQ(decode_packet_number(0xff, 0x01, 8), 0x101u);      // forward over a window edge
  EXPECT_EQ(decode_packet_number(0x100, 0xff, 8), 0xffu);      // slightly older packet
  EXPECT_EQ(decode_packet_number(0x17f, 0x00, 8), 0x200u);
  EXPECT_EQ(decode_packet_number(10, 0xfe, 8), 0xfeu);         // cannot go below zero
  EXPECT_EQ(decode_packet_number(5, 0xfedcba9876543210ull, 64), 0xfedcba9876543210ull);
  // Near the 2^62 ceiling the window does not move up past it.
  EXPECT_EQ(decode_packet_number(kMaxPacketNumber - 1, 0x00, 8), (kMaxPacketNumber & ~0xffull));
}

TEST(PacketNumber, EncodeThenDecodeRecoversFullNumber) {
  SeededRandom rng(2024);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t base = rng.uniform(std::uint64_t{1} << 40);
    const std::uint64_t spans[] = {200, 70000, std::uint64_t{1} << 33};
    const std::uint64_t ahead = 1 + rng.uniform(spans[i % 3]);
    const std::uint64_t largest_acked = base;
    const std::uint64_t full_pn = base + ahead;
    const DataHeader h = make_data_header(kCidA, false, full_pn, largest_acked);
    // The receiver has seen at least largest_acked and at most full_pn - 1.
    const std::uint64_t largest_received = largest_acked + rng.uniform(ahead);
    ASSERT_EQ(decode_packet_number(largest_received, h.truncated_pn, 8u * h.pn_length), full_pn)
        << "acked " << largest_acked << " pn " << full_pn << " rx " << largest_received;
  }
  const DataHeader first = make_data_header(kCidA, true, 0, std::nullopt);
  EXPECT_EQ(first.pn_length, 1);
  EXPECT_EQ(first.header_size, 10u);
  EXPECT_TRUE(first.key_phase);
  EXPECT_EQ(decode_packet_number(std::nullopt, first.truncated_pn, 8), 0u);
}

// ---- Robustness ------------------------------------------------------------------------------------

void decode_everything(std::span<const std::uint8_t> d) {
  (void)peek_packet_type(d);
  (void)peek_version(d);
  if (auto i = decode_initiation(d)) {
    // Decoded spans stay inside the input.
    EXPECT_GE(i->noise_message.data(), d.data());
    EXPECT_LE(i->noise_message.data() + i->noise_message.size(), d.data() + d.size() - 32);
  }
  if (auto h = decode_handshake(d)) {
    EXPECT_LE(h->noise_message.data() + h->noise_message.size(), d.data() + d.size());
  }
  (void)decode_cookie_reply(d);
  if (auto h = decode_data_header(d)) {
    EXPECT_LE(h->header_size + kAeadTagSize, d.size());
  }
}

TEST(PacketRobustness, PrefixesAndSeededMutationsNeverCrash) {
  std::vector<Bytes> valid;
  valid.push_back(make_initiation(pattern(80, 4)));
  valid.push_back(make_handshake(Handshake{kVersion1, kCidA, kCidB, 2, pattern(60, 1)}));
  Bytes cookie(kCookieReplySize);
  (void)encode_cookie_reply(sample_cookie_reply(), cookie);
  valid.push_back(cookie);
  Bytes data(60, 0x5a);
  (void)encode_data_header(DataHeader{true, 4, 77, kCidA, 0}, data);
  valid.push_back(data);

  for (const Bytes& v : valid) {
    for (std::size_t len = 0; len <= v.size(); ++len) decode_everything(std::span(v).first(len));
  }
  SeededRandom rng(99);
  for (int i = 0; i < 4000; ++i) {
    Bytes m = valid[static_cast<std::size_t>(i) % valid.size()];
    const int flips = 1 + static_cast<int>(rng.uniform(4));
    for (int f = 0; f < flips; ++f) {
      m[rng.uniform(m.size())] = static_cast<std::uint8_t>(rng.uniform(256));
    }
    if (rng.uniform(4) == 0) m.resize(rng.uniform(m.size() + 1));
    decode_everything(m);
  }
}

}  // namespace
}  // namespace srudp::wire
