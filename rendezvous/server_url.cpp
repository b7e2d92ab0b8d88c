#include "rendezvous/server_url.hpp"

#include <charconv>

namespace srudp::rendezvous {

std::string ServerUrl::target(std::string_view lookup_id) const {
  std::string out = mount;
  out += '/';
  out += lookup_id;
  return out;
}

std::string ServerUrl::host_header() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 80) out += ":" + std::to_string(port);
  return out;
}

Result<ServerUrl> parse_server_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size()) return errc::invalid_argument;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = url[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) return errc::invalid_argument;
  }
  url.remove_prefix(kScheme.size());
  if (url.find_first_of("?#@ \t\r\n") != std::string_view::npos) return errc::invalid_argument;
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : url.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);

  ServerUrl out;
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return errc::invalid_argument;
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return errc::invalid_argument;
      port = rest.substr(1);
      if (port.empty()) return errc::invalid_argument;
    }
    if (out.host.find(':') == std::string::npos) return errc::invalid_argument;
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return errc::invalid_argument;
    }
    if (out.host.find(':') != std::string::npos) return errc::invalid_argument;
  }
  if (out.host.empty()) return errc::invalid_argument;
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return errc::invalid_argument;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  out.mount = std::string(path);
  return out;
}

}  // namespace srudp::rendezvous
