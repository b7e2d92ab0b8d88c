// The Asio layer's logger: spdlog's "srudp", quiet (warn) unless the application registered its own.
#pragma once

#include <span>
#include <string>

#include <spdlog/logger.h>

#include "wire/packet.hpp"

namespace srudp::io {

spdlog::logger& log();

// A connection as logs name it: the hex of our connection id.
std::string connection_log_id(const wire::ConnectionId& cid);

}  // namespace srudp::io
