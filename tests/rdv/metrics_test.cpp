// /metrics in Prometheus text format: the gauges and counters, HEAD, and turning it off.
#include "rdv/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "rdv/raw_http_client.hpp"
#include "rdv/rdv_request_builder.hpp"
#include "rdv/test_server.hpp"

namespace srudp::test {
namespace {

using namespace std::chrono_literals;

TEST(RdvMetrics, PrometheusTextFormat) {
  rdv::ServerMetrics counters;
  counters.pairs_total = 3;
  counters.responses_total[101] = 6;
  counters.responses_total[408] = 1;
  rdv::MetricsGauges gauges;
  gauges.lobby_waiting = 2;
  const auto text = rdv::format_prometheus(counters, gauges);
  EXPECT_NE(text.find("# TYPE rdv_lobby_waiting gauge\nrdv_lobby_waiting 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE rdv_pairs_total counter\nrdv_pairs_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("rdv_responses_total{code=\"101\"} 6\nrdv_responses_total{code=\"408\"} 1\n"),
            std::string::npos);
  // Every sample line is "name value" or "name{labels} value"; every metric has HELP and TYPE.
  std::size_t samples = 0;
  for (std::size_t at = 0; at < text.size();) {
    const auto end = text.find('\n', at);
    ASSERT_NE(end, std::string::npos);
    const auto line = text.substr(at, end - at);
    if (!line.starts_with('#')) {
      ++samples;
      EXPECT_TRUE(line.starts_with("rdv_")) << line;
      EXPECT_EQ(line.find(' '), line.rfind(' ')) << line;
    }
    at = end + 1;
  }
  EXPECT_GE(samples, 15u);
}

TEST(RdvMetrics, ServedOverHttpWithLiveGauges) {
  TestServer server;
  RawHttpClient waiting(server.endpoint());
  waiting.send(rdv_request("DIAL", "/tok"));
  std::this_thread::sleep_for(100ms);
  RawHttpClient get(server.endpoint());
  get.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto response = get.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 200);
  EXPECT_EQ(header_of(*response, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(response->find("\nrdv_lobby_waiting 1\n"), std::string::npos) << *response;
  EXPECT_NE(response->find("\nrdv_connections_active 2\n"), std::string::npos);

  RawHttpClient head(server.endpoint());
  head.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto head_response = head.read_to_end();
  ASSERT_TRUE(head_response);
  EXPECT_EQ(status_of(*head_response), 200);
  EXPECT_TRUE(head_response->ends_with("\r\n\r\n"));  // no body
}

TEST(RdvMetrics, CanBeTurnedOff) {
  auto config = loopback_config();
  config.metrics_path = "";
  TestServer server(config);
  RawHttpClient get(server.endpoint());
  get.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto response = get.read_to_end();
  ASSERT_TRUE(response);
  EXPECT_EQ(status_of(*response), 426);  // just another path under the mount
}

}  // namespace
}  // namespace srudp::test
