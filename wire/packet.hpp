// srudp packet headers (see docs/WIRE_FORMAT.md for the byte diagrams).
//
// The first byte of a datagram classifies it:
//   0x00-0x3F  never srudp: left free so STUN (first byte 0x00-0x03) can share the socket.
//   0x41-0x43  long header (handshake): Initiation, Handshake, CookieReply. 0x44 is reserved for a
//              future hole-punch probe; every other 0x40-0x7F value is unknown.
//   0x80-0xBF  short header (data): 0b10KLLRRR, K = key phase, LL = packet-number length code,
//              RRR = reserved, must be 0.
//   0xC0-0xFF  unknown (reserved).
// All fixed-width integers are big-endian. Decoders return views (spans) into the input and never
// allocate; decoders of long headers return the version field for the caller to judge and parse
// the rest with the version-1 layout.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/result.hpp"
#include "wire/connection_id.hpp"

namespace srudp::wire {

inline constexpr std::uint32_t kVersion1 = 1;
inline constexpr std::size_t kMinInitiationSize = 1200;  // anti-amplification: pad to this
inline constexpr std::size_t kMacSize = 16;
inline constexpr std::size_t kCookieNonceSize = 24;
inline constexpr std::size_t kEncryptedCookieSize = 32;  // 16-byte cookie + 16-byte AEAD tag
inline constexpr std::size_t kCookieReplySize = 69;
inline constexpr std::size_t kAeadTagSize = 16;          // a data packet's ciphertext holds at least this
inline constexpr std::uint64_t kMaxPacketNumber = (std::uint64_t{1} << 62) - 1;

// Fixed header sizes.
inline constexpr std::size_t kLongHeaderSize = 1 + 4;                                 // type, version
inline constexpr std::size_t kInitiationFixedSize = kLongHeaderSize + kConnectionIdSize;  // 13
inline constexpr std::size_t kHandshakeFixedSize = kLongHeaderSize + 2 * kConnectionIdSize + 1;  // 22

enum class PacketType : std::uint8_t {
  Initiation = 0x41,
  Handshake = 0x42,
  CookieReply = 0x43,
  Data = 0x80,  // short header; the first byte also carries key phase and pn length
};

// 0x44: reserved for a future hole-punch probe. Decoding treats it as unknown.
inline constexpr std::uint8_t kReservedHolePunchType = 0x44;

// Classifies a datagram by its first byte. Error: unknown_packet_type (including an empty
// datagram, 0x00-0x3F, 0x44 and 0xC0-0xFF). A Data result does not yet mean the header is valid.
Result<PacketType> peek_packet_type(std::span<const std::uint8_t> datagram) noexcept;

// The version field of a long-header packet (0x41-0x43). Errors: unknown_packet_type, truncated.
Result<std::uint32_t> peek_version(std::span<const std::uint8_t> datagram) noexcept;

// ---- 0x41 Initiation -------------------------------------------------------------------------
// [0x41][version u32][sender_cid 8][noise_len varint][noise msg][zero padding][mac1 16][mac2 16]
// The whole datagram is at least kMinInitiationSize bytes.
struct Initiation {
  std::uint32_t version = 0;
  ConnectionId sender_cid{};
  std::span<const std::uint8_t> noise_message;
  std::span<const std::uint8_t> mac1;           // bytes [size-32, size-16)
  std::span<const std::uint8_t> mac2;           // bytes [size-16, size)
  std::span<const std::uint8_t> mac1_covered;   // bytes [0, size-32)
  std::span<const std::uint8_t> mac2_covered;   // bytes [0, size-16)
};

// Errors: unknown_packet_type (first byte not 0x41), truncated (datagram shorter than
// kMinInitiationSize or than its fixed fields), non_minimal_varint, empty_not_allowed (noise_len
// 0), length_past_end (noise message runs into the MACs), malformed (non-zero padding).
Result<Initiation> decode_initiation(std::span<const std::uint8_t> datagram) noexcept;

// Writes an Initiation of exactly total_size bytes to out and returns total_size. mac1 and mac2
// are left zero: compute them over initiation_mac1_input / _mac2_input and write them into
// initiation_mac1 / initiation_mac2. Errors: invalid_argument (total_size < kMinInitiationSize),
// empty_not_allowed (empty noise message), value_out_of_range (noise message does not fit in
// total_size), buffer_too_small (out shorter than total_size).
Result<std::size_t> encode_initiation(std::uint32_t version, const ConnectionId& sender_cid,
                                      std::span<const std::uint8_t> noise_message,
                                      std::span<std::uint8_t> out,
                                      std::size_t total_size = kMinInitiationSize) noexcept;

// The MAC fields and the bytes each MAC covers, given a whole encoded Initiation (at least
// 2 * kMacSize bytes; shorter input gives empty spans).
std::span<std::uint8_t> initiation_mac1(std::span<std::uint8_t> packet) noexcept;
std::span<std::uint8_t> initiation_mac2(std::span<std::uint8_t> packet) noexcept;
std::span<const std::uint8_t> initiation_mac1_input(std::span<const std::uint8_t> packet) noexcept;
std::span<const std::uint8_t> initiation_mac2_input(std::span<const std::uint8_t> packet) noexcept;

// ---- 0x42 Handshake (Noise messages 2..n) -----------------------------------------------------
// [0x42][version u32][receiver_cid 8][sender_cid 8][msg_index u8][noise_len varint][noise msg]
// [optional zero padding, ignored]
struct Handshake {
  std::uint32_t version = 0;
  ConnectionId receiver_cid{};
  ConnectionId sender_cid{};
  std::uint8_t message_index = 2;  // 2..255: index of the Noise message (1 is the Initiation)
  std::span<const std::uint8_t> noise_message;
};

// Errors: unknown_packet_type, truncated, value_out_of_range (message_index < 2),
// non_minimal_varint, empty_not_allowed (noise_len 0), length_past_end. Bytes after the noise
// message are padding and ignored.
Result<Handshake> decode_handshake(std::span<const std::uint8_t> datagram) noexcept;

// Writes the packet, zero-padded to padded_size if that is larger than the packet, and returns
// its size. Errors: value_out_of_range (message_index < 2), empty_not_allowed, buffer_too_small.
Result<std::size_t> encode_handshake(const Handshake& packet, std::span<std::uint8_t> out,
                                     std::size_t padded_size = 0) noexcept;

// ---- 0x43 CookieReply (exactly 69 bytes) ------------------------------------------------------
// [0x43][version u32][receiver_cid 8][nonce 24][encrypted cookie 32]
struct CookieReply {
  std::uint32_t version = 0;
  ConnectionId receiver_cid{};
  std::array<std::uint8_t, kCookieNonceSize> nonce{};
  std::array<std::uint8_t, kEncryptedCookieSize> encrypted_cookie{};

