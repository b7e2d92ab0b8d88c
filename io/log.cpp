#include "io/log.hpp"

#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace srudp::io {

spdlog::logger& log() {
  // Looked up once: an application that registers "srudp" before the first use keeps its own.
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("srudp")) return existing;
    auto created = spdlog::stderr_color_mt("srudp");
    created->set_level(spdlog::level::warn);
    return created;
  }();
  return *logger;
}

std::string connection_log_id(const wire::ConnectionId& cid) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(cid.size() * 2);
  for (std::uint8_t b : cid) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace srudp::io
