// What srudp_send and srudp_receive share: the per-file protocol, SHA-256 of a file, file names a
// receiver accepts, and the progress line.
//
// One stream per file, opened by the sender; every message is length-prefixed (srudp/message.hpp):
//   sender   -> "NAME\nSIZE\nSHA256-HEX"             the file
//   receiver -> "OFFSET"                              how much it already has (a resumed transfer)
//   sender   -> the file's bytes from OFFSET, then FIN
//   receiver -> "ok" or what went wrong               after checking size and SHA-256 of the whole file
// A partial file waits as DIR/.NAME.<first 16 hex digits of its SHA-256>.part, so a transfer of
// the same file resumes where it stopped, and a different file of that name starts afresh.
#pragma once

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace file_transfer {

constexpr std::size_t kMaxControlMessage = 4096;
constexpr std::uint64_t kMaxFileSize = std::uint64_t{1} << 50;

struct FileHeader {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;  // 64 lowercase hex digits

  std::string encode() const { return name + "\n" + std::to_string(size) + "\n" + sha256; }
};

inline std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// A name the receiver may create in its directory: no path, nothing hidden, printable.
inline bool valid_file_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.') return false;
  for (const char c : name) {
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

inline bool valid_sha256_hex(std::string_view hex) {
  if (hex.size() != 64) return false;
  for (const char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

inline std::optional<FileHeader> parse_header(std::string_view text) {
  const auto first = text.find('\n');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = text.find('\n', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  FileHeader h;
  h.name = std::string(text.substr(0, first));
  const auto size = parse_number(text.substr(first + 1, second - first - 1));
  h.sha256 = std::string(text.substr(second + 1));
  if (!size || *size > kMaxFileSize || !valid_file_name(h.name) || !valid_sha256_hex(h.sha256)) return std::nullopt;
  h.size = *size;
  return h;
}

// SHA-256 of a whole file in hex, or nullopt if it cannot be read.
inline std::optional<std::string> sha256_file(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::array<unsigned char, 64 * 1024> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f)) > 0) crypto_hash_sha256_update(&state, buffer.data(), n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return std::nullopt;
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(&state, digest.data());
  std::array<char, 2 * crypto_hash_sha256_BYTES + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data());
}

inline std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

// The progress line on stderr: bytes done of the total, rate and time left. On a terminal it
// redraws one line (at most 5 times a second); otherwise it prints a line a second.
class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Progress(bool terminal) : terminal_(terminal) {}

  void add_total(std::uint64_t bytes) { total_ += bytes; }
  void add_done(std::uint64_t bytes) {
    done_ += bytes;
    const auto now = Clock::now();
    if (now - last_shown_ >= (terminal_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(1000))) {
      last_shown_ = now;
      show(false);
    }
  }
  std::uint64_t done() const { return done_; }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  double rate() const { return seconds() > 0 ? static_cast<double>(done_) / seconds() : 0.0; }

  // The final line (and the end of the redrawn one).
  void finish() { show(true); }

 private:
  void show(bool final) {
    const double r = rate();
    std::string eta = "-";
    if (r > 0 && total_ >= done_) eta = std::to_string(static_cast<long long>(static_cast<double>(total_ - done_) / r)) + "s";
    std::fprintf(stderr, "%s%s / %s  %.1f MB/s  ETA %s%s", terminal_ ? "\r\033[K" : "", human_bytes(static_cast<double>(done_)).c_str(),
                 human_bytes(static_cast<double>(total_)).c_str(), r / 1e6, final ? "0s" : eta.c_str(),
                 terminal_ && !final ? "" : "\n");
    std::fflush(stderr);
  }

  bool terminal_;
  std::uint64_t total_ = 0, done_ = 0;
  Clock::time_point start_ = Clock::now(), last_shown_ = Clock::now();
};

}  // namespace file_transfer
