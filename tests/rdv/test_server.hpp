// An rdv server on loopback with an ephemeral port, run by its own io_context thread, stopped
// gracefully (and, past a deadline, forcibly) at the end of the test.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "rdv/raw_http_client.hpp"
#include "rdv/server.hpp"

namespace srudp::test {

inline rdv::ServerConfig loopback_config() {
  rdv::ServerConfig config;
  config.listen = {boost::asio::ip::make_address("127.0.0.1"), 0};
  config.stun_ports = {};
  config.lobby.timeout = std::chrono::seconds(10);
  config.header_timeout = std::chrono::seconds(5);
  config.linger_timeout = std::chrono::milliseconds(500);
  config.drain_timeout = std::chrono::seconds(2);
  return config;
}

class TestServer {
 public:
  explicit TestServer(rdv::ServerConfig config = loopback_config())
      : server_(std::make_unique<rdv::Server>(io_.get_executor(), std::move(config))) {
    std::promise<void> finished;
    finished_ = finished.get_future();
    thread_ = std::thread([this, done = std::move(finished)]() mutable {
      io_.run();
      done.set_value();
    });
  }
  ~TestServer() { stop_and_wait(std::chrono::seconds(10)); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  rdv::Server& server() { return *server_; }
  boost::asio::ip::tcp::endpoint endpoint() const { return server_->http_endpoint(); }

  // stop(), then wait for the server to drain. False if it did not within the deadline (it is
  // then stopped by force).
  bool stop_and_wait(std::chrono::milliseconds deadline) {
    if (!thread_.joinable()) return true;
    server_->stop();
    const bool drained = finished_.wait_for(deadline) == std::future_status::ready;
    if (!drained) io_.stop();
    thread_.join();
    return drained;
  }
  // True once the server's io_context has run out of work (it drained after stop()).
  bool finished_within(std::chrono::milliseconds deadline) {
    return finished_.wait_for(deadline) == std::future_status::ready;
  }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<rdv::Server> server_;
  std::future<void> finished_;
  std::thread thread_;
};

// The server's /metrics text, fetched over a new connection ("" if none came).
inline std::string metrics_of(TestServer& server) {
  RawHttpClient client(server.endpoint());
  client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  return client.read_to_end().value_or("");
}

// The value of one unlabelled counter or gauge in /metrics text, or -1 if it is not there.
inline long long metric_value(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

}  // namespace srudp::test
