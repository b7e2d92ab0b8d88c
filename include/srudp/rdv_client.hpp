// srudp::rdv::Client: two programs that know only an rdv server's URL and a shared token get an
// established srudp connection to each other.
//
//   srudp::rdv::Client client(io.get_executor());
//   srudp::Connection c = co_await client.async_dial("http://rdv.example.com:8080", token, use_awaitable);
//   // the other program: client.async_accept(same url, same token)
//
// From the token the client derives the lookup id it sends the server and the handshake PSK the
// server never sees (rendezvous::derive_token_secrets). It sends DIAL or ACCEPT (rdv/1), waits in
// the server's lobby for the peer, and runs the srudp connection through the server's relay: the
// relay carries srudp packets in frames and sees only ciphertext. Both peers punch holes towards
// each other's candidates (rendezvous/hole_puncher.hpp) on the connection's own UDP socket, and
// the dialer moves the connection to a direct path when one works (PathPolicy).
//
// Keep the Client while the connection is in use: it owns the UDP socket and the relay.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "srudp/connection.hpp"
#include "srudp/endpoint.hpp"
#include "srudp/options.hpp"

namespace srudp::rdv {

// How the dialer picks the path (the acceptor follows whatever the dialer does).
enum class PathPolicy {
  fast,         // the relay carries data at once; punching goes on, and a direct path takes over
                // when it works (and hands back to the relay if it goes dark)
  wait,         // rdv's picker: a direct path if one works within `wait`, else the relay (and fast from there)
  direct_only,  // never the relay: no_path when punching fails
  relay_only,   // never punch
};

struct ClientOptions {
  // Identity keys, pinning, windows, timeouts. The PSK is the token's (any psk set here is replaced).
  ConnectionOptions connection;
  PathPolicy policy = PathPolicy::fast;
  std::chrono::milliseconds wait{1000};                      // for PathPolicy::wait
  std::chrono::milliseconds server_connect_timeout{10'000};  // TCP connect to the rdv server
  std::uint16_t stun_port = 3478;  // the rdv server's STUN port (our public UDP address); 0: none
  bool loopback_candidates = false;  // offer 127.0.0.1 / ::1 too (tests on one machine)
  // Debugging and fuzzing corpora: the request head sent to the server and every datagram of the
  // endpoint are also written to files in this folder (scripts/fuzz_corpus). Empty: off.
  std::string dump_directory{};
};

// How the connection reaches the peer.
struct PathInfo {
  bool relayed = true;
  std::string address;                 // the peer's address, or the rdv server's for the relay
  std::chrono::milliseconds elapsed{};  // since async_dial / async_accept started
};

class ClientSession;

class Client {
 public:
  using executor_type = boost::asio::any_io_executor;
  using ConnectionHandler = boost::asio::any_completion_handler<void(boost::system::error_code, Connection)>;

  explicit Client(const executor_type& executor, ClientOptions options = {});
  ~Client();  // closes the connection's paths
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // DIAL: completes once the connection to the peer is established. Errors: invalid_argument (URL,
  // token), the server's refusals (rendezvous_refused, no_peer_found, replaced_by_newer_peer,
  // server_unavailable), network errors reaching the server, handshake_timeout, relay_lost.
  template <class Token = boost::asio::default_completion_token_t<executor_type>>
  auto async_dial(std::string url, std::string token, Token&& completion = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, Connection)>(
        [this](auto handler, std::string u, std::string t) {
          start(true, std::move(u), std::move(t), ConnectionHandler(std::move(handler)));
        },
        completion, std::move(url), std::move(token));
  }
  // ACCEPT: the same, as the other role.
  template <class Token = boost::asio::default_completion_token_t<executor_type>>
  auto async_accept(std::string url, std::string token, Token&& completion = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, Connection)>(
        [this](auto handler, std::string u, std::string t) {
          start(false, std::move(u), std::move(t), ConnectionHandler(std::move(handler)));
        },
        completion, std::move(url), std::move(token));
  }

  // The path in use now (after completion; it changes when the connection moves). Once the
  // connection is closed: the last path seen (at establishment, a move, or an earlier call).
  PathInfo path() const;
  // Open connections (or ones still delivering after a graceful close) on this client's socket.
  std::size_t connection_count() const;
  // The UDP endpoint the connection runs on (after async_dial / async_accept started), or null.
  Endpoint* endpoint();
  void close();

 private:
  void start(bool dial, std::string url, std::string token, ConnectionHandler handler);

  executor_type executor_;
  ClientOptions options_;
  std::shared_ptr<ClientSession> session_;
};

}  // namespace srudp::rdv
