#!/usr/bin/env python3
"""Validate heldout-a.jsonl: schema, ids, routes, tools/alternatives exist in the fleet,
tool null unless route=tool, and the multiset of tool labels equals the seeded draw."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
TOOLS_DIR = (
    Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "mcp-tools"
)
FLEET = [
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
valid = set()
for s in FLEET:
    for t in json.loads((TOOLS_DIR / f"{s}.json").read_text())["tools"]:
        valid.add(f"{s}/{t['name']}")

errs, ids, rows = [], set(), []
KEYS = {"id", "query", "route", "tool", "alternatives", "arguments", "note"}
for n, line in enumerate((HERE / "heldout-a.jsonl").read_text().splitlines(), 1):
    r = json.loads(line)
    rows.append(r)
    if set(r) != KEYS:
        errs.append(f"line {n}: keys {sorted(r)}")
    if not r["id"].startswith("ha"):
        errs.append(f"line {n}: id prefix")
    if r["id"] in ids:
        errs.append(f"line {n}: duplicate id {r['id']}")
    ids.add(r["id"])
    if r["route"] not in ("tool", "direct", "escalate", "context"):
        errs.append(f"{r['id']}: route")
    if not isinstance(r["query"], str) or not r["query"].strip():
        errs.append(f"{r['id']}: empty query")
    if not isinstance(r["arguments"], dict) or not isinstance(r["alternatives"], list):
        errs.append(f"{r['id']}: types")
    if r["route"] == "tool":
        if r["tool"] not in valid:
            errs.append(f"{r['id']}: unknown tool {r['tool']}")
        for a in r["alternatives"]:
            if a not in valid:
                errs.append(f"{r['id']}: unknown alternative {a}")
            if a == r["tool"]:
                errs.append(f"{r['id']}: alternative equals tool")
    else:
        if r["tool"] is not None or r["alternatives"]:
            errs.append(f"{r['id']}: non-tool route with tool/alternatives")
qs = Counter(r["query"] for r in rows)
errs += [f"duplicate query text ({c}x)" for q, c in qs.items() if c > 1]

draw = subprocess.run(
    [sys.executable, str(HERE / "draw.py"), str(TOOLS_DIR)],
    capture_output=True,
    text=True,
    check=True,
)
drawn = Counter(json.loads(line)["tool"] for line in draw.stdout.splitlines())
labelled = Counter(r["tool"] for r in rows if r["route"] == "tool")
if drawn != labelled:
    errs.append(
        f"tool labels differ from draw: missing {drawn - labelled}, extra {labelled - drawn}"
    )

print("rows", len(rows), "routes", dict(Counter(r["route"] for r in rows)))
print("per server", dict(Counter(r["tool"].split("/")[0] for r in rows if r["tool"])))
print("with alternatives", sum(1 for r in rows if r["alternatives"]))
if errs:
    print("ERRORS:")
    print("\n".join(errs))
    sys.exit(1)
print("OK")
