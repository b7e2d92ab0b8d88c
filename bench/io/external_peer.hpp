// Baselines that are programs of their own (bench/peers/: quinn in Rust, KCP in Go), run in the
// same bench run as srudp. Each side is one child process, put in its network namespace with
// `ip netns exec` when the placement has one. The peers speak a small line protocol on stdout:
//
//   PEER receive --listen IP:0 --streams K [--congestion C]   "listening PORT", then
//                                                           "received BYTES SECONDS" (from accept)
//   PEER send --connect IP:PORT --bytes N --streams K [--congestion C]
//   PEER echo --listen IP:0                                  "listening PORT"
//   PEER ping --connect IP:PORT --count N --size 64 --warmup W
//                                                           "setup_ns T", then "rtt_ns R1 R2 ..."
//   PEER hold --listen IP:0 --connections N                  "listening PORT", then "rss_growth B"
//   PEER idle --connect IP:PORT --connections N              "rss_growth B"
//
// CPU time: the children are reaped before a case returns, so getrusage(RUSAGE_CHILDREN) counts
// both sides (stream_vs_tcp's cpu_seconds adds it).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "placement.hpp"

extern char** environ;

namespace external_peer {

using Clock = std::chrono::steady_clock;

// A peer program and the name its rows carry.
struct Peer {
  std::string name;
  std::string program;
  std::vector<std::string> extra;  // added to both sides' arguments (e.g. --congestion bbr)
};

// One child process with its stdout on a pipe; killed and reaped on destruction if still running.
class Child {
 public:
  Child(const std::string& netns, std::vector<std::string> args) {
    if (!netns.empty()) args.insert(args.begin(), {"ip", "netns", "exec", netns});
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (rc != 0) {
      ::close(pipe_fds[0]);
      throw std::runtime_error("cannot start " + args.front() + ": " + std::strerror(rc));
    }
    out_ = pipe_fds[0];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }

  // The next line the child printed, or nullopt at its end of output or after `timeout`.
  std::optional<std::string> read_line(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (const auto nl = buffered_.find('\n'); nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffered_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // The first line starting with `word` (the word and its space removed); other lines are skipped.
  std::optional<std::string> expect(const std::string& word, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (auto line = read_line(deadline - Clock::now())) {
      if (line->rfind(word + " ", 0) == 0) return line->substr(word.size() + 1);
    }
    return std::nullopt;
  }

  // Waits for the child to exit; true when it exited with status 0 within `timeout`.
  bool wait(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      if (r < 0 || Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffered_;
};

inline std::vector<std::string> arguments(const Peer& peer, std::initializer_list<std::string> args) {
  std::vector<std::string> all{peer.program};
  all.insert(all.end(), args);
  all.insert(all.end(), peer.extra.begin(), peer.extra.end());
  return all;
}

// `streams` streams of `bytes_each` from the sender's side to the receiver's; the receiver's
// seconds from accepting the connection to the last byte, or nullopt when it failed.
inline std::optional<double> bulk_seconds(const Peer& peer, const bench::Placement& where, int streams,
                                          std::size_t bytes_each) {
  Child receiver(where.receiver_netns, arguments(peer, {"receive", "--listen", where.receiver_ip + ":0", "--streams",
                                                        std::to_string(streams)}));
  const auto port = receiver.expect("listening", std::chrono::seconds(10));
  if (!port) return std::nullopt;
  Child sender(where.sender_netns,
               arguments(peer, {"send", "--connect", where.receiver_ip + ":" + *port, "--bytes", std::to_string(bytes_each),
                                "--streams", std::to_string(streams)}));
  const auto received = receiver.expect("received", std::chrono::seconds(120));
  const bool sender_ok = sender.wait(std::chrono::seconds(10));
  const bool receiver_ok = receiver.wait(std::chrono::seconds(10));
  if (!received || !sender_ok || !receiver_ok) {
    std::fprintf(stderr, "%s: %s\n", peer.name.c_str(),
                 !received    ? "the receiver reported nothing within 120 s"
                 : !sender_ok ? "the sender failed or did not exit within 10 s"
                              : "the receiver failed or did not exit within 10 s");
    return std::nullopt;
  }
  std::istringstream in(*received);
  std::size_t bytes = 0;
  double seconds = 0;
  in >> bytes >> seconds;
  if (bytes != bytes_each * static_cast<std::size_t>(streams)) {
    std::fprintf(stderr, "%s: received %zu of %zu bytes\n", peer.name.c_str(), bytes,
                 bytes_each * static_cast<std::size_t>(streams));
    return std::nullopt;
  }
  return seconds;
}

struct RoundTrips {
  std::vector<double> rtts_us;
  double setup_us = 0;  // connecting plus the first round trip
};

// `count` round trips of `size`-byte messages after `warmup` ones, over one stream.
inline std::optional<RoundTrips> round_trips(const Peer& peer, const bench::Placement& where, int warmup, int count,
                                             std::size_t size) {
  Child echo(where.receiver_netns, arguments(peer, {"echo", "--listen", where.receiver_ip + ":0"}));
  const auto port = echo.expect("listening", std::chrono::seconds(10));
  if (!port) return std::nullopt;
  Child ping(where.sender_netns,
             arguments(peer, {"ping", "--connect", where.receiver_ip + ":" + *port, "--count", std::to_string(count),
                              "--size", std::to_string(size), "--warmup", std::to_string(warmup)}));
  const auto setup = ping.expect("setup_ns", std::chrono::seconds(30));
  const auto samples = ping.expect("rtt_ns", std::chrono::seconds(600));
  const bool ping_ok = ping.wait(std::chrono::seconds(10));
  echo.wait(std::chrono::seconds(10));
  if (!setup || !samples || !ping_ok) return std::nullopt;
  RoundTrips result;
  result.setup_us = std::stod(*setup) / 1e3;
  std::istringstream in(*samples);
  for (double ns = 0; in >> ns;) result.rtts_us.push_back(ns / 1e3);
  if (result.rtts_us.size() != static_cast<std::size_t>(count)) return std::nullopt;
  return result;
}

// Resident set growth of both sides together while they hold `connections` established, idle
// connections, or nullopt when either side failed. Both are killed once they have reported.
inline std::optional<double> idle_rss_growth(const Peer& peer, int connections) {
  Child hold("", arguments(peer, {"hold", "--listen", "127.0.0.1:0", "--connections", std::to_string(connections)}));
  const auto port = hold.expect("listening", std::chrono::seconds(10));
  if (!port) return std::nullopt;
  Child idle("", arguments(peer, {"idle", "--connect", "127.0.0.1:" + *port, "--connections", std::to_string(connections)}));
  const auto connecting = idle.expect("rss_growth", std::chrono::seconds(120));
  const auto accepting = hold.expect("rss_growth", std::chrono::seconds(10));
  if (!connecting || !accepting) return std::nullopt;
  return std::stod(*connecting) + std::stod(*accepting);
}

}  // namespace external_peer
