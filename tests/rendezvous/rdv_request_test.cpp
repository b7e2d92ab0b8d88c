#include "rendezvous/rdv_request.hpp"

#include <gtest/gtest.h>

namespace srudp::rendezvous {
namespace {

HttpRequestHead valid_head(std::string_view method = "DIAL", std::string_view target = "/abc") {
  HttpRequestHead head;
  head.method = method;
  head.target = target;
  head.fields = {{"Host", "example.com"},
                 {"Connection", "upgrade"},
                 {"Upgrade", "rdv/1"},
                 {"Rdv-Self-Addrs", "192.168.1.16:39841, [2001:db8::5]:39841"}};
  return head;
}

RdvRejection rejected(const HttpRequestHead& head, const RdvRequestRules& rules = {}) {
  auto result = check_rdv_request(head, rules);
  EXPECT_TRUE(std::holds_alternative<RdvRejection>(result));
  return std::holds_alternative<RdvRejection>(result) ? std::get<RdvRejection>(result) : RdvRejection{};
}

TEST(RdvRequest, AcceptsDialAndAccept) {
  for (const auto method : {RdvMethod::dial, RdvMethod::accept}) {
    const auto result = check_rdv_request(valid_head(to_string(method)), {});
    ASSERT_TRUE(std::holds_alternative<RdvRequest>(result));
    const auto& request = std::get<RdvRequest>(result);
    EXPECT_EQ(request.method, method);
    EXPECT_EQ(request.token, "abc");
    ASSERT_EQ(request.self_addrs.size(), 2u);
    EXPECT_EQ(request.self_addrs[0], SocketAddress::v4(192, 168, 1, 16, 39841));
  }
  EXPECT_EQ(opposite(RdvMethod::dial), RdvMethod::accept);
}

TEST(RdvRequest, UpgradeHeadersAndVersionAnswer426) {
  auto old = valid_head();
  old.version = 10;
  EXPECT_EQ(rejected(old).status, HttpStatus::upgrade_required);
  for (const char* field : {"Connection", "Upgrade"}) {
    auto head = valid_head();
    std::erase_if(head.fields, [&](const HttpField& f) { return f.name == field; });
    EXPECT_EQ(rejected(head).status, HttpStatus::upgrade_required) << field;
  }
  auto wrong_protocol = valid_head();
  wrong_protocol.fields[2].value = "websocket";
  EXPECT_EQ(rejected(wrong_protocol).status, HttpStatus::upgrade_required);
  auto rdv2 = valid_head();
  rdv2.fields[2].value = "rdv/2";
  EXPECT_EQ(rejected(rdv2).status, HttpStatus::upgrade_required);
  // A header check comes before the method check, as in rdv.
  auto get = valid_head("GET");
  get.fields[1].value = "close";
  EXPECT_EQ(rejected(get).status, HttpStatus::upgrade_required);
}

TEST(RdvRequest, ConnectionIsCaseInsensitiveTokenList) {
  for (const char* value : {"Upgrade", "UPGRADE", "keep-alive, Upgrade", "upgrade ,close"}) {
    auto head = valid_head();
    head.fields[1].value = value;
    EXPECT_TRUE(std::holds_alternative<RdvRequest>(check_rdv_request(head, {}))) << value;
  }
  auto head = valid_head();
  head.fields[1].value = "upgraded";
  EXPECT_EQ(rejected(head).status, HttpStatus::upgrade_required);
}

TEST(RdvRequest, BadMethodTokenOrAddressesAnswer400) {
  EXPECT_EQ(rejected(valid_head("GET")).status, HttpStatus::bad_request);
  EXPECT_EQ(rejected(valid_head("dial")).status, HttpStatus::bad_request);
  EXPECT_EQ(rejected(valid_head("DIAL", "/")).status, HttpStatus::bad_request);
  EXPECT_EQ(rejected(valid_head("DIAL", "/a%2")).status, HttpStatus::bad_request);
  EXPECT_EQ(rejected(valid_head("DIAL", "/a%20b")).status, HttpStatus::bad_request);  // a space
  EXPECT_EQ(rejected(valid_head("DIAL", "/" + std::string(257, 'x'))).status, HttpStatus::bad_request);
  auto bad_addr = valid_head();
  bad_addr.fields[3].value = "192.168.1.16";
  EXPECT_EQ(rejected(bad_addr).status, HttpStatus::bad_request);
  auto too_many = valid_head();
  std::string ten;
  for (int i = 1; i <= 10; ++i) ten += (i > 1 ? "," : "") + std::string("10.0.0.9:") + std::to_string(i);
  too_many.fields[3].value = ten;
  EXPECT_EQ(rejected(too_many).reason, "too many addresses in Rdv-Self-Addrs");
  auto body = valid_head();
  body.fields.push_back({"Content-Length", "5"});
  EXPECT_EQ(rejected(body).reason, "unexpected request body");
  auto chunked = valid_head();
  chunked.fields.push_back({"Transfer-Encoding", "chunked"});
  EXPECT_EQ(rejected(chunked).status, HttpStatus::bad_request);
  auto empty_body = valid_head();
  empty_body.fields.push_back({"Content-Length", "0"});
  EXPECT_TRUE(std::holds_alternative<RdvRequest>(check_rdv_request(empty_body, {})));
}

TEST(RdvRequest, TokenFromOldRdvTokenHeader) {
  auto head = valid_head("ACCEPT", "/");
  head.fields.push_back({"Rdv-Token", "legacy"});
  const auto result = check_rdv_request(head, {});
  ASSERT_TRUE(std::holds_alternative<RdvRequest>(result));
  EXPECT_EQ(std::get<RdvRequest>(result).token, "legacy");
  auto same = valid_head();
  same.fields.push_back({"rdv-token", "abc"});
  EXPECT_TRUE(std::holds_alternative<RdvRequest>(check_rdv_request(same, {})));
  auto differ = valid_head();
  differ.fields.push_back({"Rdv-Token", "xyz"});
  EXPECT_EQ(rejected(differ).status, HttpStatus::bad_request);
}

TEST(RdvRequest, MountPathIsStripped) {
  RdvRequestRules rules;
  rules.mount = normalize_mount("/rdv");
  EXPECT_EQ(rules.mount, "/rdv/");
  const auto result = check_rdv_request(valid_head("DIAL", "/rdv/tok%2Den?ignored=1"), rules);
  ASSERT_TRUE(std::holds_alternative<RdvRequest>(result));
  EXPECT_EQ(std::get<RdvRequest>(result).token, "tok-en");
  EXPECT_EQ(rejected(valid_head("DIAL", "/other/tok"), rules).status, HttpStatus::not_found);
  EXPECT_EQ(rejected(valid_head("DIAL", "/rdvtok"), rules).status, HttpStatus::not_found);
  EXPECT_EQ(path_below_mount("/rdv/x?y", "/rdv/"), "x");
  EXPECT_EQ(path_below_mount("/rdv", "/rdv/"), std::nullopt);
  EXPECT_EQ(normalize_mount(""), "/");
  EXPECT_EQ(normalize_mount("a/b/"), "/a/b/");
}

TEST(RdvRequest, RepeatedFieldsJoin) {
  HttpRequestHead head;
  head.fields = {{"X-A", "1"}, {"x-a", "2"}, {"X-B", "3"}};
  EXPECT_EQ(head.field("X-A"), "1, 2");
  EXPECT_EQ(head.field("x-b"), "3");
  EXPECT_EQ(head.field("X-C"), std::nullopt);
  // Two Rdv-Self-Addrs lines make one list, still bounded.
  auto two = valid_head();
  two.fields.push_back({"Rdv-Self-Addrs", "10.0.0.3:3"});
  const auto result = check_rdv_request(two, {});
  ASSERT_TRUE(std::holds_alternative<RdvRequest>(result));
  EXPECT_EQ(std::get<RdvRequest>(result).self_addrs.size(), 3u);
}

}  // namespace
}  // namespace srudp::rendezvous
