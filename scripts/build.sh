#!/usr/bin/env bash
# Configures and builds asn (Release) into ./build.
#   ASN_CUDA_ARCHS  CUDA architectures (default "80;90"; CI uses 90)
#   ASN_BUILD_DIR   build folder (default build)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${ASN_BUILD_DIR:-build}"
archs="${ASN_CUDA_ARCHS:-}"
if [ -z "$archs" ]; then
  if [ "${CI:-}" = "true" ]; then archs="90"; else archs="80;90"; fi
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES="$archs"
else
  cmake -S . -B "$build_dir" -DCMAKE_CUDA_ARCHITECTURES="$archs" >/dev/null
fi
cmake --build "$build_dir" --parallel "$(nproc)"
