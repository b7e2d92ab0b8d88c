// srudp_send: sends files to srudp_receive by rdv server URL and token, each on its own stream, all
// at once. The receiver checks each file's SHA-256; an interrupted transfer resumes where it
// stopped when you run both again.
//
//   srudp_receive http://rdv.example.com:8080 TOKEN --dir downloads     # one machine
//   srudp_send    http://rdv.example.com:8080 TOKEN a.iso b.tar         # the other
//
// Exit status 0 when the receiver confirmed every file.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "file_transfer.hpp"
#include "srudp/message.hpp"
#include "srudp/rdv_client.hpp"
#include "srudp/srudp.hpp"

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using file_transfer::FileHeader;
using file_transfer::Progress;

namespace {

struct Job {
  std::filesystem::path path;
  FileHeader header;
};

struct Shared {
  Progress progress;
  double max_rate = 0;  // bytes per second over all files; 0: no limit
  int failures = 0;
};

// Waits while the bytes sent so far are ahead of the rate limit.
awaitable<void> pace(Shared& shared) {
  if (shared.max_rate <= 0) co_return;
  const double ahead = static_cast<double>(shared.progress.done()) / shared.max_rate - shared.progress.seconds();
  if (ahead <= 0) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                                   std::chrono::duration<double>(ahead)));
  co_await timer.async_wait(use_awaitable);
}

awaitable<std::string> read_reply(srudp::Stream& stream) {
  std::vector<std::uint8_t> reply;
  co_await srudp::async_read_message(stream, reply, file_transfer::kMaxControlMessage, use_awaitable);
  co_return std::string(reply.begin(), reply.end());
}

// One file on one stream; throws on a broken connection, counts a refusal as a failure.
awaitable<void> send_file(srudp::Connection connection, Job job, Shared& shared) {
  srudp::Stream stream = co_await connection.async_open_stream(use_awaitable);
  const std::string header = job.header.encode();
  co_await srudp::async_write_message(stream, asio::buffer(header), use_awaitable);
  const auto offset = file_transfer::parse_number(co_await read_reply(stream));
  if (!offset || *offset > job.header.size) {
    std::fprintf(stderr, "%s: the receiver refused it\n", job.header.name.c_str());
    ++shared.failures;
    co_return;
  }
  if (*offset > 0) {
    std::fprintf(stderr, "%s: resuming at %llu bytes\n", job.header.name.c_str(), static_cast<unsigned long long>(*offset));
  }
  shared.progress.add_total(job.header.size - *offset);

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(job.path.c_str(), "rb"), &std::fclose);
  if (!file || ::fseeko(file.get(), static_cast<off_t>(*offset), SEEK_SET) != 0) {
    throw std::runtime_error("cannot read " + job.path.string());
  }
  std::vector<char> chunk(256 * 1024);
  std::uint64_t left = job.header.size - *offset;
  while (left > 0) {
    const std::size_t n = std::fread(chunk.data(), 1, std::min<std::uint64_t>(chunk.size(), left), file.get());
    if (n == 0) throw std::runtime_error(job.path.string() + " changed while it was sent");
    co_await asio::async_write(stream, asio::buffer(chunk.data(), n), use_awaitable);
    left -= n;
    shared.progress.add_done(n);
    co_await pace(shared);
  }
  stream.shutdown_send();
  const std::string verdict = co_await read_reply(stream);
  if (verdict != "ok") {
    std::fprintf(stderr, "%s: the receiver says: %s\n", job.header.name.c_str(), verdict.c_str());
    ++shared.failures;
  }
}

awaitable<int> run(std::string url, std::string token, std::vector<Job> jobs, srudp::rdv::ClientOptions options,
                   Shared& shared) {
  srudp::rdv::Client client(co_await asio::this_coro::executor, options);
  auto [ec, connection] = co_await client.async_dial(url, token, asio::as_tuple(use_awaitable));
  if (ec) {
    std::fprintf(stderr, "srudp_send: %s\n", ec.message().c_str());
    co_return 1;
  }
  const srudp::rdv::PathInfo path = client.path();
  std::fprintf(stderr, "connected, %s %s\n", path.relayed ? "relayed by" : "direct to", path.address.c_str());

  // Every file at once, each on its own stream; wait for all of them.
  auto executor = co_await asio::this_coro::executor;
  std::size_t pending = jobs.size();
  std::string error;
  asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
  for (auto& job : jobs) {
    asio::co_spawn(executor, send_file(connection, std::move(job), shared), [&](std::exception_ptr e) {
      if (e && error.empty()) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          error = x.what();
        }
      }
      if (--pending == 0) all_done.cancel();
    });
  }
  co_await all_done.async_wait(asio::as_tuple(use_awaitable));
  if (!error.empty()) {
    std::fprintf(stderr, "srudp_send: %s\n", error.c_str());
    co_return 1;
  }
  shared.progress.finish();
  connection = srudp::Connection();  // closes once the receiver has everything
  asio::steady_timer poll(executor);
  for (int i = 0; i < 250 && client.connection_count() > 0; ++i) {
    poll.expires_after(std::chrono::milliseconds(20));
    co_await poll.async_wait(use_awaitable);
  }
  co_return shared.failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"srudp_send: send files to srudp_receive by rdv server URL and token"};
  std::string url, token;
  std::vector<std::string> files;
  double max_rate_mb = 0;
  std::uint16_t stun_port = 3478;
  bool include_loopback = false;
  app.add_option("url", url, "the rdv server, http://host[:port]")->required();
  app.add_option("token", token, "the token the receiver uses (from 'rdv token')")->required();
  app.add_option("files", files, "the files to send")->required()->check(CLI::ExistingFile);
  app.add_option("--max-rate", max_rate_mb, "send at most this many MB/s (0: as fast as the path allows)");
  app.add_option("--stun-port", stun_port, "the rdv server's STUN port (0: none)");
  app.add_flag("--include-loopback", include_loopback, "offer loopback addresses too (both on one machine)");
  CLI11_PARSE(app, argc, argv);
  if (sodium_init() < 0) return 1;

  std::vector<Job> jobs;
  for (const auto& f : files) {
    Job job;
    job.path = f;
    job.header.name = job.path.filename().string();
    job.header.size = std::filesystem::file_size(job.path);
    const auto sha = file_transfer::sha256_file(job.path);
    if (!sha || !file_transfer::valid_file_name(job.header.name)) {
      std::fprintf(stderr, "srudp_send: cannot send %s\n", f.c_str());
      return 1;
    }
    job.header.sha256 = *sha;
    jobs.push_back(std::move(job));
  }

  asio::io_context io;
  Shared shared{Progress(::isatty(STDERR_FILENO) == 1), max_rate_mb * 1e6, 0};
  srudp::rdv::ClientOptions options;
  options.stun_port = stun_port;
  options.loopback_candidates = include_loopback;
  int status = 1;
  asio::co_spawn(io, run(url, token, std::move(jobs), options, shared), [&](std::exception_ptr e, int code) {
    status = e ? 1 : code;
    io.stop();
  });
  io.run();
  return status;
}
