"""A real git repository holding the shipped catalog, as an operator's clone would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CATALOG = Path(__file__).resolve().parents[3] / "catalog"


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def make_repo(tmp_path: Path) -> Path:
    """A clone-like repository on ``main`` with ``catalog/`` committed."""
    root = tmp_path / "fleet"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Operator")
    git(root, "config", "user.email", "op@example.invalid")
    shutil.copytree(CATALOG, root / "catalog", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    git(root, "add", "catalog")
    git(root, "commit", "-q", "-m", "catalog")
    return root


@pytest.fixture
def catalog_dir() -> Path:
    return CATALOG
