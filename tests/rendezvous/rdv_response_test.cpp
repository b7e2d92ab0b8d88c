#include "rendezvous/rdv_response.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

TEST(RdvResponse, UpgradeIsByteExact) {
  const std::vector<SocketAddress> peers = {SocketAddress::v4(192, 168, 1, 20, 41234),
                                            SocketAddress::v4(203, 0, 113, 7, 41234)};
  EXPECT_EQ(format_upgrade_response(peers, SocketAddress::v4(198, 51, 100, 9, 39841)),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Connection: upgrade\r\n"
            "Upgrade: rdv/1\r\n"
            "Rdv-Peer-Addrs: 192.168.1.20:41234, 203.0.113.7:41234\r\n"
            "Rdv-Observed-Addr: 198.51.100.9:39841\r\n"
            "\r\n");
  EXPECT_EQ(format_upgrade_response({}, std::nullopt),
            "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: rdv/1\r\n"
            "Rdv-Peer-Addrs: \r\n\r\n");
}

TEST(RdvResponse, ErrorsArePlainTextNosniffAndClose) {
  EXPECT_EQ(format_error_response(HttpStatus::conflict, "replaced by another conn"),
            "HTTP/1.1 409 Conflict\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Content-Length: 25\r\n"
            "Connection: close\r\n"
            "\r\n"
            "replaced by another conn\n");
  const auto upgrade = format_error_response(HttpStatus::upgrade_required, "x");
  EXPECT_TRUE(upgrade.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
  EXPECT_NE(upgrade.find("\r\nUpgrade: rdv/1\r\n"), std::string::npos);
}

TEST(RdvResponse, StatusCodesAndPhrases) {
  for (const auto& [status, code, phrase] :
       {std::tuple{HttpStatus::switching_protocols, 101, "Switching Protocols"},
        std::tuple{HttpStatus::bad_request, 400, "Bad Request"},
        std::tuple{HttpStatus::request_timeout, 408, "Request Timeout"},
        std::tuple{HttpStatus::conflict, 409, "Conflict"},
        std::tuple{HttpStatus::upgrade_required, 426, "Upgrade Required"},
        std::tuple{HttpStatus::internal_error, 500, "Internal Server Error"},
        std::tuple{HttpStatus::service_unavailable, 503, "Service Unavailable"}}) {
    EXPECT_EQ(code_of(status), code);
    EXPECT_EQ(reason_phrase(status), phrase);
  }
}

TEST(RdvResponse, ContentResponse) {
  EXPECT_EQ(format_content_response("text/plain", "a 1\n", false),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\na 1\n");
  EXPECT_EQ(format_content_response("text/plain", "a 1\n", true),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace srudp::rendezvous
