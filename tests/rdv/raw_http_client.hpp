// A blocking loopback TCP client for conformance tests: sends raw bytes, reads an HTTP response
// head or everything up to EOF. Every read is bounded by a receive timeout, so a server that
// stays silent fails the test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace srudp::test {

class RawHttpClient {
 public:
  explicit RawHttpClient(const boost::asio::ip::tcp::endpoint& server,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const bool v6 = server.address().is_v6();
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    set_timeout(timeout);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, server.data(), static_cast<socklen_t>(server.size())) != 0) {
      connected_ = false;
    }
  }
  ~RawHttpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  bool connected() const { return connected_; }

  void set_timeout(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  // The client's own address as "ip:port" (what the server should observe).
  std::string local_address() const {
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &size);
    char text[INET6_ADDRSTRLEN] = {};
    if (storage.ss_family == AF_INET) {
      const auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
      ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      return std::string(text) + ":" + std::to_string(ntohs(a->sin_port));
    }
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(a->sin6_port));
  }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Up to and including the blank line; empty if the connection ended or timed out first.
  std::string read_head() {
    for (;;) {
      const auto end = pending_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = pending_.substr(0, end + 4);
        pending_.erase(0, end + 4);
        return head;
      }
      if (!fill()) return {};
    }
  }

  // Exactly n bytes (fewer if the connection ended or timed out).
  std::string read_exact(std::size_t n) {
    while (pending_.size() < n && fill()) {
    }
    std::string out = pending_.substr(0, n);
    pending_.erase(0, out.size());
    return out;
  }

  // Everything until the server closes; nullopt if the timeout passed first.
  std::optional<std::string> read_to_end() {
    for (;;) {
      char buffer[16384];
      const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) break;
      if (n < 0) {
        if (errno == ECONNRESET) break;
        return std::nullopt;
      }
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
    std::string out = std::move(pending_);
    pending_.clear();
    return out;
  }

 private:
  bool fill() {
    char buffer[16384];
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = true;
  std::string pending_;
};

inline int status_of(std::string_view head) {
  if (!head.starts_with("HTTP/1.1 ") || head.size() < 12) return 0;
  return std::stoi(std::string(head.substr(9, 3)));
}

// The value of a header in a response head (exact name match), or nullopt.
inline std::optional<std::string> header_of(std::string_view head, std::string_view name) {
  const std::string key = "\r\n" + std::string(name) + ": ";
  const auto at = head.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  const auto start = at + key.size();
  return std::string(head.substr(start, head.find("\r\n", start) - start));
}

}  // namespace srudp::test
