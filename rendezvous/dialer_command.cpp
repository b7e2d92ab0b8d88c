#include "rendezvous/dialer_command.hpp"

namespace srudp::rendezvous {

DialerCommand parse_dialer_command(std::string_view received) {
  using K = DialerCommand::Kind;
  const auto newline = received.find('\n');
  if (newline == std::string_view::npos) {
    return DialerCommand{received.size() >= kMaxDialerCommandLine ? K::invalid : K::need_more, 0, {}};
  }
  if (newline + 1 > kMaxDialerCommandLine) return DialerCommand{K::invalid, 0, {}};
  std::string_view line = received.substr(0, newline);
  if (line.ends_with('\r')) line.remove_suffix(1);
  if (line == "CONTINUE") return DialerCommand{K::continue_relay, newline + 1, {}};
  if (line.starts_with("OTHER ")) {
    if (const auto address = SocketAddress::parse(line.substr(6))) {
      return DialerCommand{K::other, newline + 1, address};
    }
  }
  return DialerCommand{K::invalid, 0, {}};
}

}  // namespace srudp::rendezvous
