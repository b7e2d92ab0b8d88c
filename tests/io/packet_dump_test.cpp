// io::PacketDump and EndpointOptions::dump_directory: what an endpoint sends and receives lands in
// files, one per datagram, named by direction, and each is a whole srudp packet; the plaintext of
// each data packet received lands there too, as frames.
#include "io/packet_dump.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "io/loopback.hpp"
#include "wire/frame.hpp"
#include "wire/packet.hpp"

namespace srudp::test {
namespace {

namespace fs = std::filesystem;

struct ScratchFolder {
  ScratchFolder() : path(fs::temp_directory_path() / ("srudp-dump-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchFolder() { fs::remove_all(path); }
  std::vector<fs::path> files(const std::string& prefix) const {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
    }
    return out;
  }
  fs::path path;
};

std::string contents(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(PacketDump, OneFilePerWriteNamedByKindProcessAndSequence) {
  ScratchFolder folder;
  io::PacketDump dump(folder.path.string());
  ASSERT_TRUE(dump.enabled());
  dump.write("udp-in", std::string_view("first"));
  dump.write("udp-in", std::string_view("second"));
  dump.write("stun-in", std::string_view(""));
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(contents(folder.path / ("udp-in-" + pid + "-0")), "first");
  EXPECT_EQ(contents(folder.path / ("udp-in-" + pid + "-1")), "second");
  EXPECT_TRUE(fs::exists(folder.path / ("stun-in-" + pid + "-2")));
  EXPECT_FALSE(io::PacketDump().enabled());
  io::PacketDump().write("udp-in", std::string_view("nowhere"));  // off: does nothing
}

TEST(PacketDump, AnEndpointDumpsEveryDatagramBothWays) {
  ScratchFolder folder;
  asio::io_context io;
  Endpoint server(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                  EndpointOptions{.accept_incoming = true, .server = psk_options()});
  EndpointOptions dumping;
  dumping.dump_directory = folder.path.string();
  Endpoint client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0), dumping);
  Connection connection;
  boost::system::error_code connect_ec = asio::error::would_block;
  client.async_connect(server.local_endpoint(), psk_options(), [&](auto ec, Connection c) {
    connect_ec = ec;
    connection = std::move(c);
  });
  server.async_accept([](auto, Connection) {});
  ASSERT_TRUE(run_until(io, [&] { return connect_ec != asio::error::would_block; }));
  ASSERT_FALSE(connect_ec) << connect_ec.message();
  const auto sent = folder.files("udp-out-");
  const auto received = folder.files("udp-in-");
  ASSERT_FALSE(sent.empty());
  ASSERT_FALSE(received.empty());
  bool saw_initiation = false;
  for (const auto* list : {&sent, &received}) {
    for (const auto& file : *list) {
      const std::string bytes = contents(file);
      const auto type = wire::peek_packet_type(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
      ASSERT_TRUE(type) << file;  // each file is one whole srudp packet
      saw_initiation = saw_initiation || (list == &sent && *type == wire::PacketType::Initiation);
    }
  }
  EXPECT_TRUE(saw_initiation);
  // And the plaintext of the data packets it received (the server's ESTABLISHED at least): frames.
  const auto plaintexts = folder.files("frames-in-");
  ASSERT_FALSE(plaintexts.empty());
  for (const auto& file : plaintexts) {
    const std::string bytes = contents(file);
    std::size_t frames = 0;
    const auto ec = wire::parse_frames(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()),
                                       [&](wire::Frame&&) -> std::error_code {
                                         ++frames;
                                         return {};
                                       });
    EXPECT_FALSE(ec) << file;
    EXPECT_GT(frames, 0u) << file;
  }
}

}  // namespace
}  // namespace srudp::test
