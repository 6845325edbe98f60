#!/usr/bin/env python3
"""Seeded draw of the tools that get one tool question each (held-out set c).

Usage: python3 draw.py [MCP_TOOLS_DIR] [--total N] [--json]

Procedure
* random.seed(4242), once, before any draw.
* The eleven fleet servers, in the fixed order of SERVERS below.
* Quota per server proportional to sqrt(number of tools in <server>.json, all tools,
  defaultEnabled false included), scaled so the quotas add up to --total (default 170),
  with a floor of 8 per server; rounding by largest remainder.
* Per server: random.sample over ALL its tools (file order) of min(quota, tool count).
  If the quota exceeds the tool count (prometheus has 6 tools), every tool is drawn once and
  the rest is drawn with random.choice from all tools (those tools get a second question).
"""

import json
import math
import random
import sys
from pathlib import Path

SEED = 4242
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
MIN_PER_SERVER = 8


def tools_dir(argv):
    for a in argv:
        if not a.startswith("--") and not a.isdigit():
            return Path(a)
    rel = Path(__file__).resolve().parents[2] / "mcp-tools"
    return rel


def quotas(counts, total):
    fixed = {}
    free = dict(counts)
    while True:
        remaining = total - MIN_PER_SERVER * len(fixed)
        k = remaining / sum(math.sqrt(c) for c in free.values())
        low = [s for s, c in free.items() if k * math.sqrt(c) < MIN_PER_SERVER]
        if not low:
            break
        for s in low:
            fixed[s] = MIN_PER_SERVER
            del free[s]
    raw = {s: k * math.sqrt(c) for s, c in free.items()}
    q = {s: int(v) for s, v in raw.items()}
    left = remaining - sum(q.values())
    for s in sorted(raw, key=lambda s: (-(raw[s] - q[s]), SERVERS.index(s)))[:left]:
        q[s] += 1
    q.update(fixed)
    return {s: q[s] for s in SERVERS}


def main(argv):
    total = 170
    if "--total" in argv:
        total = int(argv[argv.index("--total") + 1])
    d = tools_dir(argv)
    cats = {s: json.loads((d / f"{s}.json").read_text())["tools"] for s in SERVERS}
    q = quotas({s: len(t) for s, t in cats.items()}, total)
    random.seed(SEED)
    draw = {}
    for s in SERVERS:
        names = [t["name"] for t in cats[s]]
        n = q[s]
        picked = random.sample(names, min(n, len(names)))
        while len(picked) < n:
            picked.append(random.choice(names))
        draw[s] = picked
    if "--json" in argv:
        print(json.dumps(draw, indent=1))
    else:
        for s in SERVERS:
            print(f"{s} ({len(cats[s])} tools, {q[s]} drawn):")
            for name in draw[s]:
                print(f"  {s}/{name}")
        print("total", sum(q.values()))


if __name__ == "__main__":
    main(sys.argv[1:])
