// Element types a tensor can hold.
//
// f32 is the master type everywhere; f64 exists on the CPU for gradient checks; bf16 is a storage
// type for mixed precision on CUDA; i32 holds labels and indices; u8 holds decoded video pixels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/bf16.h"

namespace asn {

enum class DType : uint8_t { f32, f64, bf16, i32, u8 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
// Parses "f32", "f64", "bf16", "i32", "u8" (also "float32", "float64", "bfloat16", "int32", "uint8").
DType dtype_from_name(const std::string& name);
bool is_floating(DType t);

template <class T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct DTypeOf<bf16> {
  static constexpr DType value = DType::bf16;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::u8;
};
template <class T>
constexpr DType dtype_of() {
  return DTypeOf<T>::value;
}

}  // namespace asn
