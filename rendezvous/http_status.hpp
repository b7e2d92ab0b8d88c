// The HTTP status codes rdv/1 answers with, and their reason phrases.
#pragma once

#include <string_view>

namespace srudp::rendezvous {

enum class HttpStatus : int {
  switching_protocols = 101,  // paired: the connection is now rdv/1
  ok = 200,                   // /metrics
  bad_request = 400,          // bad method, token or addresses, data sent in the lobby
  not_found = 404,            // outside the mount path
  request_timeout = 408,      // lobby timeout, or the request header took too long
  conflict = 409,             // replaced by a newer connection with the same token and method
  upgrade_required = 426,     // missing or wrong upgrade headers, or not HTTP/1.1
  internal_error = 500,
  service_unavailable = 503,  // shutting down, or a capacity limit reached
};

std::string_view reason_phrase(HttpStatus status) noexcept;

constexpr int code_of(HttpStatus status) noexcept { return static_cast<int>(status); }

}  // namespace srudp::rendezvous
