#include "wire/packet.hpp"

#include <algorithm>
#include <cstring>

#include "wire/buffer.hpp"

namespace srudp::wire {
namespace {

constexpr std::size_t kMacsSize = 2 * kMacSize;

bool is_long_header_type(std::uint8_t first) noexcept {
  return first == static_cast<std::uint8_t>(PacketType::Initiation) ||
         first == static_cast<std::uint8_t>(PacketType::Handshake) ||
         first == static_cast<std::uint8_t>(PacketType::CookieReply);
}

// Checks the type byte and reads the version. Errors: unknown_packet_type, truncated.
Result<std::uint32_t> read_long_header(Reader& r, PacketType expected) {
  auto first = r.read_u8();
  if (!first) return errc::unknown_packet_type;  // empty datagram
  if (*first != static_cast<std::uint8_t>(expected)) return errc::unknown_packet_type;
  return r.read_u32();
}

ConnectionId read_cid_unchecked(Reader& r) {
  // Callers check that kConnectionIdSize bytes remain first.
  ConnectionId cid;
  (void)r.read_into(cid);
  return cid;
}

// Reads [noise_len varint][noise msg] where the message must end at or before `limit` bytes from
// the start of the reader's input.
Result<std::span<const std::uint8_t>> read_noise_message(Reader& r, std::size_t available) {
  const std::size_t before = r.remaining();
  auto len = r.read_varint();
  if (!len) return len.error();
  const std::size_t varint_size = before - r.remaining();
  if (*len == 0) return errc::empty_not_allowed;
  if (available < varint_size || *len > available - varint_size) return errc::length_past_end;
  return r.read_bytes(static_cast<std::size_t>(*len));
}

}  // namespace

Result<PacketType> peek_packet_type(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.empty()) return errc::unknown_packet_type;
  const std::uint8_t first = datagram[0];
  if ((first & 0xc0) == 0x80) return PacketType::Data;
  if (is_long_header_type(first)) return static_cast<PacketType>(first);
  return errc::unknown_packet_type;  // 0x00-0x3F (STUN etc.), 0x44 and other 0x40-0x7F, 0xC0-0xFF
}

Result<std::uint32_t> peek_version(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.empty() || !is_long_header_type(datagram[0])) return errc::unknown_packet_type;
  Reader r(datagram.subspan(1));
  return r.read_u32();
}

// ---- Initiation ---------------------------------------------------------------------------------

Result<Initiation> decode_initiation(std::span<const std::uint8_t> datagram) noexcept {
  Reader r(datagram);
  auto version = read_long_header(r, PacketType::Initiation);
  if (!version) return version.error();
  if (datagram.size() < kMinInitiationSize) return errc::truncated;
  // Size >= 1200 guarantees the fixed fields and MACs are present.
  Initiation out;
  out.version = *version;
  out.sender_cid = read_cid_unchecked(r);
  const std::size_t body_end = datagram.size() - kMacsSize;
  auto noise = read_noise_message(r, body_end - r.position());
  if (!noise) return noise.error();
  out.noise_message = *noise;
  // Padding must be zero, so every Initiation has exactly one encoding of its contents.
  const auto padding = datagram.subspan(r.position(), body_end - r.position());
  if (std::any_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b != 0; })) {
    return errc::malformed;
  }
  out.mac1 = datagram.subspan(body_end, kMacSize);
  out.mac2 = datagram.subspan(body_end + kMacSize, kMacSize);
  out.mac1_covered = datagram.first(body_end);
  out.mac2_covered = datagram.first(body_end + kMacSize);
  return out;
}

Result<std::size_t> encode_initiation(std::uint32_t version, const ConnectionId& sender_cid,
                                      std::span<const std::uint8_t> noise_message,
                                      std::span<std::uint8_t> out,
                                      std::size_t total_size) noexcept {
  if (total_size < kMinInitiationSize) return errc::invalid_argument;
  if (noise_message.empty()) return errc::empty_not_allowed;
  const std::size_t len_size = varint::encoded_size(noise_message.size());
  const std::size_t needed = kInitiationFixedSize + len_size + noise_message.size() + kMacsSize;
  if (len_size == 0 || noise_message.size() > total_size || needed > total_size) {
    return errc::value_out_of_range;
  }
  if (out.size() < total_size) return errc::buffer_too_small;
  Writer w(out.first(total_size));
  // Cannot fail: the sizes were checked above.
  (void)w.write_u8(static_cast<std::uint8_t>(PacketType::Initiation));
  (void)w.write_u32(version);
  (void)w.write_bytes(sender_cid);
  (void)w.write_varint(noise_message.size());
  (void)w.write_bytes(noise_message);
  (void)w.write_zeros(w.remaining());  // padding, then mac1 and mac2 left zero
  return total_size;
}

