#!/usr/bin/env python3
"""Prints a Markdown table of the last criterion run: per group, the median time per element
(per packet) of infersteer and of each peer, and the ratio peer / infersteer.

Usage: scripts/bench-table.py [GROUP_PREFIX]   e.g. scripts/bench-table.py wire
Reads target/criterion/*/*/new/{benchmark,estimates}.json (written by `cargo bench`).
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
prefix = sys.argv[1] if len(sys.argv) > 1 else ""
groups = {}
for bench in sorted(root.glob("*/*/new/benchmark.json")):
    meta = json.loads(bench.read_text())
    if not meta["group_id"].startswith(prefix):
        continue
    est = json.loads((bench.parent / "estimates.json").read_text())
    elements = (meta.get("throughput") or {}).get("Elements", 1)
    per_elem = est["median"]["point_estimate"] / elements
    groups.setdefault(meta["group_id"], {})[meta["function_id"]] = per_elem

if not groups:
    sys.exit(f"no criterion results under {root} for prefix {prefix!r}: run cargo bench first")

print("| group | infersteer entry | ns/pkt (median) | peer | peer ns/pkt (median) | peer / infersteer |")
print("|---|---|---:|---|---:|---:|")
for group, fns in sorted(groups.items()):
    # Every entry named `infersteer` or `infersteer_<variant>` is ours; the rest are peers.
    ours = {k: v for k, v in fns.items() if k == "infersteer" or k.startswith("infersteer_")}
    peers = {k: v for k, v in fns.items() if k not in ours}
    for name, mine in sorted(ours.items()):
        if not peers:
            print(f"| {group} | {name} | {mine:.1f} | | | |")
        for peer, t in sorted(peers.items()):
            print(f"| {group} | {name} | {mine:.1f} | {peer} | {t:.1f} | {t / mine:.2f}x |")
