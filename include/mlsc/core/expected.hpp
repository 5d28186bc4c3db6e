// A small Expected<T> in the spirit of LLVM's: a value or an Error that says what went wrong
// and where. C++20 has no std::expected, and exceptions would hide failure paths in parsers
// that must treat every input as hostile.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace mlsc {

struct Error {
  Error() = default;
  explicit Error(std::string msg, std::optional<std::uint64_t> off = std::nullopt)
      : message(std::move(msg)), offset(off) {}

  std::string message;
  // Byte offset in the input the error refers to, when there is one.
  std::optional<std::uint64_t> offset;

  static Error at(std::uint64_t off, std::string msg) { return Error{std::move(msg), off}; }
  std::string describe() const;  // "message (at offset N)"
};

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Expected<void>: success or an Error.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : e_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool has_value() const { return !e_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const Error& error() const { return *e_; }

 private:
  std::optional<Error> e_;
};

}  // namespace mlsc
