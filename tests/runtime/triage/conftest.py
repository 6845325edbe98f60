"""Fixtures for the triage tests: the real local embedding model, loaded once per session.

``minilm``: the all-MiniLM-L6-v2 ONNX embedder (≈0.5 s to load, then milliseconds per text).
``eval_dir``: the repository's ``eval/`` (vendored tool lists and labelled query sets).
``tiny_tools``: two hand-written servers (router, dnsfilter) in the mcp-tools format;
``register_tiny_fleet`` puts them in the registry, as the gateway would.
``eval_triage``: triage over the eval fleet (11 servers, 680 tools), index built and model
trained from the tool schemas alone, once per session (about a minute on one core).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.db import Database
from runtime.store import ServerRegistry
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.engine import Triage
from runtime.triage.eval_run import load_fleet, triage_for
from runtime.triage.toolset import load_tool_dir

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder().load()


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    return REPO / "eval"


@pytest.fixture(scope="session")
async def eval_triage(minilm: MiniLMEmbedder, eval_dir: Path) -> Triage:
    return await triage_for(load_fleet(eval_dir / "mcp-tools", only_eval_fleet=True), minilm)


@pytest.fixture(scope="session")
def tiny_tools() -> Path:
    return DATA / "tiny-tools"


async def register_tiny_fleet(db: Database, tiny_tools: Path) -> None:
    """Register the tiny servers and their tools, as the gateway does after ``tools/list``."""
    registry = ServerRegistry(db)
    for server in load_tool_dir(tiny_tools):
        await registry.upsert(
            server.name,
            kind="http",
            transport="streamable-http",
            endpoints=[f"http://{server.name}/mcp"],
            source="catalog",
            in_catalog=True,
        )
        await registry.set_tools(server.name, server.tools)
