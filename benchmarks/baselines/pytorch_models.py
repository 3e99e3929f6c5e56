#!/usr/bin/env python3
"""PyTorch training-step baseline for asn-bench's model/* benchmarks (benchmarks/shapes/models.json),
on the port of the networks in pytorch_asn_port.py: the same work on the same card, the same JSON
lines; and --check, which verifies the port against asn itself.

One training step (as benchmarks/src/model_benchmarks.cpp): forward in training mode, softmax
cross-entropy against labels i % K, backward, SGD with Nesterov momentum 0.9 and coupled weight
decay 1e-4 on the conv and dense kernels only (asn leaves BN gamma/beta, biases and gate logits
undecayed), lr 0.01. Inputs uniform in [0, 1) (objects too). Layout (--layout): channels_last_3d
on CUDA (the bytes of asn's (N, T, H, W, C)); contiguous NCDHW on the CPU, where PyTorch runs most
of these batch-1 convolutions on its native kernels, which produce NCDHW anyway (measured: a 7-10%
faster step than channels_last_3d). cudnn.benchmark on, TF32 off unless --tf32 (asn computes in
f32). Reported per case: median / min ms over --repeats after --warmup (wall clock,
torch.cuda.synchronize around each step), clips/s, GFLOP/s as asn counts them (6 x conv and dense
MACs x batch), and memory. CUDA: peak_memory_mib, torch.cuda.max_memory_allocated since the model
and inputs were created (as asn's allocator peak); peak_memory_timed_steps_mib, the same over the
timed steps only (without the warm-up's cuDNN algorithm search); saved_for_backward_mib, the bytes
the forward pass left allocated. CPU: peak_rss_mib, the process's peak resident set since the model
and inputs were created (PyTorch keeps no CPU allocator statistics; not comparable with asn's).
Cases with "recompute": true or "checkpoint": true are skipped (asn's memory-saving modes; the
PyTorch counterpart, torch.utils.checkpoint, would not be the same work).

  python3 benchmarks/baselines/pytorch_models.py --device cuda --json out.jsonl   # CUDA cases
  python3 benchmarks/baselines/pytorch_models.py --device cpu --threads 2          # CPU cases
  python3 benchmarks/baselines/pytorch_models.py --check [--build-dir build]       # verify vs asn
  python3 benchmarks/baselines/pytorch_models.py --summary structures/assemblenet50.json

--check: for every structure in structures/ (and a few tiny variants with options no published
structure uses), (1) the trainable parameter count, every node's output shape, parameter count and
multiply-accumulates against `asn-structure summary --json` at 32x224x224; (2) logits, flow and
every node's output against `asn-structure run` with the same random weights (written by the port
under asn's names as a safetensors file, loaded strictly by asn), BN with moving statistics and
with batch statistics (--batch-stats), port in f64 and in f32; (3) the gradients of
sum(logits * logits_grad) for every trainable parameter and for the RGB input, training-mode BN,
asn in f64 (`asn-structure run --dtype f64 --gradients`) against PyTorch autograd of the f64 port;
(4) --spatial-conv 2d against 3d. Exits 1 when a count differs, or a relative error
(max |asn - port| / max |port|) of the logits or the flow exceeds --tol (1e-4), of a node's output
10 x --tol, or of a gradient --grad-tol (1e-9).
"""

import argparse
import collections
import datetime
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from bench_common import cpu_model  # noqa: E402
from pytorch_asn_port import (AssembleNet, BatchNorm, ConnectionAttention, Conv, Dense,  # noqa: E402
                              Fusion, Structure, meta_summary, to_cl)


def cmd_summary(args):
    s = Structure(args.summary)
    t, h, w = parse_input(args.input)
    net, rows = meta_summary(s, t, h, w)
    for name, r in rows.items():
        print(f"{name:<10} {str(r.get('output', '')):<28} {r['trainable_params']:>12,} {r['macs']:>18,}")
    print(f"total: {net.trainable_parameter_count():,} trainable parameters, "
          f"{sum(r['macs'] for r in rows.values()):,} multiply-accumulates per clip ({s.name}, {args.input})")


def parse_input(text):
    v = [int(x) for x in text.split("x")]
    return (v[0], v[1], v[1]) if len(v) == 2 else tuple(v)


# --------------------------------------------------------------------------------------------
# --check: the port against asn-structure.

