#include "rendezvous/stun_message.hpp"

#include <algorithm>

namespace srudp::rendezvous {
namespace {

constexpr std::uint8_t kFamilyV4 = 0x01;
constexpr std::uint8_t kFamilyV6 = 0x02;

std::uint16_t read_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t read_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void write_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v & 0xff);
}
void write_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
std::size_t padded(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

std::array<std::uint8_t, 4> cookie_bytes() {
  std::array<std::uint8_t, 4> c{};
  write_u32(c.data(), kStunMagicCookie);
  return c;
}

// The address attributes share one layout: 0, family, port, address (4 or 16 bytes).
std::optional<SocketAddress> decode_address(std::span<const std::uint8_t> value,
                                            const std::uint8_t* port_mask, const std::uint8_t* ip_mask) {
  if (value.size() < 4 || value[0] != 0) return std::nullopt;
  const std::uint8_t family = value[1];
  if ((family == kFamilyV4 && value.size() != 8) || (family == kFamilyV6 && value.size() != 20) ||
      (family != kFamilyV4 && family != kFamilyV6)) {
    return std::nullopt;
  }
  const auto port = static_cast<std::uint16_t>(((value[2] ^ port_mask[0]) << 8) | (value[3] ^ port_mask[1]));
  if (family == kFamilyV4) {
    std::uint32_t ip = 0;
    for (std::size_t i = 0; i < 4; ++i) ip = (ip << 8) | std::uint32_t(value[4 + i] ^ ip_mask[i]);
    return SocketAddress::v4(ip, port);
  }
  std::array<std::uint8_t, 16> ip{};
  for (std::size_t i = 0; i < 16; ++i) ip[i] = static_cast<std::uint8_t>(value[4 + i] ^ ip_mask[i]);
  return SocketAddress::v6(ip, port);
}

}  // namespace

bool StunMessage::has_magic_cookie() const noexcept {
  const auto c = cookie_bytes();
  return std::equal(c.begin(), c.end(), id_field.begin());
}

StunTransactionId StunMessage::transaction_id() const noexcept {
  StunTransactionId id{};
  std::copy(id_field.begin() + 4, id_field.end(), id.begin());
  return id;
}

const StunAttribute* StunMessage::find(std::uint16_t attribute_type) const noexcept {
  for (const auto& a : attributes) {
    if (a.type == attribute_type) return &a;
  }
  return nullptr;
}

Result<StunMessage> decode_stun_message(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < kStunHeaderSize) return errc::truncated;
  const std::uint16_t type = read_u16(datagram.data());
  const std::uint16_t length = read_u16(datagram.data() + 2);
  if ((type & 0xC000) != 0 || length % 4 != 0) return errc::malformed;
  if (std::size_t{length} + kStunHeaderSize != datagram.size()) return errc::length_past_end;

  StunMessage message;
  message.type = type;
  std::copy(datagram.begin() + 4, datagram.begin() + 20, message.id_field.begin());
  std::size_t at = kStunHeaderSize;
  while (at < datagram.size()) {
    if (datagram.size() - at < 4) return errc::truncated;
    const std::uint16_t attribute_type = read_u16(datagram.data() + at);
    const std::uint16_t value_size = read_u16(datagram.data() + at + 2);
    if (padded(value_size) > datagram.size() - at - 4) return errc::length_past_end;
    if (message.has_fingerprint) return errc::malformed;  // nothing may follow FINGERPRINT
    const auto value = datagram.subspan(at + 4, value_size);
    if (attribute_type == stun_attribute::fingerprint) {
      if (value_size != 4 || stun_fingerprint(datagram.first(at)) != read_u32(value.data())) {
        return errc::bad_mac;
      }
      message.has_fingerprint = true;
    }
    message.attributes.push_back(StunAttribute{attribute_type, value});
    at += 4 + padded(value_size);
  }
  return message;
}

std::uint32_t stun_fingerprint(std::span<const std::uint8_t> bytes) noexcept {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::uint8_t b : bytes) {
    crc ^= b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc ^ kStunFingerprintXor;
}

StunWriter::StunWriter(std::span<std::uint8_t> out, std::uint16_t type, const StunIdField& id_field)
    : out_(out), id_field_(id_field) {
  if (out_.size() < kStunHeaderSize) {
    overflow_ = true;
    return;
  }
  write_u16(out_.data(), type);
  write_u16(out_.data() + 2, 0);
  std::copy(id_field.begin(), id_field.end(), out_.begin() + 4);
  size_ = kStunHeaderSize;
}

