// Process-wide switches that change how ops compute, not what: determinism and TF32.
//
// deterministic: CUDA ops use only bitwise-reproducible algorithms (restricted cuDNN algorithm
//   choice, no atomics in our own kernels' reductions). CPU ops are always deterministic for a
//   given thread count.
// allow_tf32: let cuBLAS/cuDNN use TF32 tensor cores for f32 (faster, ~1e-3 relative error). Off by
//   default so results match the CPU at the f32 tolerances of docs/testing.md.
#pragma once

namespace asn {

bool deterministic();
void set_deterministic(bool on);
bool allow_tf32();
void set_allow_tf32(bool on);

// An on/off switch from the environment, read once per call site by the caller: unset means
// `default_on`; "0", "off", "false" or "no" mean off, anything else on. Used by kernels written
// without a GPU to offer a way back to the variant they replaced (scripts/gpu-variants.sh).
bool env_switch(const char* name, bool default_on);

}  // namespace asn
