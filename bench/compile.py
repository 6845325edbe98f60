"""How compile cost grows with the fleet: synthetic catalogs of 10, 100 and 500 servers.

Each catalog is the shipped one with its ten servers repeated under new names (so every
kind, secret reference and egress rule is exercised), compiled by the stack's own
components under Pulumi's mock runtime, then schema- and pod-security-checked.

    .venv/bin/python bench/compile.py            # 10, 100, 500
    .venv/bin/python bench/compile.py 1000       # any sizes
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from catalog import Catalog, load_catalog
from components.checks import SchemaValidator, check_objects
from components.render import render_catalog

REPO = Path(__file__).resolve().parents[1]


def synthetic(base: Catalog, size: int) -> Catalog:
    """``size`` servers cloned round-robin from the shipped ones, each with a new name."""
    templates = base.servers
    servers = tuple(
        templates[i % len(templates)].model_copy(
            update={"name": f"{templates[i % len(templates)].name}-{i:04d}"}
        )
        for i in range(size)
    )
    return base.model_copy(update={"servers": servers})


def main(sizes: list[int]) -> None:
    base = load_catalog(REPO / "catalog")
    started = time.perf_counter()
    render_catalog(base)
    validator = SchemaValidator(base.platform.cluster.kubernetes_version)
    cold = time.perf_counter() - started
    print(f"cold start (imports, mock runtime, first render of the shipped catalog): {cold:.2f} s")
    print(
        f"{'servers':>8} {'resources':>10} {'objects':>8} {'compile s':>10} {'check s':>8} "
        f"{'ms/object':>10}"
    )
    for size in sizes:
        catalog = synthetic(base, size)
        started = time.perf_counter()
        rendering = render_catalog(catalog)
        compiled = time.perf_counter() - started
        started = time.perf_counter()
        findings = check_objects([o.manifest for o in rendering.kubernetes_objects], validator)
        checked = time.perf_counter() - started
        objects = len(rendering.objects)
        print(
            f"{size:>8} {len(rendering.records):>10} {objects:>8} {compiled:>10.2f} "
            f"{checked:>8.2f} {1000 * compiled / objects:>10.2f}"
        )
        if findings:
            raise SystemExit(f"{len(findings)} findings, e.g. {findings[0]}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 100, 500])
