#include "rendezvous/path_check.hpp"

#include <sodium.h>

#include <algorithm>
#include <vector>

#include "common/sodium.hpp"

namespace srudp::rendezvous {
namespace {

constexpr std::size_t kIntegritySize = crypto_auth_hmacsha256_BYTES;  // 32
constexpr std::size_t kIntegrityAttribute = 4 + kIntegritySize;

// RFC 8489 section 14.6: HMAC-SHA256 over the message up to the attribute, with the header's
// length field counting up to and including it.
void integrity(std::span<const std::uint8_t> before, const CheckKey& key, std::span<std::uint8_t, kIntegritySize> out) {
  std::array<std::uint8_t, kStunHeaderSize> header{};
  std::copy_n(before.begin(), kStunHeaderSize, header.begin());
  const std::size_t length = before.size() - kStunHeaderSize + kIntegrityAttribute;
  header[2] = static_cast<std::uint8_t>(length >> 8);
  header[3] = static_cast<std::uint8_t>(length & 0xff);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, header.data(), header.size());
  crypto_auth_hmacsha256_update(&state, before.data() + kStunHeaderSize, before.size() - kStunHeaderSize);
  crypto_auth_hmacsha256_final(&state, out.data());
}

Result<std::size_t> finish_with_integrity(StunWriter& writer, std::span<std::uint8_t> out, const CheckKey& key) {
  const std::array<std::uint8_t, kIntegritySize> placeholder{};
  const std::size_t before = writer.size();
  writer.add(stun_attribute::message_integrity_sha256, placeholder);
  auto size = writer.finish();
  if (!size) return size;
  integrity(out.first(before), key, std::span<std::uint8_t, kIntegritySize>(out.data() + before + 4, kIntegritySize));
  return size;
}

}  // namespace

Result<std::size_t> write_path_check_request(const StunTransactionId& id, const CheckKey& sender_key,
                                             std::span<std::uint8_t> out) {
  ensure_sodium_initialized();
  StunIdField field{};
  field[0] = static_cast<std::uint8_t>(kStunMagicCookie >> 24);
  field[1] = static_cast<std::uint8_t>(kStunMagicCookie >> 16);
  field[2] = static_cast<std::uint8_t>(kStunMagicCookie >> 8);
  field[3] = static_cast<std::uint8_t>(kStunMagicCookie);
  std::copy(id.begin(), id.end(), field.begin() + 4);
  StunWriter writer(out, stun_type::binding_request, field);
  writer.add_padding(kPathCheckRequestSize - kStunHeaderSize - 4 - kIntegrityAttribute);
  return finish_with_integrity(writer, out, sender_key);
}

Result<std::size_t> write_path_check_response(const StunIdField& request_id, const SocketAddress& request_source,
                                              const CheckKey& sender_key, std::span<std::uint8_t> out) {
  ensure_sodium_initialized();
  StunWriter writer(out, stun_type::binding_success, request_id);
  writer.add_xor_mapped_address(request_source);
  return finish_with_integrity(writer, out, sender_key);
}

Result<PathCheckMessage> read_path_check(std::span<const std::uint8_t> datagram, const CheckKey& peer_key) {
  auto message = decode_stun_message(datagram);
  if (!message || !message->has_magic_cookie()) return errc::malformed;
  PathCheckMessage out;
  if (message->type == stun_type::binding_request) {
    out.kind = PathCheckMessage::Kind::request;
  } else if (message->type == stun_type::binding_success) {
    out.kind = PathCheckMessage::Kind::response;
  } else {
    return errc::malformed;
  }
  // The integrity must be the last attribute (nothing after it is covered).
  if (message->find(stun_attribute::message_integrity_sha256) == nullptr) return errc::malformed;
  const StunAttribute& last = message->attributes.back();
  if (last.type != stun_attribute::message_integrity_sha256 || last.value.size() != kIntegritySize) {
    return errc::decrypt_failed;
  }
  ensure_sodium_initialized();
  const std::size_t offset = static_cast<std::size_t>(last.value.data() - datagram.data()) - 4;
  std::array<std::uint8_t, kIntegritySize> expected{};
  integrity(datagram.first(offset), peer_key, expected);
  if (crypto_verify_32(expected.data(), last.value.data()) != 0) return errc::decrypt_failed;
  out.id_field = message->id_field;
  if (out.kind == PathCheckMessage::Kind::response) {
    const StunAttribute* mapped = message->find(stun_attribute::xor_mapped_address);
    if (mapped == nullptr) return errc::malformed;
    out.mapped = decode_xor_mapped_address(mapped->value, message->id_field);
    if (!out.mapped) return errc::malformed;
  }
  return out;
}

}  // namespace srudp::rendezvous
