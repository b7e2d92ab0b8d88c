#include "sim/ip.hpp"

namespace srudp::sim {

std::string to_string(const IpAddress& ip) {
  std::string text = at_port(ip, 0).to_string();  // "a.b.c.d:0" or "[v6]:0"
  text.erase(text.rfind(':'));
  if (!text.empty() && text.front() == '[') text = text.substr(1, text.size() - 2);
  return text;
}

}  // namespace srudp::sim
