"""Fixtures for the triage tests: the real local embedding model, loaded once per session.

``minilm``: the all-MiniLM-L6-v2 ONNX embedder (≈0.5 s to load, then milliseconds per text).
``shared_dir``: ``../shared`` beside the repository (the eval data and real tool lists).
``tiny_tools``: two hand-written servers (router, dnsfilter) in the mcp-tools format.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.triage.embedding import MiniLMEmbedder

REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    return MiniLMEmbedder().load()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    shared = REPO.parent / "shared"
    assert (shared / "mcp-tools").is_dir(), f"{shared}/mcp-tools is missing (copy of shared/)"
    return shared


@pytest.fixture(scope="session")
def tiny_tools() -> Path:
    return DATA / "tiny-tools"
