// rdv/1 requests: a DIAL or ACCEPT over HTTP/1.1 with the token in the path. The server's HTTP
// parser (Beast, in rdv/) hands over the request head as plain strings; this decides whether it
// is a well-formed rdv/1 request and, if not, which status code answers it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rendezvous/candidate_list.hpp"
#include "rendezvous/http_status.hpp"

namespace srudp::rendezvous {

enum class RdvMethod { dial, accept };
std::string_view to_string(RdvMethod method) noexcept;
RdvMethod opposite(RdvMethod method) noexcept;

struct HttpField {
  std::string_view name;
  std::string_view value;
};

// A parsed HTTP request head. Views into the parser's buffer.
struct HttpRequestHead {
  std::string_view method;
  std::string_view target;     // origin form: "/path?query"
  unsigned version = 11;       // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::vector<HttpField> fields;

  // All values of a field (names are case-insensitive), joined with ", " as RFC 9110 allows for
  // list-valued fields. nullopt when absent.
  std::optional<std::string> field(std::string_view name) const;
};

struct RdvRequestRules {
  std::string mount = "/";  // the path prefix the server is mounted on; always ends with '/'
  std::size_t max_self_addrs = kMaxSelfAddrs;
  std::size_t max_token_length = 256;
};

struct RdvRequest {
  RdvMethod method = RdvMethod::dial;
  std::string token;
  CandidateList self_addrs;
};

struct RdvRejection {
  HttpStatus status = HttpStatus::bad_request;
  std::string_view reason;  // a static string, the text/plain body
};

// The path of `target` below `mount` ("/rdv/abc?x" under "/rdv/" is "abc"), or nullopt when the
// target is outside the mount.
std::optional<std::string_view> path_below_mount(std::string_view target, std::string_view mount);

// "/rdv", "rdv/" and "/rdv/" all mount at "/rdv/"; "" and "/" at the root.
std::string normalize_mount(std::string_view mount);

// Checks in rdv's order: HTTP/1.1 and the upgrade headers (426), the method, the token, a body,
// the addresses (400). The target must be below rules.mount (route with path_below_mount first).
std::variant<RdvRequest, RdvRejection> check_rdv_request(const HttpRequestHead& head,
                                                         const RdvRequestRules& rules);

}  // namespace srudp::rendezvous
