#include "common/sodium.hpp"

#include <sodium.h>

#include <cstdlib>

namespace srudp {

void ensure_sodium_initialized() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // no safe way to continue without a working CSPRNG
}

}  // namespace srudp
