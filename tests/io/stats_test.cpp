#include "srudp/stats.hpp"

#include <gtest/gtest.h>

namespace srudp {
namespace {

TEST(Stats, LossRateIsLostOverSent) {
  ConnectionStats stats;
  EXPECT_EQ(stats.loss_rate(), 0.0);  // nothing sent: no division by zero
  stats.packets_sent = 200;
  stats.packets_lost = 5;
  EXPECT_DOUBLE_EQ(stats.loss_rate(), 0.025);
}

}  // namespace
}  // namespace srudp