  friend bool operator==(const CookieReply&, const CookieReply&) = default;
};

// Errors: unknown_packet_type, truncated (< 69 bytes), malformed (> 69 bytes).
Result<CookieReply> decode_cookie_reply(std::span<const std::uint8_t> datagram) noexcept;
// Returns kCookieReplySize. Error: buffer_too_small.
Result<std::size_t> encode_cookie_reply(const CookieReply& packet,
                                        std::span<std::uint8_t> out) noexcept;

// ---- Short header (data) ----------------------------------------------------------------------
// [0b10KLL000][receiver_cid 8][truncated packet number, 1/2/4/8 bytes][AEAD ciphertext + tag]
// The header bytes (first header_size bytes) are the AEAD associated data; the nonce is built from
// the FULL 64-bit packet number (decode_packet_number), never from the truncated one.
inline constexpr std::uint8_t kDataFixedBit = 0x80;
inline constexpr std::uint8_t kDataKeyPhaseBit = 0x20;
inline constexpr std::uint8_t kDataPnLengthMask = 0x18;
inline constexpr std::uint8_t kDataReservedMask = 0x07;

struct DataHeader {
  bool key_phase = false;
  std::uint8_t pn_length = 1;        // 1, 2, 4 or 8
  std::uint64_t truncated_pn = 0;    // the low pn_length bytes of the packet number
  ConnectionId receiver_cid{};
  std::size_t header_size = 0;       // 1 + 8 + pn_length; set by decode and make_data_header

  friend bool operator==(const DataHeader&, const DataHeader&) = default;
};

constexpr std::size_t data_header_size(std::uint8_t pn_length) noexcept {
  return 1 + kConnectionIdSize + pn_length;
}

// Errors: unknown_packet_type (not a short header), malformed (reserved bits set), truncated
// (header incomplete or fewer than kAeadTagSize bytes of ciphertext follow).
Result<DataHeader> decode_data_header(std::span<const std::uint8_t> datagram) noexcept;

// Writes the header and returns its size. Errors: invalid_argument (pn_length not 1/2/4/8),
// value_out_of_range (truncated_pn does not fit pn_length bytes), buffer_too_small.
Result<std::size_t> encode_data_header(const DataHeader& header,
                                       std::span<std::uint8_t> out) noexcept;

// RFC 9000 A.2: the packet-number length (1, 2, 4 or 8 bytes) that lets the receiver recover
// full_pn: the smallest that covers twice the range of unacknowledged packets. largest_acked is
// empty before the peer acknowledged anything. full_pn <= largest_acked gives 8 (always safe).
std::uint8_t packet_number_length(std::uint64_t full_pn,
                                  std::optional<std::uint64_t> largest_acked) noexcept;

// A header for sending packet full_pn, using packet_number_length.
DataHeader make_data_header(const ConnectionId& receiver_cid, bool key_phase, std::uint64_t full_pn,
                            std::optional<std::uint64_t> largest_acked) noexcept;

// RFC 9000 A.3: the packet number closest to largest_received + 1 whose low pn_bits bits are
// `truncated`. largest_received is empty before any packet was authenticated. pn_bits is 8, 16,
// 32 or 64 (64 returns truncated unchanged). Inputs are expected to be <= kMaxPacketNumber.
std::uint64_t decode_packet_number(std::optional<std::uint64_t> largest_received,
                                   std::uint64_t truncated, unsigned pn_bits) noexcept;

}  // namespace srudp::wire
