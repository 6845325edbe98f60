"""Checking one proposed server file against the running catalog's cross-file rules."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from runtime.proposals.validation import CatalogCheck

CLASH = """server:
  name: clash
  kind: http
  description: Listens where the gateway does.
  image: x:1
  port: {port}
  local: {{command: clash-server}}
"""


def copy(catalog_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(catalog_dir, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_a_clean_file_has_no_problems(catalog_dir: Path) -> None:
    assert CatalogCheck(catalog_dir).problems("clash", CLASH.format(port=9999)) == []


def test_a_cross_file_problem_names_the_proposed_file_and_line(catalog_dir: Path) -> None:
    (problem,) = CatalogCheck(catalog_dir).problems("clash", CLASH.format(port=8080))
    assert str(problem.file) == "servers/clash.yaml"
    assert problem.line == 6
    assert problem.rule == "cross.port-collision"


def test_a_schema_problem_is_reported_before_cross_checks(catalog_dir: Path) -> None:
    (problem,) = CatalogCheck(catalog_dir).problems("clash", CLASH.format(port="eighty"))
    assert problem.field == "server.port"


def test_a_change_to_the_catalog_is_seen_by_the_next_check(
    catalog_dir: Path, tmp_path: Path
) -> None:
    catalog = copy(catalog_dir, tmp_path)
    check = CatalogCheck(catalog)
    assert check.problems("clash", CLASH.format(port=9100)) == []
    platform = catalog / "platform.yaml"
    before = platform.stat().st_mtime_ns
    platform.write_text(platform.read_text().replace("metricsPort: 8081", "metricsPort: 9100"))
    os.utime(platform, ns=(before + 1_000_000_000, before + 1_000_000_000))  # coarse clocks
    (problem,) = check.problems("clash", CLASH.format(port=9100))
    assert problem.message == "port 9100 is already used by gateway.metricsPort"


def test_replacing_an_existing_server_does_not_count_it_twice(catalog_dir: Path) -> None:
    text = (catalog_dir / "servers" / "caddy.yaml").read_text()
    assert CatalogCheck(catalog_dir).problems("caddy", text) == []
