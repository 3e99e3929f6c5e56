#!/usr/bin/env bash
# The main job: installs what is missing, builds, and trains a small AssembleNet (RGB + optical-flow
# stems, the flow computed in the network) on the built-in synthetic moving-shapes dataset, where
# the class is the direction of motion (4 classes, chance 25%). Runs on the GPU when one is present,
# else on the CPU (a few minutes on 2 cores). The run folder is runs/demo (config, metrics.jsonl,
# TensorBoard events, checkpoints); extra arguments are config overrides, e.g. train.epochs=4.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/apps/asn-train/asn-train train output_dir=runs/demo "$@"