void StunWriter::add(std::uint16_t attribute_type, std::span<const std::uint8_t> value) {
  const std::size_t total = 4 + padded(value.size());
  if (overflow_ || value.size() > 0xFFFF || out_.size() - size_ < total ||
      size_ + total - kStunHeaderSize > 0xFFFF) {
    overflow_ = true;
    return;
  }
  std::uint8_t* p = out_.data() + size_;
  write_u16(p, attribute_type);
  write_u16(p + 2, static_cast<std::uint16_t>(value.size()));
  std::copy(value.begin(), value.end(), p + 4);
  std::fill(p + 4 + value.size(), p + total, std::uint8_t{0});
  size_ += total;
  write_u16(out_.data() + 2, static_cast<std::uint16_t>(size_ - kStunHeaderSize));
}

void StunWriter::add_xor_mapped_address(const SocketAddress& address) {
  std::array<std::uint8_t, 20> value{};
  const auto cookie = cookie_bytes();
  value[1] = address.is_v4() ? kFamilyV4 : kFamilyV6;
  value[2] = static_cast<std::uint8_t>((address.port >> 8) ^ cookie[0]);
  value[3] = static_cast<std::uint8_t>((address.port & 0xff) ^ cookie[1]);
  if (address.is_v4()) {
    for (std::size_t i = 0; i < 4; ++i) value[4 + i] = static_cast<std::uint8_t>(address.ip[12 + i] ^ cookie[i]);
    add(stun_attribute::xor_mapped_address, std::span(value).first(8));
    return;
  }
  // IPv6 is masked with the cookie and the transaction id, i.e. the whole id field.
  for (std::size_t i = 0; i < 16; ++i) value[4 + i] = static_cast<std::uint8_t>(address.ip[i] ^ id_field_[i]);
  add(stun_attribute::xor_mapped_address, value);
}

void StunWriter::add_mapped_address(const SocketAddress& address) {
  std::array<std::uint8_t, 20> value{};
  value[1] = address.is_v4() ? kFamilyV4 : kFamilyV6;
  write_u16(value.data() + 2, address.port);
  if (address.is_v4()) {
    std::copy(address.ip.begin() + 12, address.ip.end(), value.begin() + 4);
    add(stun_attribute::mapped_address, std::span(value).first(8));
    return;
  }
  std::copy(address.ip.begin(), address.ip.end(), value.begin() + 4);
  add(stun_attribute::mapped_address, value);
}

void StunWriter::add_error_code(unsigned code, std::string_view reason) {
  std::vector<std::uint8_t> value(4 + reason.size(), 0);
  value[2] = static_cast<std::uint8_t>((code / 100) & 0x07);
  value[3] = static_cast<std::uint8_t>(code % 100);
  std::copy(reason.begin(), reason.end(), value.begin() + 4);
  add(stun_attribute::error_code, value);
}

void StunWriter::add_unknown_attributes(std::span<const std::uint16_t> types) {
  std::vector<std::uint8_t> value(2 * types.size());
  for (std::size_t i = 0; i < types.size(); ++i) write_u16(value.data() + 2 * i, types[i]);
  add(stun_attribute::unknown_attributes, value);
}

void StunWriter::add_padding(std::size_t value_size) {
  const std::vector<std::uint8_t> zeros(value_size, 0);
  add(stun_attribute::padding, zeros);
}

void StunWriter::add_fingerprint() {
  if (overflow_ || out_.size() - size_ < 8) {
    overflow_ = true;
    return;
  }
  // The CRC covers the header with its length already counting the FINGERPRINT attribute.
  write_u16(out_.data() + 2, static_cast<std::uint16_t>(size_ + 8 - kStunHeaderSize));
  std::array<std::uint8_t, 4> crc{};
  write_u32(crc.data(), stun_fingerprint(out_.first(size_)));
  add(stun_attribute::fingerprint, crc);
}

Result<std::size_t> StunWriter::finish() const {
  if (overflow_) return errc::buffer_too_small;
  return size_;
}

std::optional<SocketAddress> decode_xor_mapped_address(std::span<const std::uint8_t> value,
                                                       const StunIdField& id_field) {
  const auto cookie = cookie_bytes();
  return decode_address(value, cookie.data(), value.size() == 8 ? cookie.data() : id_field.data());
}

std::optional<SocketAddress> decode_mapped_address(std::span<const std::uint8_t> value) {
  static constexpr std::array<std::uint8_t, 16> kZero{};
  return decode_address(value, kZero.data(), kZero.data());
}

}  // namespace srudp::rendezvous
