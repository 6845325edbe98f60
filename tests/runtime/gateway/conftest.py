"""Fixtures for the gateway tests: real upstream peers, a migrated database per module.

``peer_factory`` starts peers that are stopped after the test; the module-scoped
``everything_http`` and ``slow_pair`` are shared by a module's tests (they hold no
state the tests depend on). ``module_db_url`` (tests/conftest.py) is a fresh migrated
database for a whole module, so a module can share one running gateway;
``module_settings`` points the runtime at it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from runtime.db import Database
from runtime.settings import Settings
from tests.runtime.gateway.peers import Peer, everything_peer, python_peer

SHIPPED_CATALOG = Path(__file__).resolve().parents[3] / "catalog"


@pytest.fixture(scope="module")
def peer_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("peers")


@pytest.fixture
def peer_factory(peer_logs: Path) -> Iterator[Callable[..., Peer]]:
    started: list[Peer] = []

    def make(kind: str, transport: str = "streamable-http") -> Peer:
        peer = (
            everything_peer(transport, peer_logs)  # type: ignore[arg-type]
            if kind == "everything"
            else python_peer(kind, transport, peer_logs)  # type: ignore[arg-type]
        )
        started.append(peer.start())
        return peer

    yield make
    for peer in started:
        peer.stop()


@pytest.fixture(scope="module")
def everything_http(peer_logs: Path) -> Iterator[Peer]:
    peer = everything_peer("streamable-http", peer_logs).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def slow_pair(peer_logs: Path) -> Iterator[tuple[Peer, Peer]]:
    first = python_peer("slow", "streamable-http", peer_logs).start()
    second = python_peer("slow", "streamable-http", peer_logs).start()
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture(scope="module")
async def module_db(module_db_url: str, embedding_dim: int) -> AsyncIterator[Database]:
    database = await Database.open(
        module_db_url, embedding_dim=embedding_dim, run_migrations=False, max_size=3
    )
    yield database
    await database.close()


@pytest.fixture(scope="module")
def module_settings(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=module_db_url,
        data_dir=tmp_path_factory.mktemp("gateway-data"),
        catalog=SHIPPED_CATALOG,
    )
