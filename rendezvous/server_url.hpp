// The rdv server's URL as a client is given it: http://host[:port][/mount]. Only http: an rdv
// server behind TLS sits behind a reverse proxy that the client reaches by plain HTTP, or not at
// all (the peers' traffic is end-to-end encrypted either way; the token's lookup id is what an
// eavesdropper on plain HTTP learns, and it cannot derive the handshake key from it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace srudp::rendezvous {

struct ServerUrl {
  std::string host;       // a name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 80;
  std::string mount;      // "" or "/prefix" without a trailing slash
  // The request target for a lookup id: mount + "/" + id.
  std::string target(std::string_view lookup_id) const;
  // The Host header's value: host[:port], IPv6 in brackets.
  std::string host_header() const;
};

// errc::invalid_argument for anything but http://host[:port][/path] (no user info, query or
// fragment; a port in 1..65535).
Result<ServerUrl> parse_server_url(std::string_view url);

}  // namespace srudp::rendezvous
