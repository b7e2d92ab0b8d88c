#include "io/identity_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "common/sodium.hpp"

namespace srudp::io {
namespace {

constexpr std::size_t kHexKeySize = 2 * crypto::kKeySize;
// magic "\n" "secret " hex "\n" "public " hex "\n"
constexpr std::size_t kFileSize = kIdentityFileMagic.size() + 1 + 7 + kHexKeySize + 1 + 7 +
                                  kHexKeySize + 1;

std::error_code last_os_error() { return {errno, std::system_category()}; }

// Closes a file descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now, reporting the error (close can report a failed write-back).
  std::error_code close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? std::error_code{} : last_os_error();
  }

 private:
  int fd_;
};

std::error_code write_all(int fd, std::span<const char> data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_os_error();
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

// Strict hex decoding of exactly crypto::kKeySize bytes from exactly kHexKeySize characters.
bool decode_key_hex(std::string_view hex, std::span<std::uint8_t, crypto::kKeySize> out) {
  if (hex.size() != kHexKeySize) return false;
  std::size_t decoded = 0;
  const char* end = nullptr;
  const int rc = sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &decoded,
                                &end);
  return rc == 0 && decoded == crypto::kKeySize && end == hex.data() + hex.size();
}

// Writes the hex of `bytes` into `out` (which has room for kHexKeySize characters).
void encode_key_hex(std::span<const std::uint8_t, crypto::kKeySize> bytes, char* out) {
  std::array<char, kHexKeySize + 1> hex{};  // sodium_bin2hex adds a terminating NUL
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  std::memcpy(out, hex.data(), kHexKeySize);
  sodium_memzero(hex.data(), hex.size());
}

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::error_code save_identity(const std::string& path, const crypto::KeyPair& identity) {
  ensure_sodium_initialized();
  // The text holds the secret: keep it in a wiped buffer.
  crypto::Secret<kFileSize> text;
  char* p = reinterpret_cast<char*>(text.data());
  std::memcpy(p, kIdentityFileMagic.data(), kIdentityFileMagic.size());
  p += kIdentityFileMagic.size();
  std::memcpy(p, "\nsecret ", 8);
  p += 8;
  encode_key_hex(identity.secret.bytes(), p);
  p += kHexKeySize;
  std::memcpy(p, "\npublic ", 8);
  p += 8;
  encode_key_hex(identity.public_key.bytes, p);
  p += kHexKeySize;
  *p = '\n';

  // mkstemp creates the temporary file with mode 0600 and O_EXCL in the target's directory, so
  // link() below is atomic and the key is never readable by others, even for a moment.
  std::string temp_path = directory_of(path) + "/.srudp-identity-XXXXXX";
  FileDescriptor fd(::mkstemp(temp_path.data()));
  if (!fd.valid()) return last_os_error();
  auto fail = [&temp_path](std::error_code ec) {
    ::unlink(temp_path.c_str());
    return ec;
  };
  if (::fchmod(fd.get(), S_IRUSR | S_IWUSR) != 0) return fail(last_os_error());
  const std::span<const char> bytes(reinterpret_cast<const char*>(text.data()), text.size());
  if (auto ec = write_all(fd.get(), bytes)) return fail(ec);
  if (::fsync(fd.get()) != 0) return fail(last_os_error());
  if (auto ec = fd.close()) return fail(ec);
  // link() refuses to replace an existing file (EEXIST): an identity is never overwritten.
  if (::link(temp_path.c_str(), path.c_str()) != 0) return fail(last_os_error());
  ::unlink(temp_path.c_str());
  return {};
}

Result<crypto::KeyPair> load_identity(const std::string& path) {
  ensure_sodium_initialized();
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return last_os_error();
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return last_os_error();
  if (!S_ISREG(info.st_mode)) return errc::malformed;
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0 || info.st_uid != ::geteuid()) {
    return errc::insecure_key_file;
  }
  // Read at most one byte more than a valid file holds, so a longer file is detected.
  crypto::Secret<kFileSize + 1> buffer;
  std::size_t size = 0;
  while (size < buffer.size()) {
    const ssize_t n = ::read(fd.get(), buffer.data() + size, buffer.size() - size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_os_error();
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  const std::string_view text(reinterpret_cast<const char*>(buffer.data()), size);

  // Accept exactly the format save_identity writes (a missing final newline is tolerated).
  std::string_view rest = text;
  auto take_line = [&rest](std::string_view prefix, std::string_view& value) {
    if (rest.substr(0, prefix.size()) != prefix) return false;
    rest.remove_prefix(prefix.size());
    const auto newline = rest.find('\n');
    value = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    return true;
  };
  std::string_view magic;
  std::string_view secret_hex;
  std::string_view public_hex;
  if (!take_line("", magic) || magic != kIdentityFileMagic || !take_line("secret ", secret_hex) ||
      !take_line("public ", public_hex) || !rest.empty()) {
    return errc::malformed;
  }
  crypto::SecretKey secret;
  crypto::PublicKey stored_public;
  if (!decode_key_hex(secret_hex, secret.bytes()) ||
      !decode_key_hex(public_hex, stored_public.bytes)) {
    return errc::malformed;
  }
  crypto::KeyPair identity = crypto::KeyPair::from_secret(std::move(secret));
  if (!(identity.public_key == stored_public)) return errc::malformed;
  return identity;
}

std::string to_hex(const crypto::PublicKey& key) {
  ensure_sodium_initialized();
  std::string hex(kHexKeySize, '\0');
  encode_key_hex(key.bytes, hex.data());
  return hex;
}

Result<crypto::PublicKey> public_key_from_hex(std::string_view hex) {
  ensure_sodium_initialized();
  crypto::PublicKey key;
  if (!decode_key_hex(hex, key.bytes)) return errc::invalid_argument;
  return key;
}

}  // namespace srudp::io
