// The CUDA runtime as the engine uses it: device queries, one main stream per device, copies,
// fills and casts. Only compiled when ASN_WITH_CUDA is defined.
//
// Streams: every op on device i runs on stream(i), so the caching allocator can reuse a freed block
// immediately (all work on a device is ordered). A side stream exists for copies that overlap with
// compute; work on it must be ordered with events before touching memory from the main stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/device.h"
#include "engine/dtype.h"

namespace asn::cuda {

// Number of devices; 0 when there is no driver or no GPU (never throws).
int device_count();
// Throws DeviceError with a clear message when device `index` does not exist.
void check_device(int index);
// Makes `index` current for this thread.
void set_device(int index);
// The main stream of device `index` (created on first use).
cudaStream_t stream(int index);
// The side stream of device `index`.
cudaStream_t side_stream(int index);
// Waits for all work on device `index`'s streams.
void synchronize(int index);

// Copies nbytes between any two devices (host <-> device, device <-> device). Host-to-device and
// device-to-device copies are ordered on the destination's main stream; device-to-host copies
// synchronise so the host can read the result.
void copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t nbytes);
void memset_zero(void* ptr, size_t nbytes, int device);
// Fills numel elements of dtype with value (converted as a static_cast / bf16 rounding would).
void fill(void* ptr, DType dtype, int64_t numel, double value, int device);
// Elementwise dtype conversion between two device buffers.
void cast(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t numel, int device);

// Device name, e.g. "NVIDIA H100 80GB HBM3".
const char* device_name(int index);

}  // namespace asn::cuda
