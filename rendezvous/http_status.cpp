#include "rendezvous/http_status.hpp"

namespace srudp::rendezvous {

std::string_view reason_phrase(HttpStatus status) noexcept {
  switch (status) {
    case HttpStatus::switching_protocols: return "Switching Protocols";
    case HttpStatus::ok: return "OK";
    case HttpStatus::bad_request: return "Bad Request";
    case HttpStatus::not_found: return "Not Found";
    case HttpStatus::request_timeout: return "Request Timeout";
    case HttpStatus::conflict: return "Conflict";
    case HttpStatus::upgrade_required: return "Upgrade Required";
    case HttpStatus::internal_error: return "Internal Server Error";
    case HttpStatus::service_unavailable: return "Service Unavailable";
  }
  return "Unknown";
}

}  // namespace srudp::rendezvous
