#!/usr/bin/env python3
"""Seeded draw of the tools that held-out set A writes tool questions for.

Procedure (BRIEF.md): with random.seed(SEED), for each of the 11 fleet servers draw a
number of tools proportional to sqrt(tool count), at least 8 per server, from ALL its
tools (defaultEnabled false included).

Details:
* quota(server) = max(8, round(k * sqrt(n_tools))), with k chosen (bisection) so that the
  quotas add up to TARGET tool questions.
* servers are processed in the fixed order below; tools are sorted by name before
  random.sample so the draw does not depend on JSON order.
* a server with fewer tools than its quota (prometheus: 6 tools, quota 8) gets ALL its
  tools, and the remainder is drawn again (without replacement) from its tools, so those
  tools get a second, differently worded question.

Usage: python3 draw.py [path/to/eval/mcp-tools]   -> prints the draw as JSON lines.
"""

import json
import math
import random
import sys
from pathlib import Path

SEED = 90901
TARGET = 130
MIN_PER_SERVER = 8
SERVERS = [
    "opnsense",
    "unifi",
    "adguard",
    "caddy",
    "kubernetes",
    "talos",
    "proxmox-plus",
    "grafana",
    "prometheus",
    "github",
    "postgres",
]


def quotas(counts):
    def total(k):
        return sum(max(MIN_PER_SERVER, round(k * math.sqrt(n))) for n in counts.values())

    lo, hi = 0.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if total(mid) < TARGET:
            lo = mid
        else:
            hi = mid
    k = hi
    return k, {s: max(MIN_PER_SERVER, round(k * math.sqrt(n))) for s, n in counts.items()}


def main():
    base = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[2] / "mcp-tools"
    )
    tools = {}
    for s in SERVERS:
        data = json.loads((base / f"{s}.json").read_text())
        tools[s] = sorted(t["name"] for t in data["tools"])
    counts = {s: len(v) for s, v in tools.items()}
    k, q = quotas(counts)
    random.seed(SEED)
    draw = []
    for s in SERVERS:
        names = tools[s]
        if q[s] <= len(names):
            picked = random.sample(names, q[s])
        else:
            picked = list(names) + random.sample(names, q[s] - len(names))
        for name in picked:
            draw.append({"server": s, "tool": f"{s}/{name}"})
    print(
        json.dumps(
            {"seed": SEED, "k": round(k, 4), "quotas": q, "counts": counts, "total": len(draw)}
        ),
        file=sys.stderr,
    )
    for d in draw:
        print(json.dumps(d))


if __name__ == "__main__":
    main()
