// Error types and check macros for the whole engine.
//
// Library code never exits or aborts: every failure is an exception derived from asn::Error whose
// message names what went wrong and where (op name, shapes, file and line of the check). Apps catch
// asn::Error at the top and turn it into a message and an exit code.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace asn {

// Base of every error the engine throws.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// A tensor has the wrong shape / rank for an op.
class ShapeError : public Error {
 public:
  using Error::Error;
};
// A tensor has the wrong dtype or lives on the wrong device for an op.
class TypeError : public Error {
 public:
  using Error::Error;
};
// An argument value is out of its valid range (stride 0, negative size, bad option).
class ValueError : public Error {
 public:
  using Error::Error;
};
// A file could not be read or written, or its content is malformed (truncated, corrupt).
class IoError : public Error {
 public:
  using Error::Error;
};
// A CUDA / cuDNN / cuBLAS / NCCL call failed, or CUDA was requested where it is not available.
class DeviceError : public Error {
 public:
  using Error::Error;
};
// An allocation could not be satisfied; the message carries the allocator statistics.
class OutOfMemoryError : public DeviceError {
 public:
  using DeviceError::DeviceError;
};

namespace detail {
// "message (at engine/tensor.cpp:42)": the location is the check site, useful for bug reports.
std::string with_location(const std::string& msg, const char* file, int line);
}  // namespace detail

}  // namespace asn

// ASN_CHECK(cond, "fmt {}", args...): throws asn::ValueError when cond is false.
#define ASN_CHECK_AS(ErrorType, cond, ...)                                                  \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      throw ErrorType(::asn::detail::with_location(fmt::format(__VA_ARGS__), __FILE__, __LINE__)); \
    }                                                                                       \
  } while (0)

#define ASN_CHECK(cond, ...) ASN_CHECK_AS(::asn::ValueError, cond, __VA_ARGS__)
#define ASN_CHECK_SHAPE(cond, ...) ASN_CHECK_AS(::asn::ShapeError, cond, __VA_ARGS__)
#define ASN_CHECK_TYPE(cond, ...) ASN_CHECK_AS(::asn::TypeError, cond, __VA_ARGS__)
#define ASN_THROW(ErrorType, ...) \
  throw ErrorType(::asn::detail::with_location(fmt::format(__VA_ARGS__), __FILE__, __LINE__))
