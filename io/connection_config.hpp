// ConnectionOptions (public) to transport::ConnectionConfig (the core's), loading key files.
#pragma once

#include "common/result.hpp"
#include "srudp/options.hpp"
#include "transport/connection.hpp"

namespace srudp::io {

// Errors: errc::invalid_argument (no PSK and no identity, both an identity secret and a file,
// windows the core refuses), or what loading the identity file reports.
Result<transport::ConnectionConfig> make_connection_config(const ConnectionOptions& options);

}  // namespace srudp::io
