#include "rendezvous/rdv_response.hpp"

#include "rendezvous/candidate_list.hpp"

namespace srudp::rendezvous {
namespace {

std::string status_line(HttpStatus status) {
  std::string line = "HTTP/1.1 ";
  line += std::to_string(code_of(status));
  line += ' ';
  line += reason_phrase(status);
  line += "\r\n";
  return line;
}

}  // namespace

std::string format_upgrade_response(std::span<const SocketAddress> peer_addrs,
                                    const std::optional<SocketAddress>& observed) {
  std::string out = status_line(HttpStatus::switching_protocols);
  out += "Connection: upgrade\r\nUpgrade: rdv/1\r\n";
  out += "Rdv-Peer-Addrs: " + format_candidate_list(peer_addrs) + "\r\n";
  if (observed) out += "Rdv-Observed-Addr: " + observed->to_string() + "\r\n";
  out += "\r\n";
  return out;
}

std::string format_error_response(HttpStatus status, std::string_view message) {
  const std::string body = std::string(message) + "\n";
  std::string out = status_line(status);
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "X-Content-Type-Options: nosniff\r\n";
  if (status == HttpStatus::upgrade_required) out += "Upgrade: rdv/1\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

std::string format_content_response(std::string_view content_type, std::string_view body,
                                    bool head_only) {
  std::string out = status_line(HttpStatus::ok);
  out += "Content-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

}  // namespace srudp::rendezvous
