#include "srudp/options.hpp"

#include <gtest/gtest.h>

#include "io/connection_config.hpp"
#include "transport/connection.hpp"

namespace srudp {
namespace {

TEST(Options, KeysGoToHexAndBack) {
  const Key key = random_key();
  const std::string hex = to_hex(key);
  EXPECT_EQ(hex.size(), 64u);
  ASSERT_TRUE(key_from_hex(hex));
  EXPECT_EQ(*key_from_hex(hex), key);
  EXPECT_FALSE(key_from_hex(hex.substr(1)));
  EXPECT_FALSE(key_from_hex(std::string(64, 'g')));
  EXPECT_NE(random_key(), random_key());
}

TEST(Options, PublicKeyOfASecretIsStable) {
  const Key secret = random_key();
  EXPECT_EQ(public_key_of(secret), public_key_of(secret));
  EXPECT_NE(public_key_of(secret), secret);
}

TEST(Options, MapToTheCoreConfiguration) {
  ConnectionOptions options;
  options.psk = random_key();
  options.identity_secret = random_key();
  options.pinned_peer = public_key_of(random_key());
  options.congestion = CongestionControl::new_reno;
  options.idle_timeout = std::chrono::seconds(7);
  options.keepalive_interval = std::chrono::seconds(2);
  options.max_ack_delay = std::chrono::milliseconds(9);
  options.stream_receive_window = 256 << 10;
  options.max_streams = 17;
  auto config = io::make_connection_config(options);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_TRUE(config->handshake.psk);
  ASSERT_TRUE(config->handshake.identity);
  EXPECT_EQ(config->handshake.identity->public_key.bytes, public_key_of(*options.identity_secret));
  EXPECT_EQ(config->handshake.pinned_peer->bytes, *options.pinned_peer);
  EXPECT_EQ(config->congestion, transport::CongestionAlgorithm::new_reno);
  EXPECT_EQ(config->idle_timeout, std::chrono::seconds(7));
  EXPECT_EQ(config->keepalive_interval, std::chrono::seconds(2));
  EXPECT_EQ(config->max_ack_delay, std::chrono::milliseconds(9));
  EXPECT_EQ(config->stream_receive_window, 256u << 10);
  EXPECT_EQ(config->max_streams, 17u);
}

// The public defaults are the core's: BBR, and the timers.
TEST(Options, DefaultsAreTheCoreDefaults) {
  ConnectionOptions options;
  options.psk = random_key();
  const auto config = io::make_connection_config(options);
  ASSERT_TRUE(config) << config.error().message();
  const transport::ConnectionConfig core;
  EXPECT_EQ(config->congestion, transport::CongestionAlgorithm::bbr);
  EXPECT_EQ(config->congestion, core.congestion);
  EXPECT_EQ(config->idle_timeout, core.idle_timeout);
  EXPECT_EQ(config->keepalive_interval, core.keepalive_interval);
  EXPECT_EQ(config->max_ack_delay, core.max_ack_delay);
}

TEST(Options, WithoutKeysOrWithTwoIdentitiesAreRefused) {
  EXPECT_EQ(io::make_connection_config(ConnectionOptions{}).error(), errc::invalid_argument);
  ConnectionOptions both;
  both.identity_secret = random_key();
  both.identity_file = "/nonexistent";
  EXPECT_EQ(io::make_connection_config(both).error(), errc::invalid_argument);
  ConnectionOptions missing_file;
  missing_file.identity_file = "/nonexistent/srudp-identity";
  EXPECT_TRUE(io::make_connection_config(missing_file).error());
}

}  // namespace
}  // namespace srudp
