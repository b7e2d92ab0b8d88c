// Where a bench program's two sides live. By default both are on loopback in this process's
// network namespace. With --receiver-netns/--sender-netns (root, namespaces made by `ip netns
// add`) each side's sockets are opened inside its namespace, so one process measures a path
// between two namespaces with whatever the script put on it (nftables loss, a tbf rate limit).
// A socket stays in the namespace it was opened in, and switching applies to the calling thread
// only, so the main thread switches around each socket it opens and switches back.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bench {

class Placement {
 public:
  std::string receiver_netns, sender_netns;  // empty: stay where the process started
  std::string receiver_ip = "127.0.0.1";     // the receiver binds here; the sender dials it
  std::string sender_ip = "127.0.0.1";

  Placement() : home_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {}
  ~Placement() {
    if (home_ >= 0) ::close(home_);
  }
  Placement(const Placement&) = delete;
  Placement& operator=(const Placement&) = delete;

  bool across_namespaces() const { return !receiver_netns.empty() || !sender_netns.empty(); }

  void enter_receiver() const { enter(receiver_netns); }
  void enter_sender() const { enter(sender_netns); }
  void go_home() const { enter({}); }

 private:
  void enter(const std::string& netns) const {
    if (!across_namespaces()) return;  // setns needs privileges even to stay put
    const int fd = netns.empty() ? ::dup(home_) : ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("network namespace " + netns + ": " + std::strerror(errno));
    const int rc = ::setns(fd, CLONE_NEWNET);
    const int error = errno;
    ::close(fd);
    if (rc != 0) throw std::runtime_error("setns " + netns + ": " + std::strerror(error));
  }

  int home_;
};

}  // namespace bench
