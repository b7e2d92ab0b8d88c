// STUN Binding (RFC 8489) for address observation: the server's answer, and the client's request
// and reading of the answer.
//
// The server never sends a reply larger than the request, so it cannot amplify a flood aimed at
// a spoofed source. A bare 20-byte request therefore gets nothing (every useful reply is larger);
// clients pad their requests with a PADDING attribute (RFC 5780) to kStunBindingRequestSize,
// which fits the largest reply (IPv6 XOR-MAPPED-ADDRESS plus FINGERPRINT).
//
// RFC 3489 clients (no magic cookie, such as Debian's `stun`) cannot pad: their 28-byte request
// needs a 32-byte MAPPED-ADDRESS reply. Answering them is off by default and, when enabled,
// allows replies at most kRfc3489Allowance bytes larger than the request, IPv4 only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/address.hpp"
#include "common/result.hpp"
#include "rendezvous/stun_message.hpp"

namespace srudp::rendezvous {

inline constexpr std::size_t kStunBindingRequestSize = 52;
inline constexpr std::size_t kRfc3489Allowance = 4;

struct StunBindingRules {
  bool answer_rfc3489 = false;
};

struct StunAnswer {
  enum class Kind {
    ignored,         // not a STUN Binding request (or malformed): no reply
    too_large,       // the reply would be larger than the request: no reply
    rfc3489_refused, // an RFC 3489 request while answering them is off: no reply
    success,         // a Binding success response was written
    error,           // a Binding error response (420 Unknown Attribute) was written
  };
  Kind kind = Kind::ignored;
  std::size_t size = 0;  // bytes written to `out` (success, error)
};

// `source` is the request's source address, as the socket reported it.
StunAnswer answer_stun_binding(std::span<const std::uint8_t> request, const SocketAddress& source,
                               std::span<std::uint8_t> out, const StunBindingRules& rules);

// A Binding request padded to kStunBindingRequestSize, with FINGERPRINT. Returns its size.
Result<std::size_t> write_stun_binding_request(const StunTransactionId& id, std::span<std::uint8_t> out);
// The mapped address from a Binding success response to the request with this transaction id.
Result<SocketAddress> read_stun_binding_response(std::span<const std::uint8_t> response,
                                                 const StunTransactionId& id);

}  // namespace srudp::rendezvous
