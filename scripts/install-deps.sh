#!/usr/bin/env bash
# Installs whatever asn needs from Debian's packages and is missing. Idempotent: packages already
# present are left alone, and nothing is installed when everything is there.
# CUDA (nvcc, cuDNN, cuBLAS, NCCL) is not installed here: it is detected under /usr/local/cuda.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libcli11-dev nlohmann-json3-dev catch2 libspdlog-dev libfmt-dev
  libopenblas-openmp-dev libomp-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
  libopenmpi-dev openmpi-bin
  graphviz python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc >/dev/null 2>&1; then
  echo "install-deps: CUDA toolkit found ($( (command -v nvcc || echo /usr/local/cuda/bin/nvcc) ))"
else
  echo "install-deps: no CUDA toolkit found; the CPU backend will be built alone"
fi
