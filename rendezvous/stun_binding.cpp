#include "rendezvous/stun_binding.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace srudp::rendezvous {
namespace {

// Attributes a Binding request may carry that need no action here: credentials (this usage has
// none), ICE's, and PADDING. CHANGE-REQUEST is understood only when it asks for no change.
bool understood(const StunAttribute& a) {
  namespace at = stun_attribute;
  switch (a.type) {
    case at::username:
    case at::message_integrity:
    case at::message_integrity_sha256:
    case at::userhash:
    case at::realm:
    case at::nonce:
    case at::priority:
    case at::use_candidate:
    case at::padding:
      return true;
    case at::change_request:
      return a.value.size() == 4 && std::all_of(a.value.begin(), a.value.end(), [](std::uint8_t b) { return b == 0; });
    default:
      return a.type >= at::first_optional;
  }
}

StunAnswer written(StunAnswer::Kind kind, const Result<std::size_t>& size, std::size_t limit) {
  if (!size || *size > limit) return StunAnswer{StunAnswer::Kind::too_large, 0};
  return StunAnswer{kind, *size};
}

}  // namespace

StunAnswer answer_stun_binding(std::span<const std::uint8_t> request, const SocketAddress& source,
                               std::span<std::uint8_t> out, const StunBindingRules& rules) {
  auto decoded = decode_stun_message(request);
  if (!decoded || decoded->type != stun_type::binding_request) return StunAnswer{};
  const StunMessage& message = *decoded;
  // Write into a scratch buffer no larger than the limit; a reply that does not fit is not sent.
  std::array<std::uint8_t, 512> scratch{};
  const std::size_t limit = std::min(out.size(), request.size());

  if (!message.has_magic_cookie()) {
    if (!rules.answer_rfc3489) return StunAnswer{StunAnswer::Kind::rfc3489_refused, 0};
    // RFC 8489 section 11: an old client gets MAPPED-ADDRESS, and no change of address or port.
    // Only an IPv4 reply fits the allowance.
    const auto* change = message.find(stun_attribute::change_request);
    if (change && !understood(*change)) return StunAnswer{};
    StunWriter writer(scratch, stun_type::binding_success, message.id_field);
    writer.add_mapped_address(source);
    const auto answer = written(StunAnswer::Kind::success, writer.finish(),
                                std::min(out.size(), request.size() + kRfc3489Allowance));
    if (answer.kind == StunAnswer::Kind::success) std::copy_n(scratch.begin(), answer.size, out.begin());
    return answer;
  }

  std::vector<std::uint16_t> unknown;
  for (const auto& a : message.attributes) {
    if (!understood(a) && std::find(unknown.begin(), unknown.end(), a.type) == unknown.end()) {
      unknown.push_back(a.type);
    }
  }
  StunAnswer answer;
  if (!unknown.empty()) {
    StunWriter writer(scratch, stun_type::binding_error, message.id_field);
    writer.add_error_code(420, "Unknown Attribute");
    writer.add_unknown_attributes(unknown);
    if (message.has_fingerprint) writer.add_fingerprint();
    answer = written(StunAnswer::Kind::error, writer.finish(), limit);
  } else {
    StunWriter writer(scratch, stun_type::binding_success, message.id_field);
    writer.add_xor_mapped_address(source);
    if (message.has_fingerprint) writer.add_fingerprint();
    answer = written(StunAnswer::Kind::success, writer.finish(), limit);
  }
  if (answer.size > 0) std::copy_n(scratch.begin(), answer.size, out.begin());
  return answer;
}

Result<std::size_t> write_stun_binding_request(const StunTransactionId& id, std::span<std::uint8_t> out) {
  StunIdField id_field{};
  const std::array<std::uint8_t, 4> cookie = {0x21, 0x12, 0xA4, 0x42};
  std::copy(cookie.begin(), cookie.end(), id_field.begin());
  std::copy(id.begin(), id.end(), id_field.begin() + 4);
  StunWriter writer(out, stun_type::binding_request, id_field);
  // Header, PADDING and FINGERPRINT make up kStunBindingRequestSize.
  writer.add_padding(kStunBindingRequestSize - kStunHeaderSize - 4 - 8);
  writer.add_fingerprint();
  return writer.finish();
}

Result<SocketAddress> read_stun_binding_response(std::span<const std::uint8_t> response,
                                                 const StunTransactionId& id) {
  auto decoded = decode_stun_message(response);
  if (!decoded) return decoded.error();
  const StunMessage& message = *decoded;
  if (!message.has_magic_cookie() || message.transaction_id() != id) return errc::unexpected_packet;
  if (message.type != stun_type::binding_success) return errc::unexpected_packet;
  if (const auto* x = message.find(stun_attribute::xor_mapped_address)) {
    if (auto address = decode_xor_mapped_address(x->value, message.id_field)) return *address;
    return errc::malformed;
  }
  if (const auto* m = message.find(stun_attribute::mapped_address)) {
    if (auto address = decode_mapped_address(m->value)) return *address;
  }
  return errc::malformed;
}

}  // namespace srudp::rendezvous
