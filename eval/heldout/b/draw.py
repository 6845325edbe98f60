#!/usr/bin/env python3
"""Seeded draw of the tools that get one held-out tool question each.

Procedure (see README.md):
  * random.seed(31337)
  * per server, quota = max(8, round(k * sqrt(tool_count))), with k the largest
    value (searched in steps of 0.001) for which the quotas sum to <= TARGET (130).
  * draw `quota` tools with random.sample from ALL the server's tools
    (defaultEnabled false included), servers processed in the fixed order below.
  * if a server has fewer tools than its quota (prometheus: 6 < 8), all its tools
    are taken and the rest are drawn with random.choice (repeats -> a second,
    differently worded question for the same tool).
Prints one line per drawn tool: server/tool.
"""

import json
import math
import os
import random
import sys
from pathlib import Path

SEED = 31337
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
TOOLS_DIR = os.environ.get("TOOLS_DIR", str(Path(__file__).resolve().parents[2] / "mcp-tools"))


def load():
    out = {}
    for s in SERVERS:
        with open(os.path.join(TOOLS_DIR, s + ".json")) as f:
            out[s] = [t["name"] for t in json.load(f)["tools"]]
    return out


def quotas(tools):
    best = None
    k = 0.0
    while True:
        q = {s: max(MIN_PER_SERVER, round(k * math.sqrt(len(tools[s])))) for s in SERVERS}
        if sum(q.values()) > TARGET:
            break
        best = q
        k += 0.001
    return best


def main():
    random.seed(SEED)
    tools = load()
    q = quotas(tools)
    drawn = []
    for s in SERVERS:
        names = sorted(tools[s])
        n = q[s]
        if n <= len(names):
            pick = random.sample(names, n)
        else:
            pick = random.sample(names, len(names))
            pick += [random.choice(names) for _ in range(n - len(names))]
        drawn += [f"{s}/{t}" for t in pick]
    for s in SERVERS:
        print(f"# {s}: {len(tools[s])} tools, quota {q[s]}", file=sys.stderr)
    print(f"# total {len(drawn)}", file=sys.stderr)
    print("\n".join(drawn))


if __name__ == "__main__":
    main()
