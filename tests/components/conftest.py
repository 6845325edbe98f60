"""One session-wide mock runtime for every compiler test, and the shipped catalog.

``pulumi.runtime.set_mocks`` is process-global, so it is installed once (by
:func:`components.render.install_mocks`); each test then runs a program through
:func:`components.render.record`, which records every resource's inputs and parent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog import Catalog, RemoteServer, load_catalog
from catalog.model import Platform
from components.checks import SchemaValidator
from components.render import Rendering, install_mocks, record, render_catalog
from components.secret_refs import SecretIndex

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "catalog"


@pytest.fixture(scope="session", autouse=True)
def mocks() -> Iterator[None]:
    """Pulumi's mock runtime with the recording monitor, for the whole session."""
    install_mocks()
    yield


@pytest.fixture(scope="session")
def shipped() -> Catalog:
    return load_catalog(SHIPPED)


@pytest.fixture(scope="session")
def fleet(shipped: Catalog) -> Rendering:
    """The full stack on the shipped catalog, rendered once."""
    return render_catalog(shipped)


@pytest.fixture(scope="session")
def validator(shipped: Catalog) -> SchemaValidator:
    return SchemaValidator(shipped.platform.cluster.kubernetes_version)


@pytest.fixture(scope="session")
def index(shipped: Catalog) -> SecretIndex:
    return SecretIndex(shipped.platform)


def render(program: Callable[[], object]) -> Rendering:
    """Run one component (or several) under the mocks and return what it created."""
    return Rendering(record(program))


def with_platform(catalog: Catalog, **changes: Any) -> Catalog:
    """The catalog with platform sections replaced, e.g. ``database={"engine": ...}``."""
    platform: Platform = catalog.platform
    update = {
        key: getattr(platform, key).model_copy(update=value) if isinstance(value, dict) else value
        for key, value in changes.items()
    }
    return catalog.model_copy(update={"platform": platform.model_copy(update=update)})


REMOTE = RemoteServer(
    name="docs-search",
    kind="remote",
    description="A hosted documentation search server.",
    urls=["https://mcp.docs.example.com/mcp", "https://203.0.113.7:8443/mcp"],
)


def with_servers(catalog: Catalog, *servers: Any) -> Catalog:
    return catalog.model_copy(update={"servers": (*catalog.servers, *servers)})
