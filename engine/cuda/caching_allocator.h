// CUDA caching allocator: keeps freed device blocks in per-size free lists and reuses them, so the
// steady state of a training loop makes no cudaMalloc/cudaFree calls (both synchronise the GPU).
//
// Sizes are rounded up (512 B granularity below 1 MiB, 2 MiB above) and a request takes a cached
// block of the same rounded size, or a larger one of at most twice the size. Blocks are never split,
// which keeps the bookkeeping obvious. All ops on a device run on its main stream, so a block freed
// by one op can be handed to the next op at once. When cudaMalloc fails, every cached block is
// released and the call retried; if it still fails, OutOfMemoryError names the requested size, the
// op (OpScope) and the allocator's statistics.
#pragma once

#include "engine/allocator.h"

namespace asn::cuda {

Allocator& caching_allocator(int device);

}  // namespace asn::cuda
