"""Run ``stack/__main__.py`` itself under the mock runtime, with Pulumi config set."""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.render import Rendering, install_mocks, record

REPO = Path(__file__).resolve().parents[2]
PROGRAM = REPO / "stack" / "__main__.py"

Run = Callable[..., tuple[Rendering, dict[str, Any]]]


@pytest.fixture(scope="session", autouse=True)
def mocks() -> None:
    install_mocks()


@pytest.fixture
def run_stack() -> Iterator[Run]:
    """``run_stack(catalogDir=..., secrets={...})`` → (rendering, the program's globals)."""

    def run(**config: Any) -> tuple[Rendering, dict[str, Any]]:
        values = {
            f"mcpfleet:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()
        }
        secret = [k for k in values if k == "mcpfleet:secrets"]
        pulumi.runtime.set_all_config(values, secret)
        namespace: dict[str, Any] = {}

        def program() -> None:
            namespace.update(runpy.run_path(str(PROGRAM), run_name="__main__"))

        return Rendering(record(program)), namespace

    yield run
    pulumi.runtime.set_all_config({}, [])
