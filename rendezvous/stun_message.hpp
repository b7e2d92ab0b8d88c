// STUN messages (RFC 8489): the 20-byte header, type-length-value attributes padded to 4 bytes,
// XOR-MAPPED-ADDRESS / MAPPED-ADDRESS and FINGERPRINT. RFC 3489 messages (no magic cookie, a
// 128-bit transaction id) decode too, so the server can recognise old clients.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/address.hpp"
#include "common/result.hpp"

namespace srudp::rendezvous {

inline constexpr std::uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr std::size_t kStunHeaderSize = 20;
inline constexpr std::uint32_t kStunFingerprintXor = 0x5354554e;

namespace stun_type {
inline constexpr std::uint16_t binding_request = 0x0001;
inline constexpr std::uint16_t binding_indication = 0x0011;
inline constexpr std::uint16_t binding_success = 0x0101;
inline constexpr std::uint16_t binding_error = 0x0111;
}  // namespace stun_type

namespace stun_attribute {
inline constexpr std::uint16_t mapped_address = 0x0001;
inline constexpr std::uint16_t change_request = 0x0003;  // RFC 5780 (and RFC 3489)
inline constexpr std::uint16_t username = 0x0006;
inline constexpr std::uint16_t message_integrity = 0x0008;
inline constexpr std::uint16_t error_code = 0x0009;
inline constexpr std::uint16_t unknown_attributes = 0x000A;
inline constexpr std::uint16_t realm = 0x0014;
inline constexpr std::uint16_t nonce = 0x0015;
inline constexpr std::uint16_t message_integrity_sha256 = 0x001C;
inline constexpr std::uint16_t userhash = 0x001E;
inline constexpr std::uint16_t xor_mapped_address = 0x0020;
inline constexpr std::uint16_t priority = 0x0024;        // ICE (RFC 8445)
inline constexpr std::uint16_t use_candidate = 0x0025;   // ICE
inline constexpr std::uint16_t padding = 0x0026;         // RFC 5780
inline constexpr std::uint16_t software = 0x8022;
inline constexpr std::uint16_t fingerprint = 0x8028;
// Types below this must be understood by the receiver (comprehension-required).
inline constexpr std::uint16_t first_optional = 0x8000;
}  // namespace stun_attribute

using StunTransactionId = std::array<std::uint8_t, 12>;
// Header bytes 4..19: the magic cookie and a 96-bit transaction id (RFC 8489), or RFC 3489's
// 128-bit transaction id. A response copies them unchanged.
using StunIdField = std::array<std::uint8_t, 16>;

struct StunAttribute {
  std::uint16_t type = 0;
  std::span<const std::uint8_t> value;  // without padding; views into the datagram
};

struct StunMessage {
  std::uint16_t type = 0;
  StunIdField id_field{};
  std::vector<StunAttribute> attributes;  // in wire order, FINGERPRINT included
  bool has_fingerprint = false;           // present, last and correct

  bool has_magic_cookie() const noexcept;
  StunTransactionId transaction_id() const noexcept;
  const StunAttribute* find(std::uint16_t attribute_type) const noexcept;
};

// Strict: the top two bits of the type are zero, the length field is a multiple of 4 and covers
// exactly the rest of the datagram, every attribute fits, and a FINGERPRINT is last and correct.
Result<StunMessage> decode_stun_message(std::span<const std::uint8_t> datagram);

// CRC-32 of `bytes` XOR 0x5354554e (RFC 8489 section 14.7).
std::uint32_t stun_fingerprint(std::span<const std::uint8_t> bytes) noexcept;

// Builds a message into the caller's buffer, keeping the header's length field current. Writes
// that do not fit are dropped and make finish() fail, so callers check once at the end.
class StunWriter {
 public:
  StunWriter(std::span<std::uint8_t> out, std::uint16_t type, const StunIdField& id_field);

  void add(std::uint16_t attribute_type, std::span<const std::uint8_t> value);
  void add_xor_mapped_address(const SocketAddress& address);
  void add_mapped_address(const SocketAddress& address);
  void add_error_code(unsigned code, std::string_view reason);
  void add_unknown_attributes(std::span<const std::uint16_t> types);
  void add_padding(std::size_t value_size);
  void add_fingerprint();  // last

  std::size_t size() const noexcept { return size_; }
  // The message size, or errc::buffer_too_small if something did not fit.
  Result<std::size_t> finish() const;

 private:
  std::span<std::uint8_t> out_;
  StunIdField id_field_{};
  std::size_t size_ = 0;
  bool overflow_ = false;
};

std::optional<SocketAddress> decode_xor_mapped_address(std::span<const std::uint8_t> value,
                                                       const StunIdField& id_field);
std::optional<SocketAddress> decode_mapped_address(std::span<const std::uint8_t> value);

}  // namespace srudp::rendezvous
