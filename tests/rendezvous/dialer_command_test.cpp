#include "rendezvous/dialer_command.hpp"

#include <gtest/gtest.h>

#include <string>

namespace srudp::rendezvous {
namespace {

using K = DialerCommand::Kind;

TEST(DialerCommand, Continue) {
  const auto c = parse_dialer_command("CONTINUE\nfirst relayed bytes");
  EXPECT_EQ(c.kind, K::continue_relay);
  EXPECT_EQ(c.line_size, 9u);
  EXPECT_EQ(parse_dialer_command("CONTINUE\r\n").line_size, 10u);
  EXPECT_EQ(kContinueLine, "CONTINUE\n");
}

TEST(DialerCommand, Other) {
  const auto c = parse_dialer_command("OTHER 192.168.1.20:41234\n");
  ASSERT_EQ(c.kind, K::other);
  EXPECT_EQ(c.other, SocketAddress::v4(192, 168, 1, 20, 41234));
  const auto v6 = parse_dialer_command("OTHER [2001:db8::1]:9\n");
  ASSERT_EQ(v6.kind, K::other);
  EXPECT_EQ(v6.other->to_string(), "[2001:db8::1]:9");
}

TEST(DialerCommand, NeedsMoreUntilNewline) {
  const std::string full = "CONTINUE\n";
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(parse_dialer_command(full.substr(0, n)).kind, K::need_more) << n;
  }
}

TEST(DialerCommand, AnythingElseIsInvalid) {
  for (const char* bad : {"continue\n", "CONTINUE \n", "OTHER\n", "OTHER x\n", "HELLO\n", "\n",
                          "rdv/1 DIAL abc\n"}) {
    EXPECT_EQ(parse_dialer_command(bad).kind, K::invalid) << bad;
  }
  EXPECT_EQ(parse_dialer_command(std::string(kMaxDialerCommandLine, 'C')).kind, K::invalid);
  EXPECT_EQ(parse_dialer_command(std::string(kMaxDialerCommandLine, 'C') + "\n").kind, K::invalid);
}

}  // namespace
}  // namespace srudp::rendezvous
