// srudp_receive: receives the files srudp_send sends (same rdv server URL and token) into a
// directory, checks each one's SHA-256, and keeps what arrived of an interrupted file so the next
// transfer of it resumes there. See file_transfer.hpp for the protocol.
//
//   srudp_receive http://rdv.example.com:8080 TOKEN --dir downloads
//
// Exit status 0 when every file the sender offered arrived whole and verified.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "file_transfer.hpp"
#include "srudp/message.hpp"
#include "srudp/rdv_client.hpp"
#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using file_transfer::Progress;
namespace fs = std::filesystem;

namespace {

struct Shared {
  Progress progress;
  fs::path dir;
  int received = 0, failures = 0, active = 0;
};

awaitable<void> reply(srudp::Stream& stream, const std::string& text) {
  co_await srudp::async_write_message(stream, asio::buffer(text), asio::as_tuple(use_awaitable));
}

// Reads the file's bytes after the header into `file`; how many, or an error (the connection).
awaitable<std::uint64_t> copy_to_file(srudp::Stream& stream, std::FILE* file, std::uint64_t limit, Shared& shared,
                                       boost::system::error_code& ec) {
  std::vector<char> buffer(256 * 1024);
  std::uint64_t received = 0;
  for (;;) {
    auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable));
    if (read_ec == asio::error::eof) break;
    if (read_ec) {
      ec = read_ec;
      break;
    }
    received += n;
    if (received > limit) break;  // more than announced: the caller refuses the file
    if (std::fwrite(buffer.data(), 1, n, file) != n || std::fflush(file) != 0) {
      ec = boost::system::error_code(errno, boost::system::system_category());
      break;
    }
    shared.progress.add_done(n);
  }
  co_return received;
}

awaitable<void> receive_file(srudp::Stream stream, Shared& shared) {
  ++shared.active;
  std::vector<std::uint8_t> message;
  auto [ec, n] = co_await srudp::async_read_message(stream, message, file_transfer::kMaxControlMessage,
                                                    asio::as_tuple(use_awaitable));
  const auto header = ec ? std::nullopt : file_transfer::parse_header(std::string(message.begin(), message.end()));
  std::string verdict;
  if (!header) {
    verdict = "bad file header";
    if (!ec) co_await reply(stream, verdict);
  } else {
    // What an earlier, interrupted transfer of this very file left.
    const fs::path part = shared.dir / ("." + header->name + "." + header->sha256.substr(0, 16) + ".part");
    std::error_code fs_ec;
    std::uint64_t offset = fs::exists(part, fs_ec) ? fs::file_size(part, fs_ec) : 0;
    if (fs_ec || offset > header->size) {
      fs::remove(part, fs_ec);
      offset = 0;
    }
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(part.c_str(), "ab"), &std::fclose);
    if (!file) {
      verdict = "cannot write " + part.string();
      co_await reply(stream, verdict);
    } else {
      if (offset > 0) {
        std::fprintf(stderr, "%s: resuming at %llu bytes\n", header->name.c_str(), static_cast<unsigned long long>(offset));
      }
      shared.progress.add_total(header->size - offset);
      co_await reply(stream, std::to_string(offset));
      boost::system::error_code copy_ec;
      const std::uint64_t received = co_await copy_to_file(stream, file.get(), header->size - offset, shared, copy_ec);
      file.reset();
      if (copy_ec) {
        verdict = "interrupted: " + copy_ec.message() + " (what arrived is kept; send again to resume)";
      } else if (offset + received != header->size) {
        verdict = "the size is not the announced " + std::to_string(header->size);
        fs::remove(part, fs_ec);
      } else if (file_transfer::sha256_file(part) != header->sha256) {
        verdict = "sha256 mismatch";
        fs::remove(part, fs_ec);
      } else {
        fs::rename(part, shared.dir / header->name, fs_ec);
        verdict = fs_ec ? "cannot rename to " + header->name + ": " + fs_ec.message() : "ok";
      }
      if (!copy_ec) co_await reply(stream, verdict);
    }
  }
  if (verdict == "ok") {
    ++shared.received;
    std::fprintf(stderr, "%s: %s, sha256 ok\n", header->name.c_str(),
                 file_transfer::human_bytes(static_cast<double>(header->size)).c_str());
  } else {
    ++shared.failures;
    std::fprintf(stderr, "%s: %s\n", header ? header->name.c_str() : "?", verdict.c_str());
  }
  stream.shutdown_send();
  --shared.active;
}

awaitable<int> run(std::string url, std::string token, srudp::rdv::ClientOptions options, Shared& shared) {
  auto executor = co_await asio::this_coro::executor;
  srudp::rdv::Client client(executor, options);
  auto [ec, connection] = co_await client.async_accept(url, token, asio::as_tuple(use_awaitable));
  if (ec) {
    std::fprintf(stderr, "srudp_receive: %s\n", ec.message().c_str());
    co_return 1;
  }
  const srudp::rdv::PathInfo path = client.path();
  std::fprintf(stderr, "connected, %s %s\n", path.relayed ? "relayed by" : "direct to", path.address.c_str());
  // A stream per file until the sender closes the connection.
  for (;;) {
    auto [accept_ec, stream] = co_await connection.async_accept_stream(asio::as_tuple(use_awaitable));
    if (accept_ec) {
      if (accept_ec != srudp::errc::connection_closed) {
        std::fprintf(stderr, "srudp_receive: %s\n", accept_ec.message().c_str());
        ++shared.failures;
      }
      break;
    }
    asio::co_spawn(executor, receive_file(std::move(stream), shared), asio::detached);
  }
  asio::steady_timer poll(executor);
  while (shared.active > 0) {
    poll.expires_after(std::chrono::milliseconds(10));
    co_await poll.async_wait(use_awaitable);
  }
  shared.progress.finish();
  std::fprintf(stderr, "received %d file(s) in %.1f s, %.1f MB/s\n", shared.received, shared.progress.seconds(),
               shared.progress.rate() / 1e6);
  co_return shared.failures == 0 && shared.received > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp_receive: receive files from srudp_send by rdv server URL and token"};
  std::string url, token, dir = ".";
  std::uint16_t stun_port = 3478;
  bool include_loopback = false;
  app.add_option("url", url, "the rdv server, http://host[:port]")->required();
  app.add_option("token", token, "the token the sender uses (from 'rdv token')")->required();
  app.add_option("--dir", dir, "where the files go")->check(CLI::ExistingDirectory);
  app.add_option("--stun-port", stun_port, "the rdv server's STUN port (0: none)");
  app.add_flag("--include-loopback", include_loopback, "offer loopback addresses too (both on one machine)");
  CLI11_PARSE(app, argc, argv);
  if (sodium_init() < 0) return 1;

  asio::io_context io;
  Shared shared{Progress(::isatty(STDERR_FILENO) == 1), dir, 0, 0, 0};
  srudp::rdv::ClientOptions options;
  options.stun_port = stun_port;
  options.loopback_candidates = include_loopback;
  int status = 1;
  asio::co_spawn(io, run(url, token, options, shared), [&](std::exception_ptr e, int code) {
    status = e ? 1 : code;
    io.stop();
  });
  io.run();
  return status;
}