CHECK_INPUTS = {  # structure -> (batch, frames, height, width) of the logits comparison
    "assemblenet50.json": (2, 4, 64, 64), "assemblenet101.json": (2, 4, 64, 64),
    "assemblenet_plus50.json": (2, 4, 64, 64), "assemblenet_plus50_rgb_flow.json": (2, 4, 64, 64),
    "assemblenet_plus_lite.json": (2, 4, 64, 64),
}
SMALL_INPUT = (2, 4, 32, 32)
# Options no published structure uses, checked on the tiny structures: (label, base file, keys
# changed, (batch, frames, height, width)); the odd, non-square sizes exercise the asymmetric
# SAME paddings of strided convs and pools and the fusion resize with padding.
VARIANTS = [
    ("tiny_plus_self_attention", "tiny_assemblenet_plus.json", {"attention": "self"}, (2, 3, 30, 26)),
    ("tiny_plus_max_pool_predictions", "tiny_assemblenet_plus.json", {"max_pool_predictions": True}, (2, 5, 36, 36)),
    ("tiny_odd_size", "tiny_assemblenet.json", {}, (2, 3, 30, 26)),
    ("tiny_lite_peer_true_channels", "tiny_assemblenet_plus_lite.json",
     {"attention": "peer", "lite_fusion_true_channels": True, "max_pool_predictions": True}, (2, 3, 30, 26)),
    ("tiny_lite_self_learned_edges", "tiny_assemblenet_plus_lite.json",
     {"attention": "self", "edge_weights": []}, (1, 4, 48, 48)),
]


def randomize(net, gen, rgb, objects):
    """Random weights for the comparison: every conv/dense kernel at a variance-preserving scale,
    BN gamma (including the zero-initialised ones) and beta random, learned gate logits and peer
    logits random with O(1) spread; then moving statistics set to the batch statistics of this
    input (one training-mode pass with cumulative averaging) times random factors, so that
    evaluation-mode BN keeps activations O(1) without equalling batch normalisation."""
    def normal(t):
        return torch.randn(t.shape, generator=gen, dtype=torch.float64)

    def rnd(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo)

    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, Conv):
                fan_in = m.cin * m.kernel[0] * m.kernel[1] * m.kernel[2]
                m.weight.copy_(normal(m.weight) * math.sqrt(2.0 / fan_in))
            elif isinstance(m, Dense):
                m.weight.copy_(normal(m.weight) / math.sqrt(m.in_features))
                rnd(m.bias, -0.2, 0.2)
            elif isinstance(m, BatchNorm):
                rnd(m.weight, 0.5, 1.5) if not m.zero_gamma else rnd(m.weight, 0.2, 0.6)
                rnd(m.bias, -0.2, 0.2)
            elif isinstance(m, ConnectionAttention) and m.mode == "peer":
                m.peer_logits.copy_(normal(m.peer_logits))
            elif isinstance(m, Fusion) and m.learned:
                m.edge_logits.copy_(normal(m.edge_logits))
        bns = [m for m in net.modules() if isinstance(m, BatchNorm)]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average: one pass sets the batch statistics
        net.train()
        net(rgb, objects)
        for m in bns:
            m.momentum = 0.01
            m.running_mean.add_((torch.rand(m.running_mean.shape, generator=gen, dtype=torch.float64) - 0.5)
                                .to(m.running_mean) * 0.2 * m.running_var.sqrt())
            m.running_var.mul_((torch.rand(m.running_var.shape, generator=gen, dtype=torch.float64) * 0.6 + 0.7)
                               .to(m.running_var))


def rel_err(a, b):
    """max |a - b| / max |b| (b: the reference)."""
    a, b = a.double(), b.double()
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def run_asn(tool, structure, inp, weights, out, batch_stats, threads, gradients=False, dtype="f32"):
    cmd = [tool, "--threads", str(threads), "run", structure, "--input-tensor", inp, "--weights", weights, "-o", out,
           "--dtype", dtype]
    if batch_stats:
        cmd.append("--batch-stats")
    if gradients:
        cmd.append("--gradients")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")


def port_gradients(net, x, ob, logits_grad):
    """{asn name or 'rgb': gradient in asn's layout} of sum(logits * logits_grad), training-mode BN."""
    net.eval()
    for m in net.modules():
        if isinstance(m, BatchNorm):
            m.train()
    net.zero_grad(set_to_none=True)
    xg = x.detach().clone().requires_grad_(True)
    logits = net(xg, ob)
    logits.backward(logits_grad.to(logits.dtype))
    out = {}
    for name, t, kind in net.asn_entries():
        if not t.requires_grad:
            continue
        g = t.grad if t.grad is not None else torch.zeros_like(t)
        out[name] = g.permute(0, 2, 3, 4, 1) if kind == "conv" else g
    out["rgb"] = xg.grad.permute(0, 2, 3, 4, 1)
    net.eval()
    return out


