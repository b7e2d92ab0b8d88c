// The rdv server under attack, each attacker written as code against the real server on loopback:
// slow request heads (slowloris) and abandoned lobbies by the thousand, token guessing, header
// injection and request smuggling, and a relay client pushing far past its byte rate. Attackers
// use their own loopback source addresses (127.1.0.0/16 and up), as distinct hosts would, so the
// per-source caps do not simply refuse them; the legitimate clients come from 127.0.0.1.
#include "rdv/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <random>
#include <memory>
#include <string>
#include <tuple>
#include <thread>
#include <vector>

#include "rdv/raw_http_client.hpp"
#include "rdv/rdv_request_builder.hpp"
#include "rdv/test_server.hpp"

namespace srudp::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Raises the soft limit on open files to at least `needed` (up to the hard limit, which root may
// raise as well). False if that is not possible.
bool allow_open_files(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= needed) return true;
  if (limit.rlim_max < needed) limit.rlim_max = needed;  // works as root only
  limit.rlim_cur = needed;
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) return true;
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= needed;
}

// An attacker's TCP connection from its own loopback address: 127.<net>.<host / 250>.<host % 250 + 1>.
class AttackerSocket {
 public:
  AttackerSocket(const boost::asio::ip::tcp::endpoint& server, std::uint8_t net, unsigned host) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl((127u << 24) | (unsigned{net} << 16) | ((host / 250) << 8) | (host % 250 + 1));
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(server.port());
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&source), sizeof source) == 0 &&
                 ::connect(fd_, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0;
  }
  ~AttackerSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  AttackerSocket(AttackerSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)), connected_(other.connected_) {}
  AttackerSocket& operator=(AttackerSocket&&) = delete;

  bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    return connected_ && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
                             static_cast<ssize_t>(bytes.size());
  }
  // Whatever the server sent so far, without waiting.
  std::string received() {
    std::string out;
    char buffer[4096];
    for (;;) {
      const auto n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

long long metric(TestServer& server, const std::string& name) { return metric_value(metrics_of(server), name); }

// Polls until the metric has the value or the deadline passes; returns the last value read.
long long await_metric(TestServer& server, const std::string& name, long long value, std::chrono::milliseconds deadline) {
  const auto end = Clock::now() + deadline;
  long long seen = metric(server, name);
  while (seen != value && Clock::now() < end) {
    std::this_thread::sleep_for(20ms);
    seen = metric(server, name);
  }
  return seen;
}

std::string random_token(std::mt19937& rng) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string token(32, 'a');
  for (char& c : token) c = kAlphabet[rng() % 32];
  return token;
}

// A legitimate pair meeting on a fresh token: both must see their 101. Returns how long it took
// from the first connect to the second 101.
std::chrono::milliseconds legitimate_pair(TestServer& server, const std::string& token, bool& paired) {
  const auto start = Clock::now();
  RawHttpClient acceptor(server.endpoint(), 3s);
  RawHttpClient dialer(server.endpoint(), 3s);
  acceptor.send(rdv_request("ACCEPT", "/" + token));
  dialer.send(rdv_request("DIAL", "/" + token));
  const int a = status_of(acceptor.read_head());
  const int d = status_of(dialer.read_head());
  paired = a == 101 && d == 101;
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

TEST(RdvAttack, SlowlorisAndAbandonedLobbiesDoNotKeepOutALegitimatePair) {
  constexpr unsigned kSlowloris = 5000;
  constexpr unsigned kAbandonedLobbies = 10000;
  constexpr unsigned kLobbyBatch = 500;
  // Client ends and server ends of the slow heads and one batch of lobbies, plus spare.
  ASSERT_TRUE(allow_open_files(kSlowloris + 4096 + 2 * kLobbyBatch + 512)) << "cannot raise RLIMIT_NOFILE";
  // The real limits (4096 connections, 64 per source, 4096 waiting), and a header time long
  // enough that the slow heads are still there when the legitimate pair comes.
  auto config = loopback_config();
  config.header_timeout = 60s;
  config.lobby.timeout = 60s;
  TestServer server(config);
  std::mt19937 rng(7);

  // 5000 connections from 100 hosts (50 each, under the per-source cap) that send part of a head
  // and then nothing: more than the server's 4096 connections.
  std::vector<AttackerSocket> slow;
  slow.reserve(kSlowloris);
  for (unsigned i = 0; i < kSlowloris; ++i) {
    slow.emplace_back(server.endpoint(), 1, i / 50);
    slow.back().send("DIAL /slow HTTP/1.1\r\nHost: x\r\n");
  }
  std::this_thread::sleep_for(1100ms);  // older than the eviction age (1 s)

  // 10 000 clients from 200 other hosts that join the lobby on a random token and go away
  // without waiting for their peer, 500 at a time.
  for (unsigned done = 0; done < kAbandonedLobbies; done += kLobbyBatch) {
    std::vector<AttackerSocket> batch;
    batch.reserve(kLobbyBatch);
    for (unsigned i = 0; i < kLobbyBatch; ++i) {
      batch.emplace_back(server.endpoint(), 2, (done + i) % 10000 / 50);
      batch.back().send(rdv_request("ACCEPT", "/" + random_token(rng)));
    }
  }  // each batch closes here

  // A legitimate pair, with the slow heads still open and the lobby churn just over.
  bool paired = false;
  const auto took = legitimate_pair(server, random_token(rng), paired);
  EXPECT_TRUE(paired);
  EXPECT_LT(took, 1000ms);
  EXPECT_GT(metric(server, "rdv_connections_evicted_total"), 0);
  std::printf("legitimate pair in %lld ms; %lld connections accepted, %lld refused, %lld evicted\n",
              static_cast<long long>(took.count()), metric(server, "rdv_connections_total"),
              metric(server, "rdv_connections_refused_total"), metric(server, "rdv_connections_evicted_total"));

  // Nothing is kept for the attackers once they are gone.
  slow.clear();
  EXPECT_EQ(await_metric(server, "rdv_lobby_waiting", 0, 10s), 0);
  // The /metrics request itself is the one connection left.
  EXPECT_EQ(await_metric(server, "rdv_connections_active", 1, 10s), 1);
}


TEST(RdvAttack, TokenGuessingFindsNothing) {
  auto config = loopback_config();
  TestServer server(config);
  std::mt19937 rng(11);
  const std::string token = random_token(rng);
  RawHttpClient victim(server.endpoint(), 3s);
  ASSERT_TRUE(victim.send(rdv_request("ACCEPT", "/" + token)));
  std::this_thread::sleep_for(50ms);

  // 3000 DIALs on random tokens of the same form, from 150 hosts (20 each, under the per-source
  // lobby cap), and the near misses an attacker who saw part of the token would try.
  std::vector<std::string> guesses;
  for (int i = 0; i < 3000; ++i) guesses.push_back(random_token(rng));
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string changed = token;
  changed.back() = changed.back() == 'a' ? 'b' : 'a';
  for (const std::string& near : std::vector<std::string>{upper, changed, token.substr(0, 31), token + "a", " " + token, token + "%00",
                                  token.substr(0, 16), "*"}) {
    guesses.push_back(near);
  }
  std::vector<AttackerSocket> attackers;
  attackers.reserve(guesses.size());
  for (std::size_t i = 0; i < guesses.size(); ++i) {
    attackers.emplace_back(server.endpoint(), 3, static_cast<unsigned>(i / 20));
    ASSERT_TRUE(attackers.back().connected());
    attackers.back().send(rdv_request("DIAL", "/" + guesses[i]));
  }
  // No guess was paired (a pairing answers 101 at once) and the victim heard nothing. A guess is
  // either waiting in the lobby (silent) or refused with a 400 (not a valid token). Waits until
  // every guess is one or the other: 3 000 connections take the server a while on a busy machine.
  std::vector<std::string> answers(attackers.size());
  int refused = 0;
  const auto end = Clock::now() + 10s;
  do {
    std::this_thread::sleep_for(50ms);
    refused = 0;
    for (std::size_t i = 0; i < attackers.size(); ++i) {
      answers[i] += attackers[i].received();
      refused += answers[i].empty() ? 0 : 1;
    }
  } while (metric(server, "rdv_lobby_waiting") != static_cast<long long>(guesses.size()) - refused + 1 &&
           Clock::now() < end);
  for (std::size_t i = 0; i < attackers.size(); ++i) {
    EXPECT_TRUE(answers[i].empty() || status_of(answers[i]) == 400) << guesses[i] << " -> " << answers[i];
  }
  EXPECT_LE(refused, 8);  // only near misses can be malformed
  EXPECT_EQ(metric(server, "rdv_pairs_total"), 0);
  EXPECT_EQ(metric(server, "rdv_lobby_waiting"), static_cast<long long>(guesses.size()) - refused + 1);

  // The real peer still finds the victim.
  RawHttpClient dialer(server.endpoint(), 3s);
  dialer.send(rdv_request("DIAL", "/" + token));
  EXPECT_EQ(status_of(dialer.read_head()), 101);
  EXPECT_EQ(status_of(victim.read_head()), 101);
  EXPECT_EQ(metric(server, "rdv_pairs_total"), 1);
}

TEST(RdvAttack, HeaderInjectionAndRequestSmugglingAreRejected) {
  TestServer server;
  // A victim waits on a token; every attack below tries to reach it.
  RawHttpClient victim(server.endpoint(), 3s);
  ASSERT_TRUE(victim.send(rdv_request("ACCEPT", "/victim")));
  std::this_thread::sleep_for(50ms);

  const std::string upgrade = "Connection: upgrade\r\nUpgrade: rdv/1\r\n";
  const std::string dial_victim = "DIAL /victim HTTP/1.1\r\nHost: x\r\n" + upgrade + "\r\n";
  const struct {
    const char* name;
    std::string request;
  } attacks[] = {
      // A body is not allowed at all, so a second request cannot hide in one.
      {"chunked body", "DIAL /x HTTP/1.1\r\nHost: x\r\n" + upgrade + "Transfer-Encoding: chunked\r\n\r\n" +
                           std::to_string(dial_victim.size()) + "\r\n" + dial_victim + "\r\n0\r\n\r\n"},
      {"CL and TE", "DIAL /x HTTP/1.1\r\nHost: x\r\n" + upgrade +
                        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + dial_victim},
      {"two lengths", "DIAL /x HTTP/1.1\r\nHost: x\r\n" + upgrade + "Content-Length: 0\r\nContent-Length: " +
                          std::to_string(dial_victim.size()) + "\r\n\r\n" + dial_victim},
      {"length and body", "DIAL /x HTTP/1.1\r\nHost: x\r\n" + upgrade + "Content-Length: " +
                              std::to_string(dial_victim.size()) + "\r\n\r\n" + dial_victim},
      {"pipelined", rdv_request("DIAL", "/x") + dial_victim},
      {"space before colon", "DIAL /x HTTP/1.1\r\nHost: x\r\n" + upgrade + "Transfer-Encoding : chunked\r\n\r\n"},
      {"obs-fold", "DIAL /x HTTP/1.1\r\nHost: x\r\n" + upgrade + "Rdv-Self-Addrs: 10.0.0.1:1\r\n 10.0.0.2:2\r\n\r\n"},
      {"bare LF", "DIAL /victim HTTP/1.1\nHost: x\nConnection: upgrade\nUpgrade: rdv/1\n\n"},
      {"bare CR in a value", "DIAL /x HTTP/1.1\r\nHost: x\r\n" + upgrade + "Rdv-Self-Addrs: 10.0.0.1:1\rX: y\r\n\r\n"},
      {"NUL in a value", "DIAL /x HTTP/1.1\r\nHost: x\r\n" + upgrade + std::string("X-A: a\0b\r\n\r\n", 11)},
      {"CRLF in the token", rdv_request("DIAL", "/victim%0d%0aSet-Cookie:%20x=1")},
      {"NUL in the token", rdv_request("DIAL", "/victim%00")},
      {"absolute form", "DIAL http://127.0.0.1/victim HTTP/1.1\r\nHost: x\r\n" + upgrade + "\r\n"},
      {"lower-case method", rdv_request("dial", "/victim")},
      {"HTTP/1.0", "DIAL /victim HTTP/1.0\r\nHost: x\r\n" + upgrade + "\r\n"},
      {"token header differs", rdv_request("DIAL", "/x", "", "Rdv-Token: victim\r\n")},
      {"huge token", rdv_request("DIAL", "/" + std::string(300, 'v'))},
      {"huge header", rdv_request("DIAL", "/x", "", "X-Pad: " + std::string(9000, 'p') + "\r\n")},
  };
  for (const auto& attack : attacks) {
    RawHttpClient client(server.endpoint(), 3s);
    client.send(attack.request);
    const auto response = client.read_to_end();
    ASSERT_TRUE(response) << attack.name << ": no answer, connection left open";
    const int status = status_of(*response);
    std::printf("%-22s -> %d\n", attack.name, status);
    EXPECT_GE(status, 400) << attack.name << " -> " << *response;
    EXPECT_LT(status, 500) << attack.name << " -> " << *response;
    // Nothing the attacker wrote comes back as a header of ours.
    const auto head_end = response->find("\r\n\r\n");
    EXPECT_EQ(response->substr(0, head_end).find("Set-Cookie"), std::string::npos) << attack.name;
    // Exactly one response: its head and the body its Content-Length announces, then the close.
    const auto length = header_of(response->substr(0, head_end + 2), "Content-Length");
    ASSERT_TRUE(length) << attack.name;
    EXPECT_EQ(response->size(), head_end + 4 + std::stoul(*length)) << attack.name << ": more than one response";
  }
  // Tokens are opaque: no path normalisation turns another one into the victim's. This one waits
  // in the lobby on its own token "../victim" (no answer), and nothing is paired.
  RawHttpClient traversal(server.endpoint(), 300ms);
  traversal.send(rdv_request("DIAL", "/../victim"));
  EXPECT_EQ(traversal.read_head(), "");
  EXPECT_EQ(metric(server, "rdv_pairs_total"), 0);

  // The victim is still waiting, unharmed, and meets its real peer.
  RawHttpClient dialer(server.endpoint(), 3s);
  dialer.send(dial_victim);
  EXPECT_EQ(status_of(dialer.read_head()), 101);
  EXPECT_EQ(status_of(victim.read_head()), 101);
}

TEST(RdvAttack, ARelayFloodDoesNotSlowAnotherRelay) {
  constexpr double kRate = 2.0 * 1024 * 1024;  // bytes per second, per direction
  auto config = loopback_config();
  config.relay_rate = {.per_second = kRate, .burst = 64 * 1024};
  TestServer server(config);
  const auto pair = [&](const std::string& token) {
    auto dialer = std::make_unique<RawHttpClient>(server.endpoint(), 10s);
    auto acceptor = std::make_unique<RawHttpClient>(server.endpoint(), 10s);
    dialer->send(rdv_request("DIAL", token));
    acceptor->send(rdv_request("ACCEPT", token));
    const bool ok = status_of(dialer->read_head()) == 101 && status_of(acceptor->read_head()) == 101;
    dialer->send("CONTINUE\n");
    return std::make_tuple(ok && acceptor->read_exact(9) == "CONTINUE\n", std::move(dialer), std::move(acceptor));
  };
  auto [flood_ok, flooder, flood_sink] = pair("/flood");
  auto [quiet_ok, sender, receiver] = pair("/quiet");
  ASSERT_TRUE(flood_ok && quiet_ok);

  // The flooder writes as fast as loopback takes it, ten times its rate, for the whole test; its
  // peer reads everything, so the relay is always busy forwarding at its limit.
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> flooded{0};
  std::thread flood([&, &flooder = flooder] {
    const std::string chunk(64 * 1024, 'f');
    while (!stop && flooder->send(chunk)) {
    }
  });
  std::thread sink([&, &flood_sink = flood_sink] {
    while (!stop) flooded += flood_sink->read_exact(64 * 1024).size();
  });
  std::this_thread::sleep_for(300ms);  // the flood is running

  // The other relay carries 2 MiB at its own rate regardless.
  const std::string data(2 * 1024 * 1024, 'q');
  const auto start = Clock::now();
  const std::size_t flooded_before = flooded;
  std::thread send_quiet([&, &sender = sender] { sender->send(data); });
  const auto got = receiver->read_exact(data.size());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double flood_rate = static_cast<double>(flooded - flooded_before) / seconds;
  send_quiet.join();
  stop = true;
  flooder->shutdown_write();
  flood_sink->shutdown_write();
  flood.join();
  sink.join();

  EXPECT_EQ(got.size(), data.size());
  const double quiet_rate = static_cast<double>(got.size()) / seconds;
  std::printf("quiet relay %.2f MiB/s, flooding relay %.2f MiB/s (limit %.2f MiB/s each)\n", quiet_rate / (1 << 20),
              flood_rate / (1 << 20), kRate / (1 << 20));
  // The quiet relay gets (nearly) its full rate; the flood is held to its own.
  EXPECT_GT(quiet_rate, 0.6 * kRate);
  EXPECT_LT(flood_rate, 1.3 * kRate);
}

}  // namespace
}  // namespace srudp::test
