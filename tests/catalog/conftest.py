"""Fixtures for catalog tests: the shipped catalog, and broken overlays of it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "catalog"
BROKEN = Path(__file__).parent / "broken"


def copy_catalog(dest: Path) -> Path:
    """A writable copy of the shipped catalog's YAML (code and schemas left behind)."""
    target = dest / "catalog"
    shutil.copytree(
        SHIPPED, target, ignore=shutil.ignore_patterns("*.py", "schemas", "__pycache__", "py.typed")
    )
    return target


def apply_overlay(catalog_dir: Path, overlay: Path) -> None:
    """Lay a broken fixture over a catalog copy; ``X.deleted`` removes file ``X``."""
    for file in overlay.rglob("*"):
        if not file.is_file() or file.name == "expected.yaml":
            continue
        rel = file.relative_to(overlay)
        if file.name.endswith(".deleted"):
            (catalog_dir / str(rel).removesuffix(".deleted")).unlink()
        else:
            (catalog_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, catalog_dir / rel)


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    return copy_catalog(tmp_path)


@pytest.fixture
def broken_catalog(tmp_path: Path) -> Callable[[str], Path]:
    def make(case: str) -> Path:
        target = copy_catalog(tmp_path)
        apply_overlay(target, BROKEN / case)
        return target

    return make
