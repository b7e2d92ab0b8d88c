#include "srudp/error.hpp"

#include <gtest/gtest.h>

#include "common/result.hpp"

namespace srudp {
namespace {

TEST(Error, CategoryAndMessages) {
  std::error_code ec = errc::decrypt_failed;
  EXPECT_STREQ(ec.category().name(), "srudp");
  EXPECT_EQ(ec.message(), "packet authentication failed");
  for (int v = static_cast<int>(errc::truncated); v <= static_cast<int>(errc::io_error); ++v) {
    EXPECT_NE(error_category().message(v), "unknown srudp error") << v;
  }
  EXPECT_EQ(error_category().message(9999), "unknown srudp error");
}

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 5;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  EXPECT_FALSE(ok.error());
  Result<int> bad = errc::truncated;
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), errc::truncated);
}

}  // namespace
}  // namespace srudp
