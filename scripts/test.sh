#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (CPU tests, slow tests, and the
# CUDA tests, which skip themselves when there is no GPU).
#   extra arguments go to ctest, e.g. scripts/test.sh -L cpu   or   scripts/test.sh -LE slow
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${ASN_BUILD_DIR:-build}"
ctest --output-on-failure --parallel "$(nproc)" "$@"
