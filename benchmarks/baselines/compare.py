#!/usr/bin/env python3
"""Side-by-side table of asn-bench and baseline JSON lines (the format of benchmarks/src/runner.h).

  python3 benchmarks/baselines/compare.py results.jsonl [more.jsonl ...] [--threads 2]

Rows are benchmark names, columns the impls ("asn", "pytorch-onednn", "pytorch-native", ...) with
their median time in ms (--stat min: their fastest run). When a name was measured several times
for one impl (several rounds), the smallest value is taken: on a shared machine the least
disturbed round is the most faithful.
The ratio columns are speed relative to asn: baseline_ms / asn_ms (above 1: asn is faster).
Prints a Markdown table.
"""

import argparse
import json
from collections import OrderedDict


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--threads", type=int, default=None,
                    help="keep only rows with this thread count")
    ap.add_argument("--ref", default="asn", help="impl the ratios are relative to")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="keep only lines timed on this clock")
    ap.add_argument("--stat", choices=["median", "min"], default="median",
                    help="which time of each line to compare (min: the least disturbed run)")
    args = ap.parse_args()

    best = OrderedDict()  # name -> impl -> median_ms
    impls = []
    for path in args.files:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                if args.threads is not None and r.get("threads") != args.threads:
                    continue
                if r.get("clock", "wall") != args.clock:
                    continue
                impl = r.get("impl", "asn")
                if impl not in impls:
                    impls.append(impl)
                row = best.setdefault(r["name"], {})
                row[impl] = min(row.get(impl, float("inf")), r[f"{args.stat}_ms"])

    def ms(v):  # three significant digits for sub-10 ms ops, one decimal above
        return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 10 else f"{v:.1f}"

    others = [i for i in impls if i != args.ref]
    head = ["benchmark", f"{args.ref} ms"] + [f"{i} ms" for i in others]
    if args.stat == "min":
        head[1:] = [h.replace(" ms", " min ms") for h in head[1:]]
    head += [f"{args.ref} speed vs {i}" for i in others]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, row in best.items():
        ref = row.get(args.ref)
        cells = [name, ms(ref) if ref else "-"]
        cells += [ms(row[i]) if i in row else "-" for i in others]
        cells += [f"{row[i] / ref:.2f}x" if ref and i in row else "-" for i in others]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
