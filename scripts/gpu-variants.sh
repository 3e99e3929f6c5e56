# Sourced by scripts/gpu-check after its asn-bench runs, before the PyTorch baselines (skipped with
# SKIP_BENCH=1; uses gpu-check's $tests_bin, $bench_bin, $root, $out
# and log): kernels written in sessions without a GPU have a switch back to the variant that last
# passed on a GPU. This runs their tests and benchmarks once more with every switch flipped back,
# so one GPU run says whether each new variant is correct AND faster, and writes
# $out/variants.md (new vs previous, same card, same run).
#
# Switches (defaults: the new variants):
#   ASN_REPFLOW_BAND_SPECIALIZED=0      rep-flow band kernel without the 224x224 specialisation
#   ASN_GATED_SUM_IDENTITY_KERNEL=0     gated_sum identity inputs through the general kernel
#   ASN_GATED_SUM_BWD_THREADS=256       gated_sum backward in 256-thread blocks
previous_env=(ASN_REPFLOW_BAND_SPECIALIZED=0 ASN_GATED_SUM_IDENTITY_KERNEL=0 ASN_GATED_SUM_BWD_THREADS=256)

log "variants: CUDA tests [rep_flow],[gated_sum],[recompute] with the previous kernels"
env "${previous_env[@]}" timeout 240 "$tests_bin" "[rep_flow],[gated_sum],[recompute]" > "$out/variants-tests-previous.log" 2>&1
variants_tests_rc=$?
log "variants: previous kernels' tests exit $variants_tests_rc"

if [ "${SKIP_BENCH:-0}" != 1 ]; then
  variants_filter='rep_flow/gpu|fusion/.*cuda'
  : > "$out/variants-new.jsonl"
  : > "$out/variants-previous.jsonl"
  log "variants: benchmarks, new kernels"
  timeout 120 "$bench_bin" --shapes "$root/benchmarks/shapes" --threads 16 --filter "$variants_filter" \
    --repeats 10 --warmup 3 --json "$out/variants-new.jsonl" > /dev/null 2>&1 || log "variants: new run stopped (rc $?)"
  log "variants: benchmarks, previous kernels"
  env "${previous_env[@]}" timeout 120 "$bench_bin" --shapes "$root/benchmarks/shapes" --threads 16 \
    --filter "$variants_filter" --repeats 10 --warmup 3 --json "$out/variants-previous.jsonl" > /dev/null 2>&1 \
    || log "variants: previous run stopped (rc $?)"
fi

python3 - "$out" "$variants_tests_rc" <<'PY'
import json, sys
out, rc = sys.argv[1], sys.argv[2]
def load(name):
    try:
        return {r["name"]: r for r in (json.loads(l) for l in open(f"{out}/{name}") if l.strip().startswith("{"))}
    except FileNotFoundError:
        return {}
new, prev = load("variants-new.jsonl"), load("variants-previous.jsonl")
lines = ["# Kernel variants: new vs previous (same card, same run)", "",
         f"- tests [rep_flow],[gated_sum],[recompute] with the previous kernels: exit {rc}"
         " (the default run above tested the new ones)", ""]
if new:
    lines += ["| benchmark | new ms | previous ms | previous / new | new GB/s |", "| --- | --- | --- | --- | --- |"]
    for name, n in new.items():
        p = prev.get(name)
        ratio = f"{p['median_ms'] / n['median_ms']:.2f}x" if p and n["median_ms"] > 0 else "-"
        pm = f"{p['median_ms']:.3f}" if p else "-"
        lines.append(f"| {name} | {n['median_ms']:.3f} | {pm} | {ratio} | {n.get('gbps', 0):.0f} |")
open(f"{out}/variants.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
