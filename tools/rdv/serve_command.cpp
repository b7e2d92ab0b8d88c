// `rdv serve`: the rendezvous server until SIGTERM or SIGINT (graceful: 503 to the lobby, relays
// drain); a second signal stops at once.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "rdv/server.hpp"
#include "tools/rdv/cli_values.hpp"
#include "tools/rdv/commands.hpp"

namespace srudp::tools {
namespace {

struct ServeOptions {
  std::string listen = "[::]:8080";
  std::string stun_ports = "3478,3479";
  std::string mount = "/";
  std::string metrics_path = "/metrics";
  std::vector<std::string> trusted_proxies;
  std::string lobby_timeout = "120s";
  std::size_t max_waiting = 4096;
  std::size_t max_waiting_per_ip = 32;
  std::string header_timeout = "10s";
  std::string evict_heads_after = "1s";
  std::size_t max_header_bytes = 8192;
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_ip = 64;
  std::size_t max_relays = 1024;
  std::string relay_idle_timeout = "120s";
  std::string relay_rate = "32M";
  std::string drain_timeout = "30s";
  double stun_rate = 20;
  bool stun_rfc3489 = false;
  std::string dump_directory;
};

// Fills `config` from the options; false (with a message on stderr) on a bad value.
bool to_config(const ServeOptions& o, rdv::ServerConfig& config) {
  const auto fail = [](const char* option, const std::string& value) {
    std::fprintf(stderr, "rdv serve: bad value for %s: '%s'\n", option, value.c_str());
    return false;
  };
  const auto listen = parse_listen_address(o.listen);
  if (!listen) return fail("--listen", o.listen);
  config.listen = *listen;
  const auto ports = parse_port_list(o.stun_ports);
  if (!ports) return fail("--stun-ports", o.stun_ports);
  config.stun_ports = *ports;
  config.mount = o.mount;
  config.metrics_path = o.metrics_path;
  for (const auto& text : o.trusted_proxies) {
    const auto prefix = rendezvous::IpPrefix::parse(text);
    if (!prefix) return fail("--trusted-proxy", text);
    config.trusted_proxies.push_back(*prefix);
  }
  const auto duration = [&](const char* option, const std::string& text, Duration& out) {
    const auto value = parse_duration(text);
    if (!value) return fail(option, text);
    out = *value;
    return true;
  };
  if (!duration("--lobby-timeout", o.lobby_timeout, config.lobby.timeout) ||
      !duration("--header-timeout", o.header_timeout, config.header_timeout) ||
      !duration("--evict-heads-after", o.evict_heads_after, config.evict_heads_older_than) ||
      !duration("--relay-idle-timeout", o.relay_idle_timeout, config.relay_idle_timeout) ||
      !duration("--drain-timeout", o.drain_timeout, config.drain_timeout)) {
    return false;
  }
  config.lobby.max_waiting = o.max_waiting;
  config.lobby.max_waiting_per_source = o.max_waiting_per_ip;
  config.max_header_bytes = o.max_header_bytes;
  config.max_connections = o.max_connections;
  config.max_connections_per_source = o.max_connections_per_ip;
  config.max_relays = o.max_relays;
  const auto rate = parse_byte_count(o.relay_rate);
  if (!rate) return fail("--relay-rate", o.relay_rate);
  config.relay_rate.per_second = *rate;
  config.relay_rate.burst = std::min(*rate, 256.0 * 1024);
  config.stun_rate_per_source = {.per_second = o.stun_rate, .burst = 2 * o.stun_rate};
  config.stun_rules.answer_rfc3489 = o.stun_rfc3489;
  config.dump_directory = o.dump_directory;
  return true;
}

std::string describe(const rdv::Server& server, const rdv::ServerConfig& config) {
  const auto http = server.http_endpoint();
  std::string text = "rdv: listening on ";
  text += http.address().is_v6() ? "[" + http.address().to_string() + "]" : http.address().to_string();
  text += ":" + std::to_string(http.port()) + " mount " + config.mount + ", STUN on udp";
  const auto stun = server.stun_endpoints();
  if (stun.empty()) text += " off";
  for (std::size_t i = 0; i < stun.size(); ++i) text += (i ? "," : " ") + std::to_string(stun[i].port());
  return text;
}

int run_serve(const ServeOptions& options) {
  rdv::ServerConfig config;
  if (!to_config(options, config)) return 2;
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);  // before the "listening" line: no race
  std::unique_ptr<rdv::Server> server;
  try {
    server = std::make_unique<rdv::Server>(io.get_executor(), config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rdv serve: cannot listen on %s: %s\n", options.listen.c_str(), e.what());
    return 1;
  }
  spdlog::info("{}", describe(*server, config));

  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (stopping) {
          spdlog::warn("rdv: signal {} again: stopping now", signal);
          io.stop();
          return;
        }
        stopping = true;
        spdlog::info("rdv: signal {}: shutting down gracefully", signal);
        server->on_stopped([&signals] {
          boost::system::error_code ignored;
          signals.cancel(ignored);
        });
        server->stop();
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  io.run();
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ServeOptions>();
  auto* command = app.add_subcommand("serve", "run the rdv rendezvous server (rdv/1 over HTTP, STUN on UDP)");
  command->add_option("--listen", options->listen, "HTTP address:port; [::] is dual-stack")->capture_default_str();
  command->add_option("--stun-ports", options->stun_ports, "STUN Binding ports on the listen address, or 'none'")
      ->capture_default_str();
  command->add_option("--mount", options->mount, "path prefix of rdv requests")->capture_default_str();
  command->add_option("--metrics-path", options->metrics_path, "Prometheus metrics path ('' turns it off)")
      ->capture_default_str();
  command->add_option("--trusted-proxy", options->trusted_proxies,
                      "address or CIDR prefix allowed to send PROXY v1 / X-Forwarded-For / X-Forwarded-Port");
  command->add_option("--lobby-timeout", options->lobby_timeout, "how long a client waits for its peer")
      ->capture_default_str();
  command->add_option("--max-waiting", options->max_waiting, "clients in the lobby, in total")->capture_default_str();
  command->add_option("--max-waiting-per-ip", options->max_waiting_per_ip, "clients in the lobby per IPv4 or IPv6 /64")
      ->capture_default_str();
  command->add_option("--header-timeout", options->header_timeout, "time to send the request head")
      ->capture_default_str();
  command->add_option("--evict-heads-after", options->evict_heads_after,
                      "at --max-connections, a newcomer evicts the slowest head sending for longer than this (0s = never)")
      ->capture_default_str();
  command->add_option("--max-header-bytes", options->max_header_bytes, "request head size")->capture_default_str();
  command->add_option("--max-connections", options->max_connections, "unpaired TCP connections, in total")
      ->capture_default_str();
  command->add_option("--max-connections-per-ip", options->max_connections_per_ip,
                      "unpaired TCP connections per IPv4 or IPv6 /64")
      ->capture_default_str();
  command->add_option("--max-relays", options->max_relays, "concurrent pairs")->capture_default_str();
  command->add_option("--relay-idle-timeout", options->relay_idle_timeout, "close a silent relay after this")
      ->capture_default_str();
  command->add_option("--relay-rate", options->relay_rate, "bytes per second per relay direction (K/M/G; 0 = off)")
      ->capture_default_str();
  command->add_option("--drain-timeout", options->drain_timeout, "on SIGTERM, how long relays may finish")
      ->capture_default_str();
  command->add_option("--stun-rate", options->stun_rate, "STUN replies per second per source")->capture_default_str();
  command->add_option("--dump-packets", options->dump_directory,
                      "write request heads and STUN datagrams received to files in this folder (fuzzing corpora)");
  command->add_flag("--stun-rfc3489", options->stun_rfc3489,
                    "also answer RFC 3489 clients (replies up to 4 bytes larger than their requests)");
  command->callback([options, &exit_code] { exit_code = run_serve(*options); });
}

}  // namespace srudp::tools