std::span<std::uint8_t> initiation_mac1(std::span<std::uint8_t> packet) noexcept {
  if (packet.size() < kMacsSize) return {};
  return packet.subspan(packet.size() - kMacsSize, kMacSize);
}

std::span<std::uint8_t> initiation_mac2(std::span<std::uint8_t> packet) noexcept {
  if (packet.size() < kMacsSize) return {};
  return packet.subspan(packet.size() - kMacSize, kMacSize);
}

std::span<const std::uint8_t> initiation_mac1_input(std::span<const std::uint8_t> packet) noexcept {
  if (packet.size() < kMacsSize) return {};
  return packet.first(packet.size() - kMacsSize);
}

std::span<const std::uint8_t> initiation_mac2_input(std::span<const std::uint8_t> packet) noexcept {
  if (packet.size() < kMacsSize) return {};
  return packet.first(packet.size() - kMacSize);
}

// ---- Handshake ----------------------------------------------------------------------------------

Result<Handshake> decode_handshake(std::span<const std::uint8_t> datagram) noexcept {
  Reader r(datagram);
  auto version = read_long_header(r, PacketType::Handshake);
  if (!version) return version.error();
  if (r.remaining() < 2 * kConnectionIdSize + 1) return errc::truncated;
  Handshake out;
  out.version = *version;
  out.receiver_cid = read_cid_unchecked(r);
  out.sender_cid = read_cid_unchecked(r);
  out.message_index = *r.read_u8();
  if (out.message_index < 2) return errc::value_out_of_range;
  auto noise = read_noise_message(r, r.remaining());
  if (!noise) return noise.error();
  out.noise_message = *noise;
  return out;  // anything after the message is padding, ignored
}

Result<std::size_t> encode_handshake(const Handshake& packet, std::span<std::uint8_t> out,
                                     std::size_t padded_size) noexcept {
  if (packet.message_index < 2) return errc::value_out_of_range;
  if (packet.noise_message.empty()) return errc::empty_not_allowed;
  const std::size_t len_size = varint::encoded_size(packet.noise_message.size());
  if (len_size == 0) return errc::value_out_of_range;
  const std::size_t size =
      std::max(kHandshakeFixedSize + len_size + packet.noise_message.size(), padded_size);
  if (out.size() < size) return errc::buffer_too_small;
  Writer w(out.first(size));
  (void)w.write_u8(static_cast<std::uint8_t>(PacketType::Handshake));
  (void)w.write_u32(packet.version);
  (void)w.write_bytes(packet.receiver_cid);
  (void)w.write_bytes(packet.sender_cid);
  (void)w.write_u8(packet.message_index);
  (void)w.write_varint(packet.noise_message.size());
  (void)w.write_bytes(packet.noise_message);
  (void)w.write_zeros(w.remaining());
  return size;
}

// ---- CookieReply --------------------------------------------------------------------------------

Result<CookieReply> decode_cookie_reply(std::span<const std::uint8_t> datagram) noexcept {
  Reader r(datagram);
  auto version = read_long_header(r, PacketType::CookieReply);
  if (!version) return version.error();
  if (datagram.size() < kCookieReplySize) return errc::truncated;
  if (datagram.size() > kCookieReplySize) return errc::malformed;
  CookieReply out;
  out.version = *version;
  out.receiver_cid = read_cid_unchecked(r);
  (void)r.read_into(out.nonce);
  (void)r.read_into(out.encrypted_cookie);
  return out;
}

Result<std::size_t> encode_cookie_reply(const CookieReply& packet,
                                        std::span<std::uint8_t> out) noexcept {
  if (out.size() < kCookieReplySize) return errc::buffer_too_small;
  Writer w(out.first(kCookieReplySize));
  (void)w.write_u8(static_cast<std::uint8_t>(PacketType::CookieReply));
  (void)w.write_u32(packet.version);
  (void)w.write_bytes(packet.receiver_cid);
  (void)w.write_bytes(packet.nonce);
  (void)w.write_bytes(packet.encrypted_cookie);
  return kCookieReplySize;
}

