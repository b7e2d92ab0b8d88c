// The PROXY protocol v1 line a TCP load balancer puts before the HTTP request to say who the
// client is ("PROXY TCP4 198.51.100.9 203.0.113.10 39841 8080\r\n"). The server honours it only
// from a configured trusted proxy; from anyone else it is a malformed request.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "common/address.hpp"

namespace srudp::rendezvous {

inline constexpr std::size_t kMaxProxyV1Line = 107;  // the spec's bound, CRLF included

struct ProxyLine {
  enum class Kind {
    need_more,  // a prefix of a PROXY line so far
    not_proxy,  // the stream does not start with "PROXY "
    invalid,    // starts with "PROXY " but is not a valid v1 line
    parsed,
  };
  Kind kind = Kind::need_more;
  std::size_t size = 0;                 // parsed: bytes of the line, CRLF included
  std::optional<SocketAddress> source;  // parsed: the client; nullopt for "PROXY UNKNOWN"
};

ProxyLine parse_proxy_v1(std::string_view received);

}  // namespace srudp::rendezvous
