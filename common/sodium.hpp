#pragma once

namespace srudp {
// Calls sodium_init() once (thread-safe); every libsodium user in srudp calls this first.
void ensure_sodium_initialized();
}  // namespace srudp
