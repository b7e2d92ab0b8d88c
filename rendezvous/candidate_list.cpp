#include "rendezvous/candidate_list.hpp"

#include <algorithm>

namespace srudp::rendezvous {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_usable_candidate(const SocketAddress& address) noexcept {
  if (address.port == 0) return false;
  if (address.is_v4()) return address.v4_host_order() != 0;
  return std::any_of(address.ip.begin(), address.ip.end(), [](std::uint8_t b) { return b != 0; });
}

Result<CandidateList> parse_candidate_list(std::string_view header, std::size_t max_count) {
  CandidateList list;
  header = trim(header);
  if (header.empty()) return list;
  for (;;) {
    const auto comma = header.find(',');
    const auto element = trim(header.substr(0, comma));
    const auto address = SocketAddress::parse(element);
    if (!address || !is_usable_candidate(*address)) return errc::malformed;
    if (list.size() == max_count) return errc::value_out_of_range;
    list.push_back(*address);
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return list;
}

std::string format_candidate_list(std::span<const SocketAddress> addresses) {
  std::string out;
  for (const auto& a : addresses) {
    if (!out.empty()) out += ", ";
    out += a.to_string();
  }
  return out;
}

bool candidate_less(const SocketAddress& a, const SocketAddress& b) noexcept {
  if (a.is_v4() != b.is_v4()) return a.is_v4();
  return a < b;  // address bytes, then port
}

CandidateList peer_candidates(std::span<const SocketAddress> self_reported,
                              const std::optional<SocketAddress>& observed) {
  CandidateList out(self_reported.begin(), self_reported.end());
  if (observed) out.push_back(*observed);
  std::sort(out.begin(), out.end(), candidate_less);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace srudp::rendezvous
