// A minimal SIMD pack for the CPU TV-L1 kernels (kernels/repflow/tvl1_flow_cpu.cpp): Pack<T> holds
// kLanes<T> values of T in one GCC/Clang vector register and supports exactly what the value
// functions of tvl1_math.h use (+ - * /, unary -, comparisons giving a lane mask, tvl1_select and
// tvl1_sqrt), so the vectorised CPU loops call the same formulas as the GPU.
//
// Every operation is the IEEE operation of the scalar type applied lane by lane (sqrt included:
// _mm512_sqrt_ps and friends are correctly rounded), so a lane computes what the scalar code
// would, up to the compiler's FMA contraction (which it applies to scalar and vector code alike).
// Width: 64 bytes with AVX-512, 32 with AVX, 16 otherwise (the compiler splits or emulates what
// the target lacks; sqrt falls back to a lane loop without SSE2).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || defined(__AVX__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "kernels/repflow/tvl1_math.h"

namespace asn::kernels::tvl1 {

#if defined(__AVX512F__)
constexpr int kPackBytes = 64;
#elif defined(__AVX__)
constexpr int kPackBytes = 32;
#else
constexpr int kPackBytes = 16;
#endif

typedef float PackRawF __attribute__((vector_size(kPackBytes)));
typedef double PackRawD __attribute__((vector_size(kPackBytes)));
typedef int32_t PackMaskF __attribute__((vector_size(kPackBytes)));
typedef int64_t PackMaskD __attribute__((vector_size(kPackBytes)));
typedef double PackWideF __attribute__((vector_size(2 * kPackBytes)));  // a float pack in double

template <class T>
struct PackTypes;
template <>
struct PackTypes<float> {
  using Raw = PackRawF;
  using Mask = PackMaskF;
  using Wide = PackWideF;
};
template <>
struct PackTypes<double> {
  using Raw = PackRawD;
  using Mask = PackMaskD;
  using Wide = PackRawD;
};

template <class T>
constexpr int kLanes = kPackBytes / static_cast<int>(sizeof(T));

// A lane mask: all bits set in a lane where the comparison held.
template <class T>
struct PackMask {
  typename PackTypes<T>::Mask m;
};

template <class T>
struct Pack {
  using Raw = typename PackTypes<T>::Raw;
  Raw v;

  Pack() = default;
  explicit Pack(T s) : v(Raw{} + s) {}
  explicit Pack(Raw r) : v(r) {}

  // Lanes p[0 .. kLanes).
  static Pack load(const T* p) {
    Pack r;
    std::memcpy(&r.v, p, sizeof(Raw));
    return r;
  }
  // Lanes p[0 .. n), the rest 0 (0 <= n <= kLanes); nothing past p[n - 1] is touched.
  static Pack load(const T* p, int n);
  void store(T* p) const { std::memcpy(p, &v, sizeof(Raw)); }
  // Lanes [0, n) to p[0 .. n).
  void store(T* p, int n) const;
  T lane(int k) const { return v[k]; }

  Pack& operator+=(Pack o) {
    v += o.v;
    return *this;
  }
  Pack& operator-=(Pack o) {
    v -= o.v;
    return *this;
  }
};

#if defined(__AVX512F__)
// Masked AVX-512 loads and stores (lanes outside the mask are neither read nor written).
template <>
inline Pack<float> Pack<float>::load(const float* p, int n) {
  return Pack<float>(_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p));
}
template <>
inline Pack<double> Pack<double>::load(const double* p, int n) {
  return Pack<double>(_mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1), p));
}
template <>
inline void Pack<float>::store(float* p, int n) const {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
}
template <>
inline void Pack<double>::store(double* p, int n) const {
  _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1), v);
}
#else
template <class T>
inline Pack<T> Pack<T>::load(const T* p, int n) {
  Pack r(T(0));
  std::memcpy(&r.v, p, static_cast<size_t>(n) * sizeof(T));
  return r;
}
template <class T>
inline void Pack<T>::store(T* p, int n) const {
  std::memcpy(p, &v, static_cast<size_t>(n) * sizeof(T));
}
#endif

template <class T> inline Pack<T> operator+(Pack<T> a, Pack<T> b) { return Pack<T>(a.v + b.v); }
template <class T> inline Pack<T> operator-(Pack<T> a, Pack<T> b) { return Pack<T>(a.v - b.v); }
template <class T> inline Pack<T> operator*(Pack<T> a, Pack<T> b) { return Pack<T>(a.v * b.v); }
template <class T> inline Pack<T> operator/(Pack<T> a, Pack<T> b) { return Pack<T>(a.v / b.v); }
template <class T> inline Pack<T> operator-(Pack<T> a) { return Pack<T>(-a.v); }
template <class T> inline Pack<T> operator+(Pack<T> a, T b) { return Pack<T>(a.v + b); }
template <class T> inline Pack<T> operator+(T a, Pack<T> b) { return Pack<T>(a + b.v); }
template <class T> inline Pack<T> operator*(Pack<T> a, T b) { return Pack<T>(a.v * b); }
template <class T> inline Pack<T> operator*(T a, Pack<T> b) { return Pack<T>(a * b.v); }
template <class T> inline PackMask<T> operator<(Pack<T> a, Pack<T> b) { return {a.v < b.v}; }
template <class T> inline PackMask<T> operator>(Pack<T> a, Pack<T> b) { return {a.v > b.v}; }
template <class T> inline PackMask<T> operator>(Pack<T> a, T b) { return {a.v > b}; }

template <class T>
inline Pack<T> tvl1_select(PackMask<T> m, Pack<T> a, Pack<T> b) {
  return Pack<T>(m.m ? a.v : b.v);
}

// acc += the lanes of a pack converted to double (acc: a GCC vector of kLanes<T> doubles; updated
// in place, so no vector wider than the target's registers crosses a function boundary).
template <class T>
inline void add_widened(typename PackTypes<T>::Wide& acc, Pack<T> a) {
  acc += __builtin_convertvector(a.v, typename PackTypes<T>::Wide);
}

// Lanes [0, n) set.
template <class T>
inline PackMask<T> first_lanes(int n) {
  PackMask<T> r;
  for (int k = 0; k < kLanes<T>; ++k) r.m[k] = k < n ? -1 : 0;
  return r;
}

// (The AVX-512 forms pass a full mask: _mm512_sqrt_pd trips GCC 12's -Wmaybe-uninitialized.)
inline Pack<float> tvl1_sqrt(Pack<float> a) {
#if defined(__AVX512F__)
  return Pack<float>(_mm512_mask_sqrt_ps(a.v, static_cast<__mmask16>(0xFFFF), a.v));
#elif defined(__AVX__)
  return Pack<float>(_mm256_sqrt_ps(a.v));
#elif defined(__SSE2__)
  return Pack<float>(_mm_sqrt_ps(a.v));
#else
  for (int k = 0; k < kLanes<float>; ++k) a.v[k] = std::sqrt(a.v[k]);
  return a;
#endif
}

inline Pack<double> tvl1_sqrt(Pack<double> a) {
#if defined(__AVX512F__)
  return Pack<double>(_mm512_mask_sqrt_pd(a.v, static_cast<__mmask8>(0xFF), a.v));
#elif defined(__AVX__)
  return Pack<double>(_mm256_sqrt_pd(a.v));
#elif defined(__SSE2__)
  return Pack<double>(_mm_sqrt_pd(a.v));
#else
  for (int k = 0; k < kLanes<double>; ++k) a.v[k] = std::sqrt(a.v[k]);
  return a;
#endif
}

}  // namespace asn::kernels::tvl1
