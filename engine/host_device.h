// ASN_HOST_DEVICE marks inline functions that compile for both the CPU and CUDA backends, so the
// arithmetic of an op lives in one place and the CPU tests exercise what the GPU runs.
#pragma once

#if defined(__CUDACC__)
#define ASN_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define ASN_HOST_DEVICE inline
#endif
