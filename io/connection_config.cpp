#include "io/connection_config.hpp"

#include "io/identity_file.hpp"

namespace srudp::io {

Result<transport::ConnectionConfig> make_connection_config(const ConnectionOptions& options) {
  transport::ConnectionConfig config;
  crypto::HandshakeConfig& handshake = config.handshake;
  if (options.psk) handshake.psk.emplace(std::span<const std::uint8_t, crypto::kKeySize>(*options.psk));
  if (options.identity_secret && !options.identity_file.empty()) return errc::invalid_argument;
  if (options.identity_secret) {
    handshake.identity = crypto::KeyPair::from_secret(
        crypto::SecretKey(std::span<const std::uint8_t, crypto::kKeySize>(*options.identity_secret)));
  } else if (!options.identity_file.empty()) {
    auto identity = io::load_identity(options.identity_file);
    if (!identity) return identity.error();
    handshake.identity = std::move(*identity);
  }
  if (options.pinned_peer) handshake.pinned_peer = crypto::PublicKey{*options.pinned_peer};
  if (auto mode = handshake.mode(); !mode) return mode.error();

  switch (options.congestion) {
    case CongestionControl::cubic: config.congestion = transport::CongestionAlgorithm::cubic; break;
    case CongestionControl::new_reno: config.congestion = transport::CongestionAlgorithm::new_reno; break;
    case CongestionControl::bbr: config.congestion = transport::CongestionAlgorithm::bbr; break;
  }
  if (options.handshake_timeout <= std::chrono::milliseconds::zero()) return errc::invalid_argument;
  config.handshake_timeout = options.handshake_timeout;
  config.idle_timeout = options.idle_timeout;
  config.keepalive_interval = options.keepalive_interval;
  config.max_ack_delay = options.max_ack_delay;
  config.stream_receive_window = options.stream_receive_window;
  config.connection_receive_window = options.connection_receive_window;
  // Auto-tuning may grow windows up to the larger of the default ceiling and what was asked for.
  config.max_receive_window = std::max(config.max_receive_window,
                                       std::max(options.stream_receive_window, options.connection_receive_window));
  config.stream_send_buffer = options.stream_send_buffer;
  config.max_streams = options.max_streams;
  return config;
}

}  // namespace srudp::io
