// The one line the dialer writes on the relay connection after the 101: "CONTINUE\n" (relay
// from here on; the server forwards it to the acceptor) or "OTHER <ip:port>\n" (the peers went
// direct: the server counts a p2p success and closes both). Anything else is a protocol error.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "common/address.hpp"

namespace srudp::rendezvous {

// Longer than any valid line ("OTHER [v6]:port" is at most 54 bytes with its newline).
inline constexpr std::size_t kMaxDialerCommandLine = 128;
inline constexpr std::string_view kContinueLine = "CONTINUE\n";

struct DialerCommand {
  enum class Kind { need_more, continue_relay, other, invalid };
  Kind kind = Kind::need_more;
  std::size_t line_size = 0;           // bytes of the line with its "\n" (continue_relay, other)
  std::optional<SocketAddress> other;  // kind == other
};

// `received` is everything read from the dialer so far. A "\r" before the "\n" is tolerated.
DialerCommand parse_dialer_command(std::string_view received);

}  // namespace srudp::rendezvous
