// Candidate address lists of rdv/1 headers: Rdv-Self-Addrs (what a client reports about itself),
// Rdv-Peer-Addrs (what the server tells it about its peer) and Rdv-Observed-Addr (one address).
// Text form: "ip:port" with IPv6 in brackets, comma-separated, optional whitespace after commas.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.hpp"
#include "common/result.hpp"

namespace srudp::rendezvous {

using CandidateList = std::vector<SocketAddress>;

// rdv/1 allows at most 9 self-reported addresses (10 with the observed one).
inline constexpr std::size_t kMaxSelfAddrs = 9;

// A usable candidate: a port and a specified address (not 0.0.0.0 or ::).
bool is_usable_candidate(const SocketAddress& address) noexcept;

// Strict: every element must be a usable address; an empty header is an empty list; empty
// elements ("a,,b", a trailing comma) and more than `max_count` addresses are errors.
Result<CandidateList> parse_candidate_list(std::string_view header, std::size_t max_count);
std::string format_candidate_list(std::span<const SocketAddress> addresses);

// rdv's order (Go's netip.AddrPort.Compare): IPv4 before IPv6, then address, then port.
bool candidate_less(const SocketAddress& a, const SocketAddress& b) noexcept;

// What Rdv-Peer-Addrs says about a peer: its self-reported addresses plus the address the
// server observed, sorted in rdv's order and without duplicates.
CandidateList peer_candidates(std::span<const SocketAddress> self_reported,
                              const std::optional<SocketAddress>& observed);

}  // namespace srudp::rendezvous
