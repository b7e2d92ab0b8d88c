#include "rendezvous/ip_prefix.hpp"

#include <charconv>

namespace srudp::rendezvous {

std::size_t IpBytesHash::operator()(const IpBytes& ip) const noexcept {
  std::size_t h = 1469598103934665603ull;
  for (auto b : ip) h = (h ^ b) * 1099511628211ull;
  return h;
}

std::optional<IpBytes> parse_ip(std::string_view text) {
  if (text.empty() || text.find_first_of("[]") != std::string_view::npos) return std::nullopt;
  std::string with_port = text.find(':') == std::string_view::npos
                              ? std::string(text) + ":0"
                              : "[" + std::string(text) + "]:0";
  const auto address = SocketAddress::parse(with_port);
  if (!address) return std::nullopt;
  return address->ip;
}

bool is_v4(const IpBytes& ip) noexcept {
  SocketAddress a;
  a.ip = ip;
  return a.is_v4();
}

std::string ip_to_string(const IpBytes& ip) {
  SocketAddress a;
  a.ip = ip;
  std::string text = a.to_string();  // "1.2.3.4:0" or "[::1]:0"
  text.erase(text.rfind(':'));
  if (text.starts_with('[')) text = text.substr(1, text.size() - 2);
  return text;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const unsigned offset = is_v4(*ip) ? 96 : 0;
  unsigned bits = 128 - offset;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (ec != std::errc{} || end != digits.data() + digits.size() || bits > 128 - offset) {
      return std::nullopt;
    }
  }
  IpPrefix prefix;
  prefix.bits_ = bits + offset;
  for (std::size_t i = 0; i < 16; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    std::uint8_t mask = 0xff;
    if (first_bit >= prefix.bits_) {
      mask = 0;
    } else if (prefix.bits_ - first_bit < 8) {
      mask = static_cast<std::uint8_t>(0xff << (8 - (prefix.bits_ - first_bit)));
    }
    prefix.network_[i] = static_cast<std::uint8_t>((*ip)[i] & mask);
  }
  return prefix;
}

bool IpPrefix::contains(const IpBytes& ip) const noexcept {
  unsigned remaining = bits_;
  for (std::size_t i = 0; i < 16 && remaining > 0; ++i) {
    const unsigned take = remaining < 8 ? remaining : 8;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((ip[i] & mask) != network_[i]) return false;
    remaining -= take;
  }
  return true;
}

std::string IpPrefix::to_string() const {
  const unsigned shown = is_v4(network_) ? bits_ - 96 : bits_;
  return ip_to_string(network_) + "/" + std::to_string(shown);
}

IpBytes source_key(const IpBytes& ip) noexcept {
  if (is_v4(ip)) return ip;
  IpBytes key = ip;
  for (std::size_t i = 8; i < 16; ++i) key[i] = 0;
  return key;
}

}  // namespace srudp::rendezvous
