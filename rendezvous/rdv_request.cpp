#include "rendezvous/rdv_request.hpp"

#include <algorithm>

namespace srudp::rendezvous {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Connection is a list of tokens ("keep-alive, Upgrade"); rdv needs "upgrade" among them.
bool has_connection_upgrade(std::string_view value) {
  for (;;) {
    const auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), "upgrade")) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Tokens are opaque to the server, but they travel in a path, a header and log lines: visible
// ASCII only, bounded.
bool is_valid_token(std::string_view token, std::size_t max_length) {
  return !token.empty() && token.size() <= max_length &&
         std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

std::string_view to_string(RdvMethod method) noexcept {
  return method == RdvMethod::dial ? "DIAL" : "ACCEPT";
}

RdvMethod opposite(RdvMethod method) noexcept {
  return method == RdvMethod::dial ? RdvMethod::accept : RdvMethod::dial;
}

std::optional<std::string> HttpRequestHead::field(std::string_view name) const {
  std::optional<std::string> joined;
  for (const auto& f : fields) {
    if (!iequals(f.name, name)) continue;
    if (joined) {
      *joined += ", ";
      *joined += f.value;
    } else {
      joined = std::string(f.value);
    }
  }
  return joined;
}

std::optional<std::string_view> path_below_mount(std::string_view target, std::string_view mount) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (!path.starts_with(mount)) return std::nullopt;
  return path.substr(mount.size());
}

std::string normalize_mount(std::string_view mount) {
  std::string out(mount);
  if (!out.starts_with('/')) out.insert(out.begin(), '/');
  if (!out.ends_with('/')) out += '/';
  return out;
}

std::variant<RdvRequest, RdvRejection> check_rdv_request(const HttpRequestHead& head,
                                                         const RdvRequestRules& rules) {
  using S = HttpStatus;
  if (head.version != 11) return RdvRejection{S::upgrade_required, "rdv/1 needs HTTP/1.1"};
  const auto connection = head.field("Connection");
  const auto upgrade = head.field("Upgrade");
  if (!connection || !has_connection_upgrade(*connection) || !upgrade || *upgrade != "rdv/1") {
    return RdvRejection{S::upgrade_required, "expected Connection: upgrade and Upgrade: rdv/1"};
  }

  RdvRequest request;
  if (head.method == "DIAL") {
    request.method = RdvMethod::dial;
  } else if (head.method == "ACCEPT") {
    request.method = RdvMethod::accept;
  } else {
    return RdvRejection{S::bad_request, "bad method: expected DIAL or ACCEPT"};
  }

  const auto below = path_below_mount(head.target, rules.mount);
  if (!below) return RdvRejection{S::not_found, "not found"};
  const auto path_token = percent_decode(*below);
  if (!path_token) return RdvRejection{S::bad_request, "bad token encoding"};
  // rdv up to v0.0.5 sent the token in a header; accept it there too, but never two different ones.
  const auto header_token = head.field("Rdv-Token");
  if (!path_token->empty() && header_token && *header_token != *path_token) {
    return RdvRejection{S::bad_request, "token in path and Rdv-Token header differ"};
  }
  request.token = !path_token->empty() ? *path_token : header_token.value_or(std::string());
  if (!is_valid_token(request.token, rules.max_token_length)) {
    return RdvRejection{S::bad_request, "bad token"};
  }

  // The client must send nothing after the header until it has the response.
  const auto length = head.field("Content-Length");
  if ((length && *length != "0") || head.field("Transfer-Encoding")) {
    return RdvRejection{S::bad_request, "unexpected request body"};
  }

  auto self = parse_candidate_list(head.field("Rdv-Self-Addrs").value_or(std::string()),
                                   rules.max_self_addrs);
  if (!self) {
    return RdvRejection{S::bad_request, self.error() == errc::value_out_of_range
                                            ? "too many addresses in Rdv-Self-Addrs"
                                            : "bad address in Rdv-Self-Addrs"};
  }
  request.self_addrs = std::move(*self);
  return request;
}

}  // namespace srudp::rendezvous
