// A node's long-term X25519 identity on disk, and public keys as hex for pinning on command lines.
// File I/O, so it lives in the I/O layer, outside the sans-IO protocol core.
//
// File format (text, 3 lines):
//   srudp-identity-v1
//   secret <64 lowercase hex digits>
//   public <64 lowercase hex digits>
// The public line lets the loader detect corruption: it must match the key derived from the
// secret. The file is created with mode 0600 and never replaces an existing file; a file whose
// mode gives the group or others any access, or that the current user does not own, is refused.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

#include "common/result.hpp"
#include "crypto/keypair.hpp"

namespace srudp::io {

inline constexpr std::string_view kIdentityFileMagic = "srudp-identity-v1";

// Writes `identity` to `path` (a temporary file in the same directory, fsynced, then linked into
// place so the key appears complete or not at all). Errors: the OS error (e.g. EEXIST when `path`
// exists, ENOENT when the directory does not) as std::system_category.
[[nodiscard]] std::error_code save_identity(const std::string& path, const crypto::KeyPair& identity);

// Reads an identity written by save_identity. Errors:
//   std::errc::permission_denied (generic category): mode allows group/other access, or the file
//     belongs to another user; fix with `chmod 600 <path>`;
//   errc::malformed: not an identity file, or corrupted (public key does not match the secret);
//   the OS error (std::system_category) when it cannot be opened or read.
Result<crypto::KeyPair> load_identity(const std::string& path);

// 64 lowercase hex digits.
std::string to_hex(const crypto::PublicKey& key);
// Exactly 64 hex digits (either case); errc::invalid_argument otherwise.
Result<crypto::PublicKey> public_key_from_hex(std::string_view hex);

}  // namespace srudp::io
