// rdv/1 request heads for tests, as an rdv client writes them.
#pragma once

#include <string>
#include <string_view>

namespace srudp::test {

inline std::string rdv_request(std::string_view method, std::string_view target,
                               std::string_view self_addrs = "", std::string_view extra_headers = "") {
  std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  out += "Host: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: rdv/1\r\n";
  if (!self_addrs.empty()) out += "Rdv-Self-Addrs: " + std::string(self_addrs) + "\r\n";
  out += extra_headers;
  out += "\r\n";
  return out;
}

}  // namespace srudp::test