def check_structure(path, args, tool, tmp, size=None):
    from safetensors.torch import load_file, save_file
    s = Structure(path)
    base = os.path.basename(path)
    ok = True
    report = {"structure": base}

    # 1. Parameter counts, node shapes and MACs against `asn-structure summary --json`.
    for spec in ("32x224x224",) + ((args.extra_size,) if args.extra_size else ()):
        r = subprocess.run([tool, "summary", path, "--input", spec, "--json"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"asn-structure summary {path} failed:\n{r.stderr}")
        ref = json.loads(r.stdout)
        t, h, w = parse_input(spec)
        net, rows = meta_summary(s, t, h, w)
        count = net.trainable_parameter_count()
        asn_count = sum(n["trainable_params"] for n in ref["nodes"])
        bad = []
        for n in ref["nodes"]:
            mine = rows.get(n["name"], {"trainable_params": 0, "fixed_params": 0, "macs": 0})
            if any(mine[k] != n[k] for k in ("trainable_params", "fixed_params", "macs")):
                bad.append(f"{n['name']}: params {mine['trainable_params']} vs {n['trainable_params']}, fixed "
                           f"{mine['fixed_params']} vs {n['fixed_params']}, MACs {mine['macs']} vs {n['macs']}")
            if n["name"].startswith("node_") and mine.get("output") != n["output"]:
                bad.append(f"{n['name']}: output {mine.get('output')} vs {n['output']}")
        macs = sum(r_["macs"] for r_ in rows.values())
        if count != asn_count or macs != ref["macs"] or bad:
            ok = False
        report[f"params@{spec}"] = (count, asn_count)
        report[f"macs@{spec}"] = (macs, ref["macs"])
        print(f"{base}: {spec}: trainable parameters port {count:,} / asn {asn_count:,}; MACs per clip port "
              f"{macs:,} / asn {ref['macs']:,}; per-node parameters, fixed values, MACs and output shapes "
              f"{'all equal' if not bad else 'DIFFER'}")
        for b in bad:
            print("   ", b)

    # 2. Outputs: the same random weights in both, f32 inputs.
    n_, t, h, w = size or CHECK_INPUTS.get(base, SMALL_INPUT)
    gen = torch.Generator().manual_seed(args.seed)
    rgb = torch.rand(n_, t, h, w, 3, generator=gen)  # (N, T, H, W, 3), asn's layout
    objects = torch.rand(n_, t, h, w, s.num_object_classes, generator=gen) if s.object_input else None
    net = AssembleNet(s, t, h, w).double()
    x = to_cl(rgb.permute(0, 4, 1, 2, 3).double())
    ob = to_cl(objects.permute(0, 4, 1, 2, 3).double()) if objects is not None else None
    randomize(net, gen, x, ob)
    state = net.asn_state()
    wpath, ipath = os.path.join(tmp, base + ".weights.safetensors"), os.path.join(tmp, base + ".input.safetensors")
    save_file(dict(state), wpath)
    # d(sum(logits * logits_grad)) is backpropagated in the batch-statistics run (training mode).
    logits_grad = torch.randn(n_, s.num_classes, generator=gen)
    save_file({"rgb": rgb.contiguous(), "logits_grad": logits_grad,
               **({"objects": objects.contiguous()} if objects is not None else {})}, ipath)
    # The port reads the weights back as rounded to f32, exactly what asn loads.
    net.load_asn_state({k: v.double() for k, v in load_file(wpath).items()})
    net32 = AssembleNet(s, t, h, w)
    net32.load_asn_state(load_file(wpath))
    for mode in ("eval", "batch-stats"):
        opath = os.path.join(tmp, f"{base}.{mode}.out.safetensors")
        run_asn(tool, path, ipath, wpath, opath, mode == "batch-stats", args.threads)
        ref = load_file(opath)
        results = {}
        ob32 = ob.float() if ob is not None else None
        for label, model, xin, oin in (("f64", net, x, ob), ("f32", net32, x.float(), ob32)):
            model.eval()
            if mode == "batch-stats":  # BN with batch statistics, dropout (if any) still off
                for m in model.modules():
                    if isinstance(m, BatchNorm):
                        m.train()
            with torch.no_grad():
                logits, flow, outs = model(xin, oin, return_nodes=True)
            errs = {"logits": rel_err(ref["logits"], logits)}
            if flow is not None:
                errs["flow"] = rel_err(ref["flow"], flow.permute(0, 2, 3, 4, 1))
            node_errs = [rel_err(ref[f"node_{i}/output"], y.permute(0, 2, 3, 4, 1)) for i, y in enumerate(outs)]
            errs["worst node"] = max(node_errs)
            errs["worst node index"] = node_errs.index(max(node_errs))
            results[label] = errs
            # Both BN modes must leave the model as it was for the next mode: eval restores.
            model.eval()
        e64, e32 = results["f64"], results["f32"]
        tol = args.tol
        passed = all(e["logits"] <= tol and e.get("flow", 0) <= tol and e["worst node"] <= 10 * tol
                     for e in (e64, e32))
        ok = ok and passed
        report[mode] = {"asn_vs_f64": e64, "asn_vs_f32": e32}
        print(f"{base}: {mode:<11} N,T,H,W = {n_},{t},{h},{w}: logits rel. error asn vs port f64 {e64['logits']:.2e}, "
              f"vs port f32 {e32['logits']:.2e}"
              + (f"; flow {e64['flow']:.2e} / {e32['flow']:.2e}" if "flow" in e64 else "")
              + f"; worst node output {e64['worst node']:.2e} (node {e64['worst node index']}) / "
              f"{e32['worst node']:.2e} (node {e32['worst node index']}); logits scale "
              f"{ref['logits'].abs().max().item():.3g} -> {'ok' if passed else 'MISMATCH (tol %.0e)' % tol}")

    # 3. Backward, in double precision on both sides (asn-structure run --dtype f64 --gradients):
    # the gradient of sum(logits * logits_grad) for every trainable parameter and for the RGB input
    # (through the flow stem's backward too), training-mode BN, against PyTorch autograd of the
    # port. In f32 these gradients are ill-conditioned at small inputs (BN over a few values deep in
    # the network: the port's own f32 and f64 gradients differ by up to ~1e-1 there), so only f64
    # says whether the backward is right.
    if not args.no_gradients:
        opath = os.path.join(tmp, f"{base}.grad64.out.safetensors")
        run_asn(tool, path, ipath, wpath, opath, True, args.threads, gradients=True, dtype="f64")
        ref = load_file(opath)
        g = port_gradients(net, x, ob, logits_grad)
        errs = {name: rel_err(ref["grad/" + name], v) for name, v in g.items()}
        worst = max(errs, key=errs.get)
        grad_ok = errs[worst] <= args.grad_tol
        ok = ok and grad_ok
        report["gradients_f64"] = {"worst": worst, "worst_rel_err": errs[worst], "rgb": errs["rgb"],
                                   "tensors": len(errs)}
        print(f"{base}: gradients f64 N,T,H,W = {n_},{t},{h},{w}: {len(errs)} tensors, worst rel. error "
              f"{errs[worst]:.2e} ({worst}), rgb {errs['rgb']:.2e} -> "
              f"{'ok' if grad_ok else 'MISMATCH (tol %.0e)' % args.grad_tol}")

    # 4. The conv2d-over-frames path of the benchmark computes the same as conv3d.
    Conv.spatial_as_2d = True
    try:
        with torch.no_grad():
            net32.eval()
            l2 = net32(x.float(), ob.float() if ob is not None else None)
    finally:
        Conv.spatial_as_2d = False
    with torch.no_grad():
        l3 = net32(x.float(), ob.float() if ob is not None else None)
    e = rel_err(l2, l3)
    report["conv2d_vs_conv3d"] = e
    if e > 1e-5:
        ok = False
    print(f"{base}: --spatial-conv 2d vs 3d logits rel. difference {e:.1e}")
    report["ok"] = ok
    return ok, report


def cmd_check(args):
    tool = os.path.join(args.build_dir, "apps", "asn-structure", "asn-structure")
    if not os.access(tool, os.X_OK):
        sys.exit(f"pytorch_models.py --check: {tool} not found (build asn, or pass --build-dir)")
    torch.set_num_threads(args.threads)
    rx = re.compile(args.filter)
    paths = sorted(os.path.join(ROOT, "structures", f) for f in os.listdir(os.path.join(ROOT, "structures"))
                   if f.endswith(".json") and rx.search(f))
    failed, reports = [], []
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(p, None) for p in paths]
        for label, base, keys, size in VARIANTS if not args.no_variants else []:
            if not rx.search(label):
                continue
            with open(os.path.join(ROOT, "structures", base)) as f:
                j = json.load(f)
            j.update(keys)
            j["name"] = label
            p = os.path.join(tmp, label + ".json")
            with open(p, "w") as f:
                json.dump(j, f)
            jobs.append((p, size))
        for p, size in jobs:
            t0 = time.perf_counter()
            ok, rep = check_structure(p, args, tool, tmp, size)
            rep["seconds"] = round(time.perf_counter() - t0, 1)
            reports.append(rep)
            if not ok:
                failed.append(os.path.basename(p))
    if args.json:
        with open(args.json, "a") as f:
            for r in reports:
                f.write(json.dumps(r) + "\n")
    print(f"\n{len(jobs) - len(failed)} of {len(jobs)} structures agree"
          + (f"; MISMATCH: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


# --------------------------------------------------------------------------------------------
# Training-step benchmark (benchmarks/shapes/models.json).



def read_status_mib(key):
    """VmRSS / VmHWM of this process from /proc/self/status, MiB (None where unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Resets the process's peak RSS (Linux: writing 5 to /proc/self/clear_refs), so that VmHWM is
    the peak since the model and inputs exist (as asn-bench resets its allocator peak); returns
    the RSS at that point (the Python and PyTorch libraries, the model and the inputs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return read_status_mib("VmRSS")


def bench_case(case, args, dev):
    s = Structure(os.path.join(ROOT, "structures", case["structure"]))
    n, t, size = case["batch"], case["frames"], case["size"]
    torch.manual_seed(1)
    fmt = torch.channels_last_3d if args.layout == "channels_last_3d" else torch.contiguous_format
    net = AssembleNet(s, t, size, size).to(dev).to(memory_format=fmt)
    g = torch.Generator(device="cpu").manual_seed(7)
    rgb = torch.rand(n, 3, t, size, size, generator=g).to(dev).contiguous(memory_format=fmt)
    objects = (torch.rand(n, s.num_object_classes, t, size, size, generator=g).to(dev).contiguous(memory_format=fmt)
               if s.object_input else None)
    labels = (torch.arange(n) % s.num_classes).to(dev)
    opt = torch.optim.SGD(net.param_groups(1e-4), lr=0.01, momentum=0.9, nesterov=True)
    _, rows = meta_summary(s, t, size, size)
    macs = sum(r["macs"] for r in rows.values())
    cuda = dev.type == "cuda"
    saved = [0]
    net.train()

    def step():
        opt.zero_grad(set_to_none=True)
        before = torch.cuda.memory_allocated(dev) if cuda else 0
        logits = net(rgb, objects)
        loss = F.cross_entropy(logits, labels)
        if cuda:
            saved[0] = torch.cuda.memory_allocated(dev) - before
        loss.backward()
        opt.step()

    if cuda:
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    rss_before = reset_peak_rss()
    for _ in range(args.warmup):
        step()
        if cuda:
            torch.cuda.synchronize(dev)
    warmup_peak = 0
    if cuda:  # the warm-up includes cuDNN's algorithm search (cudnn.benchmark) and its workspaces
        warmup_peak = torch.cuda.max_memory_allocated(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    ms = []
    for _ in range(args.repeats):
        if cuda:
            torch.cuda.synchronize(dev)
        t0 = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize(dev)
        ms.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(ms)
    row = collections.OrderedDict()
    row["name"] = f"model/{case['name']}/train_step"
    row["group"] = "model"
    row["impl"] = "pytorch"
    row["device"] = dev.type
    row["threads"] = args.threads
    row["shape"] = f"{n} clips of {t}x{size}x{size}, {s.name}"
    row["dtype"] = "f32"
    row["median_ms"] = med
    row["min_ms"] = min(ms)
    row["gflops"] = 6.0 * macs * n / (med * 1e-3) * 1e-9
    row["gbps"] = 0
    row["repeats"] = args.repeats
    row["warmup"] = args.warmup
    row["clock"] = "wall"
    row["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    row["host"] = socket.gethostname()
    row["cpu"] = cpu_model()
    row["clips_per_s"] = 1000.0 * n / med if med > 0 else 0
    if cuda:
        steady = torch.cuda.max_memory_allocated(dev)
        row["peak_memory_mib"] = max(warmup_peak, steady) / 1048576.0
        row["peak_memory_timed_steps_mib"] = steady / 1048576.0
        row["saved_for_backward_mib"] = saved[0] / 1048576.0
        row["gpu"] = torch.cuda.get_device_name(dev)
        row["tf32"] = bool(args.tf32)
    else:  # no allocator statistics on the CPU: the process's peak resident set instead
        row["peak_rss_mib"] = read_status_mib("VmHWM")
        row["rss_at_start_mib"] = rss_before
    row["torch"] = torch.__version__
    row["layout"] = args.layout
    row["spatial_conv"] = "conv2d over frames" if Conv.spatial_as_2d else "conv3d"
    return row


def cmd_bench(args):
    dev = torch.device(args.device)
    rx = re.compile(args.filter)
    with open(os.path.join(ROOT, "benchmarks", "shapes", "models.json")) as f:
        cases = [c for c in json.load(f)["cases"]
                 if c["device"] == dev.type and rx.search(f"model/{c['name']}/train_step")]
    if args.list:
        for c in cases:
            skipped = c.get("recompute") or c.get("checkpoint")
            print(f"model/{c['name']}/train_step" + ("  (skipped: memory-saving mode)" if skipped else ""))
        return
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit("pytorch_models.py: --device cuda but torch sees no CUDA device")
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = args.tf32
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.set_num_threads(args.threads)
    Conv.spatial_as_2d = args.spatial_conv == "2d"
    if args.layout == "auto":
        args.layout = "channels_last_3d" if dev.type == "cuda" else "ncdhw"
    out = open(args.json, "a") if args.json else None
    for case in cases:
        name = f"model/{case['name']}/train_step"
        if case.get("recompute") or case.get("checkpoint"):
            print(f"{name}: skipped (an asn memory-saving mode; no PyTorch equivalent here)",
                  file=sys.stderr, flush=True)
            continue
        try:
            row = bench_case(case, args, dev)
        except torch.cuda.OutOfMemoryError as e:  # report and go on with the next case
            print(f"{name}: out of memory: {str(e).splitlines()[0]}", file=sys.stderr)
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            continue
        mem = (f"peak {row['peak_memory_mib']:.0f} MiB" if "peak_memory_mib" in row
               else f"peak RSS {row['peak_rss_mib']:.0f} MiB")
        print(f"{name:<40} {row['median_ms']:10.1f} ms (min {row['min_ms']:.1f}) {row['clips_per_s']:8.2f} clips/s  "
              f"{mem}", file=sys.stderr, flush=True)
        line = json.dumps(row)
        print(line, flush=True)
        if out:
            out.write(line + "\n")
            out.flush()
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    if out:
        out.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda")
    ap.add_argument("--filter", default="", help="regex searched in the benchmark name (with --check: in the "
                                                 "structure file name)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    ap.add_argument("--json", default="", help="append the JSON lines to this file")
    ap.add_argument("--list", action="store_true", help="print the benchmark names and exit")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 (off by default, as asn)")
    ap.add_argument("--layout", choices=["auto", "channels_last_3d", "ncdhw"], default="auto",
                    help="memory format of the model and inputs; auto: channels_last_3d (asn's bytes) on "
                         "CUDA, contiguous NCDHW on the CPU, where PyTorch's native convolutions use it "
                         "anyway and the step is 7-10%% faster")
    ap.add_argument("--spatial-conv", choices=["3d", "2d"], default="3d",
                    help="(1, kH, kW) convs as conv3d (default) or conv2d over the N*T frames")
    ap.add_argument("--check", action="store_true", help="compare the port with asn-structure and exit")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"), help="asn build folder (for --check)")
    ap.add_argument("--tol", type=float, default=1e-4,
                    help="--check: relative tolerance of the logits and the flow (node outputs: 10x)")
    ap.add_argument("--extra-size", default="", help="--check: a second summary size, e.g. 32x256x256")
    ap.add_argument("--seed", type=int, default=3, help="--check: weights and inputs seed")
    ap.add_argument("--grad-tol", type=float, default=1e-9,
                    help="--check: max |asn - port| / max |port| for each gradient tensor (both in f64)")
    ap.add_argument("--no-gradients", action="store_true", help="--check: skip the gradient comparison")
    ap.add_argument("--no-variants", action="store_true",
                    help="--check: only the files in structures/, not the tiny variants with other options")
    ap.add_argument("--summary", default="", help="print the port's per-node summary of this structure file")
    ap.add_argument("--input", default="32x224x224", help="--summary: FRAMESxHEIGHTxWIDTH")
    args = ap.parse_args()
    if args.summary:
        cmd_summary(args)
    elif args.check:
        cmd_check(args)
    else:
        cmd_bench(args)


if __name__ == "__main__":
    main()
