// SRT (Debian libsrt-openssl 1.5, Haivision's Secure Reliable Transport, encrypted with AES-128):
// the UDP transport broadcasters use, and the other encrypted reliable UDP protocol a user
// would weigh against srudp, measured by the bench programs in the same run.
//
// Both use SRT's file mode (SRTT_FILE: reliable, loss-based congestion control, 1200-byte
// payloads like everyone else here): bulk with the stream API, round trips with the message API.
// File mode makes received data readable when the receiver sends its periodic ACK (every 10 ms),
// so a round trip takes about 16 ms whatever the path. Live mode is no better for a reliable
// ping-pong: it delivers at the sender's timestamp plus its latency window (120 ms by default,
// about 200 ms per round trip measured here), and with a window of 0 or 1 ms and too-late drop off
// (reliable) SRT 1.5 never delivered the echo. Each side is
// an SRT socket; SRT runs its own send and receive threads. Sockets are created in the
// namespaces of a bench::Placement: the UDP socket is made by srt_bind/srt_connect, on the
// calling thread.
#pragma once

#include <netinet/in.h>
#include <srt/srt.h>
#include <sys/socket.h>
#include <syslog.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "placement.hpp"

namespace srt_baseline {

using Clock = std::chrono::steady_clock;

inline std::runtime_error error(const std::string& what) {
  return std::runtime_error("SRT " + what + ": " + srt_getlasterror_str());
}

class Library {
 public:
  Library() {
    if (srt_startup() < 0) throw error("startup");
    srt_setloglevel(LOG_CRIT);  // no per-connection chatter on stderr
  }
  ~Library() { srt_cleanup(); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

// An SRT socket closed on scope exit.
class Socket {
 public:
  Socket() : s_(srt_create_socket()) {
    if (s_ == SRT_INVALID_SOCK) throw error("create_socket");
  }
  explicit Socket(SRTSOCKET s) : s_(s) {}
  ~Socket() {
    if (s_ != SRT_INVALID_SOCK) srt_close(s_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  SRTSOCKET get() const { return s_; }

  template <class T>
  void set(SRT_SOCKOPT option, T value, const char* name) {
    if (srt_setsockflag(s_, option, &value, sizeof value) == SRT_ERROR) throw error(name);
  }

 private:
  SRTSOCKET s_;
};

enum class Mode { bulk, messages };

// File mode, 1200-byte payloads, AES-128 with a passphrase both sides share.
inline void configure(Socket& s, Mode mode) {
  s.set(SRTO_TRANSTYPE, SRTT_FILE, "SRTO_TRANSTYPE");
  s.set(SRTO_MESSAGEAPI, mode == Mode::messages, "SRTO_MESSAGEAPI");
  s.set(SRTO_PAYLOADSIZE, 1200, "SRTO_PAYLOADSIZE");
  static constexpr char kPassphrase[] = "srudp-bench-srt-passphrase";
  if (srt_setsockflag(s.get(), SRTO_PASSPHRASE, kPassphrase, sizeof kPassphrase - 1) == SRT_ERROR) {
    throw error("SRTO_PASSPHRASE");
  }
  s.set(SRTO_PBKEYLEN, 16, "SRTO_PBKEYLEN");
  // ms: a stuck transfer fails instead of hanging.
  s.set(SRTO_RCVTIMEO, 10'000, "SRTO_RCVTIMEO");
  s.set(SRTO_SNDTIMEO, 10'000, "SRTO_SNDTIMEO");
}

inline sockaddr_in ipv4(const std::string& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::runtime_error("SRT: bad IPv4 address " + ip);
  return a;
}

// A listener on the receiver's address, a caller connected to it, and the accepted socket.
class Pair {
 public:
  Pair(const bench::Placement& placement, Mode mode) {
    configure(listener_, mode);
    configure(caller_, mode);
    sockaddr_in address = ipv4(placement.receiver_ip, 0);
    placement.enter_receiver();
    const bool bound = srt_bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != SRT_ERROR &&
                       srt_listen(listener_.get(), 1) != SRT_ERROR;
    placement.go_home();
    if (!bound) throw error("bind/listen");
    int length = sizeof address;
    if (srt_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) == SRT_ERROR) {
      throw error("getsockname");
    }
    placement.enter_sender();
    const int connected = srt_connect(caller_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    placement.go_home();
    if (connected == SRT_ERROR) throw error("connect");
    sockaddr_storage peer{};
    int peer_length = sizeof peer;
    accepted_ = std::make_unique<Socket>(srt_accept(listener_.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length));
    if (accepted_->get() == SRT_INVALID_SOCK) throw error("accept");
  }

  SRTSOCKET sender() const { return caller_.get(); }
  SRTSOCKET receiver() const { return accepted_->get(); }

 private:
  Socket listener_;
  Socket caller_;
  std::unique_ptr<Socket> accepted_;
};

// Seconds to move `bytes` caller -> accepted socket (written in 64 KiB calls, sent in 1200-byte
// packets); nullopt when either side stalled for 10 s or it took over two minutes, as ENet's.
inline std::optional<double> bulk_seconds(const bench::Placement& placement, std::size_t bytes) {
  Library library;
  Pair pair(placement, Mode::bulk);
  std::atomic<bool> complete{false};
  Clock::time_point end{};
  std::thread receiver([&] {
    std::vector<char> buffer(1 << 16);
    std::size_t received = 0;
    const auto deadline = Clock::now() + std::chrono::minutes(2);
    while (received < bytes && Clock::now() < deadline) {
      const int n = srt_recv(pair.receiver(), buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) break;
      received += static_cast<std::size_t>(n);
    }
    end = Clock::now();
    complete = received >= bytes;
  });
  const std::vector<char> chunk(1 << 16, 0x5a);
  const auto start = Clock::now();
  bool sent_all = true;
  for (std::size_t sent = 0; sent < bytes;) {
    const int n = srt_send(pair.sender(), chunk.data(), static_cast<int>(std::min(chunk.size(), bytes - sent)));
    if (n <= 0) {
      sent_all = false;
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  receiver.join();
  if (!sent_all || !complete) return std::nullopt;
  return std::chrono::duration<double>(end - start).count();
}

// Round trips of a `size`-byte message (echoed by a thread on the accepted socket), in
// microseconds. Throws when an echo does not come back within 10 s.
inline std::vector<double> round_trips(const bench::Placement& placement, int warmup, int count,
                                       std::size_t size = 64) {
  Library library;
  Pair pair(placement, Mode::messages);
  // The echo thread wakes every 100 ms to see whether it should stop.
  const int echo_timeout_ms = 100;
  if (srt_setsockflag(pair.receiver(), SRTO_RCVTIMEO, &echo_timeout_ms, sizeof echo_timeout_ms) == SRT_ERROR) {
    throw error("SRTO_RCVTIMEO");
  }
  std::atomic<bool> stop{false};
  std::thread echoer([&] {
    std::vector<char> buffer(2048);
    while (!stop) {
      const int n = srt_recvmsg(pair.receiver(), buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) continue;  // the receive timeout: look at `stop` again
      if (srt_sendmsg2(pair.receiver(), buffer.data(), n, nullptr) == SRT_ERROR) return;
    }
  });
  const std::vector<char> message(size, 0x5a);
  std::vector<char> reply(2048);
  std::vector<double> rtts;
  std::string failure;
  for (int i = 0; i < warmup + count && failure.empty(); ++i) {
    const auto start = Clock::now();
    if (srt_sendmsg2(pair.sender(), message.data(), static_cast<int>(message.size()), nullptr) == SRT_ERROR) {
      failure = std::string("sendmsg: ") + srt_getlasterror_str();
    } else if (srt_recvmsg(pair.sender(), reply.data(), static_cast<int>(reply.size())) <= 0) {
      failure = std::string("echo lost: ") + srt_getlasterror_str();
    } else if (i >= warmup) {
      rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  }
  stop = true;
  echoer.join();
  if (!failure.empty()) throw std::runtime_error("SRT " + failure);
  return rtts;
}

}  // namespace srt_baseline
