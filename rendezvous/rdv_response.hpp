// The bytes the server writes back: the 101 that pairs two clients, and error responses
// (text/plain, nosniff, then close), byte-exact so they can be tested and fuzzed without a socket.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/address.hpp"
#include "rendezvous/http_status.hpp"

namespace srudp::rendezvous {

// HTTP/1.1 101 with Connection/Upgrade, Rdv-Peer-Addrs (sorted, deduplicated by the caller: see
// peer_candidates) and, when known, Rdv-Observed-Addr.
std::string format_upgrade_response(std::span<const SocketAddress> peer_addrs,
                                    const std::optional<SocketAddress>& observed);

// An error as Go's http.Error writes it: the message plus "\n" as a text/plain body, with
// X-Content-Type-Options: nosniff and Connection: close. 426 also names the protocol to upgrade to.
std::string format_error_response(HttpStatus status, std::string_view message);

// A 200 with the given content type and body, then close (for /metrics).
std::string format_content_response(std::string_view content_type, std::string_view body,
                                    bool head_only);

}  // namespace srudp::rendezvous
