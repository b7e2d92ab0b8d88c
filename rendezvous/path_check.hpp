// Path checks: the hole-punching probes two peers send each other's candidate addresses, as STUN
// Binding messages (RFC 8489) authenticated with MESSAGE-INTEGRITY-SHA256 under a key derived from
// the token (TokenSecrets::dialer_check_key / acceptor_check_key: the sender's role picks the key,
// so a message reflected back at its sender fails).
//
// A request is padded so that the response (XOR-MAPPED-ADDRESS of the request's source, then the
// integrity) is never larger than it: answering cannot amplify. A response authenticates only
// under the peer's key and with the transaction id of a request we sent.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/address.hpp"
#include "common/result.hpp"
#include "rendezvous/stun_message.hpp"

namespace srudp::rendezvous {

using CheckKey = std::array<std::uint8_t, 32>;

// 20-byte header + PADDING (4 + 24) + MESSAGE-INTEGRITY-SHA256 (4 + 32) = 84 bytes; the largest
// response (IPv6 XOR-MAPPED-ADDRESS, 24 bytes, plus the integrity) is 80.
inline constexpr std::size_t kPathCheckRequestSize = 84;

Result<std::size_t> write_path_check_request(const StunTransactionId& id, const CheckKey& sender_key,
                                             std::span<std::uint8_t> out);
Result<std::size_t> write_path_check_response(const StunIdField& request_id, const SocketAddress& request_source,
                                              const CheckKey& sender_key, std::span<std::uint8_t> out);

struct PathCheckMessage {
  enum class Kind { request, response } kind = Kind::request;
  StunIdField id_field{};
  std::optional<SocketAddress> mapped;  // a response: where the request came from, as the peer saw it
};
// A check message authenticated under `peer_key`; errc::decrypt_failed when its
// MESSAGE-INTEGRITY-SHA256 does not verify (or is not last), errc::malformed for anything else
// (not STUN, or STUN without that attribute: a STUN server's answer, say).
Result<PathCheckMessage> read_path_check(std::span<const std::uint8_t> datagram, const CheckKey& peer_key);

}  // namespace srudp::rendezvous
