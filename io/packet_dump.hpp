// io::PacketDump: writes what a program sends and receives (datagrams, their plaintext frames,
// request heads, STUN requests) to a folder, one file each, named <kind>-<pid>-<sequence>.
// scripts/fuzz_corpus runs the real rdv tool with it (--dump-packets) and sorts the files into the
// fuzzers' seed corpora. Off when the folder name is empty; stops after kMaxFiles files so a long
// run cannot fill the disk. For debugging and corpora only: the files hold decrypted application
// data as well as lookup ids and addresses.
//
// Header-only (the standard library alone), so the rdv server, which does not link the srudp
// library, uses it too.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <string_view>

namespace srudp::io {

class PacketDump {
 public:
  static constexpr std::uint64_t kMaxFiles = 20'000;

  PacketDump() = default;
  explicit PacketDump(std::string directory) : directory_(std::move(directory)) {}

  bool enabled() const noexcept { return !directory_.empty() && written_ < kMaxFiles; }

  void write(std::string_view kind, std::span<const std::uint8_t> bytes) {
    write(kind, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  void write(std::string_view kind, std::string_view bytes) {
    if (!enabled()) return;
    const std::string path = directory_ + "/" + std::string(kind) + "-" + std::to_string(::getpid()) + "-" +
                             std::to_string(written_++);
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

 private:
  std::string directory_;
  std::uint64_t written_ = 0;
};

}  // namespace srudp::io
