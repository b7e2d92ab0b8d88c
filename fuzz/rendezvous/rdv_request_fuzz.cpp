// Feeds arbitrary bytes through what the rdv server does with a connection, minus the sockets:
// an optional PROXY v1 line, a request head (split into lines as an HTTP parser would), the rdv/1
// checks under two mounts, the observed address, the response that would be written, and the
// dialer's command line after it. Checks the invariants each step promises.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "rendezvous/candidate_list.hpp"
#include "rendezvous/dialer_command.hpp"
#include "rendezvous/observed_address.hpp"
#include "rendezvous/proxy_protocol.hpp"
#include "rendezvous/rdv_request.hpp"
#include "rendezvous/rdv_response.hpp"

namespace {

using namespace srudp;
using namespace srudp::rendezvous;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

HttpRequestHead parse_head(std::string_view text) {
  HttpRequestHead head;
  const auto line_end = text.find("\r\n");
  const std::string_view request_line = text.substr(0, line_end);
  const auto space = request_line.find(' ');
  head.method = request_line.substr(0, space);
  if (space != std::string_view::npos) {
    const std::string_view rest = request_line.substr(space + 1);
    const auto second = rest.find(' ');
    head.target = rest.substr(0, second);
    if (second != std::string_view::npos) head.version = rest.substr(second + 1) == "HTTP/1.1" ? 11 : 10;
  }
  std::string_view fields = line_end == std::string_view::npos ? std::string_view() : text.substr(line_end + 2);
  while (!fields.empty()) {
    const auto end = fields.find("\r\n");
    const std::string_view line = fields.substr(0, end);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      head.fields.push_back({line.substr(0, colon), value});
    }
    if (end == std::string_view::npos) break;
    fields.remove_prefix(end + 2);
  }
  return head;
}

void check_request(const HttpRequestHead& head, const RdvRequestRules& rules, const SocketAddress& peer) {
  const auto result = check_rdv_request(head, rules);
  if (const auto* rejection = std::get_if<RdvRejection>(&result)) {
    const int code = code_of(rejection->status);
    require(code == 400 || code == 404 || code == 426);
    require(!rejection->reason.empty());
    const auto response = format_error_response(rejection->status, rejection->reason);
    require(response.starts_with("HTTP/1.1 " + std::to_string(code) + " "));
    return;
  }
  const auto& request = std::get<RdvRequest>(result);
  require(!request.token.empty() && request.token.size() <= rules.max_token_length);
  require(request.self_addrs.size() <= rules.max_self_addrs);
  for (const auto& a : request.self_addrs) require(is_usable_candidate(a));
  // The list the server would send to the peer re-parses to itself.
  const TrustedProxies trusted({*IpPrefix::parse("127.0.0.0/8")});
  ProxyClaims claims;
  claims.x_forwarded_for = head.field("X-Forwarded-For");
  claims.x_forwarded_port = head.field("X-Forwarded-Port");
  const auto observed = observed_address(peer, claims, trusted);
  const auto peers = peer_candidates(request.self_addrs, observed);
  require(peers.size() <= request.self_addrs.size() + 1);
  for (std::size_t i = 1; i < peers.size(); ++i) require(candidate_less(peers[i - 1], peers[i]));
  const auto text = format_candidate_list(peers);
  require(text.find_first_of("\r\n") == std::string::npos);
  if (observed && is_usable_candidate(*observed)) {
    const auto reparsed = parse_candidate_list(text, kMaxSelfAddrs + 1);
    require(reparsed.has_value() && *reparsed == peers);
  }
  const auto response = format_upgrade_response(peers, observed);
  require(response.starts_with("HTTP/1.1 101 ") && response.ends_with("\r\n\r\n"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto proxy = parse_proxy_v1(input);
  SocketAddress peer = SocketAddress::v4(127, 0, 0, 1, 40000);
  if (proxy.kind == ProxyLine::Kind::parsed) {
    require(proxy.size <= kMaxProxyV1Line && proxy.size <= input.size());
    require(input.substr(0, proxy.size).ends_with("\r\n"));
    input.remove_prefix(proxy.size);
  }
  const auto head_end = input.find("\r\n\r\n");
  const auto head = parse_head(input.substr(0, head_end));
  check_request(head, RdvRequestRules{}, peer);
  RdvRequestRules mounted;
  mounted.mount = normalize_mount("/rdv");
  check_request(head, mounted, peer);

  if (head_end != std::string_view::npos) {
    const std::string_view after = input.substr(head_end + 4);
    const auto command = parse_dialer_command(after);
    using K = DialerCommand::Kind;
    if (command.kind == K::continue_relay || command.kind == K::other) {
      require(command.line_size > 0 && command.line_size <= after.size());
      require(command.line_size <= kMaxDialerCommandLine && after[command.line_size - 1] == '\n');
      require((command.kind == K::other) == command.other.has_value());
    }
  }
  for (const auto& field : head.fields) (void)parse_candidate_list(field.value, kMaxSelfAddrs);
  return 0;
}