// ---- Data (short header) ------------------------------------------------------------------------

namespace {

constexpr std::uint8_t kPnLengthFromCode[4] = {1, 2, 4, 8};

constexpr std::uint8_t pn_length_code(std::uint8_t pn_length) noexcept {
  switch (pn_length) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
    default: return 0xff;
  }
}

}  // namespace

Result<DataHeader> decode_data_header(std::span<const std::uint8_t> datagram) noexcept {
  if (datagram.empty() || (datagram[0] & 0xc0) != kDataFixedBit) return errc::unknown_packet_type;
  const std::uint8_t first = datagram[0];
  if ((first & kDataReservedMask) != 0) return errc::malformed;
  DataHeader h;
  h.key_phase = (first & kDataKeyPhaseBit) != 0;
  h.pn_length = kPnLengthFromCode[(first & kDataPnLengthMask) >> 3];
  h.header_size = data_header_size(h.pn_length);
  if (datagram.size() < h.header_size + kAeadTagSize) return errc::truncated;
  Reader r(datagram.subspan(1));
  h.receiver_cid = read_cid_unchecked(r);
  h.truncated_pn = *r.read_uint(h.pn_length);
  return h;
}

Result<std::size_t> encode_data_header(const DataHeader& header,
                                       std::span<std::uint8_t> out) noexcept {
  const std::uint8_t code = pn_length_code(header.pn_length);
  if (code == 0xff) return errc::invalid_argument;
  if (header.pn_length < 8 && (header.truncated_pn >> (8 * header.pn_length)) != 0) {
    return errc::value_out_of_range;
  }
  const std::size_t size = data_header_size(header.pn_length);
  if (out.size() < size) return errc::buffer_too_small;
  Writer w(out.first(size));
  const auto first = static_cast<std::uint8_t>(kDataFixedBit | (header.key_phase ? kDataKeyPhaseBit : 0) |
                                               (code << 3));
  (void)w.write_u8(first);
  (void)w.write_bytes(header.receiver_cid);
  (void)w.write_uint(header.truncated_pn, header.pn_length);
  return size;
}

std::uint8_t packet_number_length(std::uint64_t full_pn,
                                  std::optional<std::uint64_t> largest_acked) noexcept {
  std::uint64_t num_unacked = 0;
  if (largest_acked) {
    if (full_pn <= *largest_acked) return 8;
    num_unacked = full_pn - *largest_acked;
  } else {
    if (full_pn == UINT64_MAX) return 8;
    num_unacked = full_pn + 1;
  }
  // RFC 9000 A.2 wants log2(num_unacked) + 1 <= 8 * n bits, i.e. num_unacked <= 2^(8n - 1): the
  // receiver's window then reaches half a window on either side of the expected number.
  if (num_unacked <= (std::uint64_t{1} << 7)) return 1;
  if (num_unacked <= (std::uint64_t{1} << 15)) return 2;
  if (num_unacked <= (std::uint64_t{1} << 31)) return 4;
  return 8;
}

DataHeader make_data_header(const ConnectionId& receiver_cid, bool key_phase, std::uint64_t full_pn,
                            std::optional<std::uint64_t> largest_acked) noexcept {
  DataHeader h;
  h.key_phase = key_phase;
  h.pn_length = packet_number_length(full_pn, largest_acked);
  h.truncated_pn = h.pn_length == 8 ? full_pn : full_pn & ((std::uint64_t{1} << (8 * h.pn_length)) - 1);
  h.receiver_cid = receiver_cid;
  h.header_size = data_header_size(h.pn_length);
  return h;
}

std::uint64_t decode_packet_number(std::optional<std::uint64_t> largest_received,
                                   std::uint64_t truncated, unsigned pn_bits) noexcept {
  if (pn_bits >= 64 || pn_bits == 0) return truncated;
  const std::uint64_t expected = largest_received ? *largest_received + 1 : 0;
  const std::uint64_t win = std::uint64_t{1} << pn_bits;
  const std::uint64_t hwin = win / 2;
  const std::uint64_t mask = win - 1;
  const std::uint64_t candidate = (expected & ~mask) | (truncated & mask);
  // The RFC compares signed values; "candidate + hwin <= expected" is its
  // "candidate <= expected - hwin" without going below zero.
  if (candidate + hwin <= expected && candidate < (std::uint64_t{1} << 62) - win) {
    return candidate + win;
  }
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

}  // namespace srudp::wire
