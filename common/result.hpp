// Result<T>: a value or a std::error_code. The protocol core returns these instead of throwing.
#pragma once

#include <cassert>
#include <system_error>
#include <utility>
#include <variant>

#include "srudp/error.hpp"

namespace srudp {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                 // NOLINT: implicit by design
  Result(std::error_code ec) : v_(ec) { assert(ec); }       // NOLINT
  Result(errc e) : v_(make_error_code(e)) {}                // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(v_);
  }

 private:
  std::variant<T, std::error_code> v_;
};

}  // namespace srudp
