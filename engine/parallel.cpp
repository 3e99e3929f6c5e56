// Thread-count control for OpenMP and OpenBLAS.
#include "engine/parallel.h"

#include "engine/error.h"

extern "C" void openblas_set_num_threads(int);

namespace asn {

namespace {
int g_threads = 0;  // 0: not set yet, use the OpenMP default
}

int num_threads() {
  if (g_threads > 0) return g_threads;
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void set_num_threads(int n) {
  ASN_CHECK(n >= 1, "thread count must be at least 1, got {}", n);
  g_threads = n;
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  openblas_set_num_threads(n);
}

}  // namespace asn
