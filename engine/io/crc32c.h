// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected), the checksum of TFRecord/TensorBoard
// framing and of the per-tensor checksums asn writes into safetensors metadata.
//
// crc32c() uses the SSE4.2 crc32 instruction when the build targets it (-march=native on any
// x86-64 since 2008: ~10 GB/s, so checking a 300 MB checkpoint costs tens of milliseconds), and a
// byte table otherwise; both give the same values (tested).
#pragma once

#include <cstddef>
#include <cstdint>

namespace asn::io {

uint32_t crc32c(const void* data, size_t n);
// The portable byte-table implementation (what crc32c() falls back to).
uint32_t crc32c_portable(const void* data, size_t n);
// True when crc32c() uses the SSE4.2 instruction.
bool crc32c_is_hardware();

}  // namespace asn::io
