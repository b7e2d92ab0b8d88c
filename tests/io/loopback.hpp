// Test support for the Asio layer: two endpoints on loopback, coroutine tasks bounded by a
// deadline, and byte patterns with their SHA-256.
#pragma once

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include "srudp/srudp.hpp"

namespace srudp::test {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;

inline ConnectionOptions psk_options() {
  ConnectionOptions options;
  options.psk = Key{};
  for (std::size_t i = 0; i < options.psk->size(); ++i) (*options.psk)[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return options;
}

// Runs `io` until `done()` holds or `deadline` passes. False on the deadline.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds deadline = 10s) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(10ms);
  }
  return true;
}

// Throws on an error, so a coroutine can fail the test (Tasks::run reports it).
inline void check(const boost::system::error_code& ec, const char* what) {
  if (ec) throw boost::system::system_error(ec, what);
}

// Coroutines run to completion within a deadline; the first exception fails the run.
class Tasks {
 public:
  explicit Tasks(asio::io_context& io) : io_(io) {}

  void spawn(asio::awaitable<void> task) {
    ++running_;
    asio::co_spawn(io_, std::move(task), [this](std::exception_ptr e) {
      --running_;
      if (e && !failure_) failure_ = e;
    });
  }

  ::testing::AssertionResult run(std::chrono::milliseconds deadline) {
    const bool finished = run_until(io_, [&] { return running_ == 0 || failure_ != nullptr; }, deadline);
    if (failure_) {
      try {
        std::rethrow_exception(failure_);
      } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "task failed: " << e.what();
      }
    }
    if (!finished) return ::testing::AssertionFailure() << running_ << " task(s) still running at the deadline";
    return ::testing::AssertionSuccess();
  }

  int running() const { return running_; }

 private:
  asio::io_context& io_;
  int running_ = 0;
  std::exception_ptr failure_;
};

// A server endpoint and a client endpoint on loopback, and one connection between them.
struct LoopbackPair {
  asio::io_context io;
  Endpoint server;
  Endpoint client;
  Connection client_side;  // from async_connect
  Connection server_side;  // from async_accept
  bool connected = false;

  explicit LoopbackPair(const std::string& address = "127.0.0.1", ConnectionOptions client_options = psk_options(),
                        ConnectionOptions server_options = psk_options())
      : server(io, udp::endpoint(asio::ip::make_address(address), 0),
               EndpointOptions{.accept_incoming = true, .server = std::move(server_options)}),
        client(io, udp::endpoint(asio::ip::make_address(address), 0)) {
    boost::system::error_code connect_ec = asio::error::would_block, accept_ec = asio::error::would_block;
    client.async_connect(server.local_endpoint(), std::move(client_options), [&](auto ec, Connection c) {
      connect_ec = ec;
      client_side = std::move(c);
    });
    server.async_accept([&](auto ec, Connection c) {
      accept_ec = ec;
      server_side = std::move(c);
    });
    run_until(io, [&] { return connect_ec != asio::error::would_block && accept_ec != asio::error::would_block; });
    connected = !connect_ec && !accept_ec && client_side.is_open() && server_side.is_open();
  }
};

// Deterministic bytes: stream `seed`'s content, cheap to make and to check.
inline std::vector<std::uint8_t> pattern(std::size_t size, std::uint64_t seed) {
  std::vector<std::uint8_t> out(size);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

class Sha256 {
 public:
  Sha256() { crypto_hash_sha256_init(&state_); }
  void update(const void* data, std::size_t size) {
    crypto_hash_sha256_update(&state_, static_cast<const unsigned char*>(data), size);
  }
  std::array<std::uint8_t, 32> finish() {
    std::array<std::uint8_t, 32> out{};
    crypto_hash_sha256_final(&state_, out.data());
    return out;
  }
  static std::array<std::uint8_t, 32> of(const std::vector<std::uint8_t>& bytes) {
    Sha256 h;
    h.update(bytes.data(), bytes.size());
    return h.finish();
  }

 private:
  crypto_hash_sha256_state state_{};
};

// Reads until eof, hashing; returns (byte count, SHA-256).
inline asio::awaitable<std::pair<std::size_t, std::array<std::uint8_t, 32>>> read_to_end(Stream& stream) {
  Sha256 hash;
  std::size_t total = 0;
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof) break;
    check(ec, "read");
    hash.update(buffer.data(), n);
    total += n;
  }
  co_return std::pair{total, hash.finish()};
}

}  // namespace srudp::test
