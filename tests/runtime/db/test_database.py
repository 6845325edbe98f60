"""The pooled Database and open_database(): external URL or embedded server, same result."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pgvector import Vector

from runtime.db import Database, EmbeddedPostgres, EmbeddingDimensionError, open_database, safe_url
from runtime.settings import Settings

from ...conftest import SHIPPED_CATALOG


async def test_pool_connections_read_and_write_vectors_without_extra_setup(db: Database) -> None:
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO app_contexts (app, title, body, embedding) VALUES ('a', 't', 'b', %s)",
            (db.vector(np.arange(db.embedding_dim, dtype=np.float32)),),
        )
        cur = await conn.execute("SELECT embedding FROM app_contexts")
        row = await cur.fetchone()
    assert row is not None and isinstance(row[0], Vector)
    assert row[0].to_list()[:3] == [0.0, 1.0, 2.0]


def test_vectors_of_the_wrong_size_or_kind_are_refused(db: Database) -> None:
    assert db.vector([0.5] * db.embedding_dim).dimensions() == db.embedding_dim
    with pytest.raises(EmbeddingDimensionError, match="has 2 dimensions"):
        db.vector([1.0, 2.0])
    with pytest.raises(EmbeddingDimensionError, match="not an embedding"):
        db.vector(np.zeros((2, 2)))


def test_urls_in_logs_never_show_the_password() -> None:
    assert safe_url("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert safe_url("postgresql://app@/x?host=/tmp") == "postgresql://app@/x?host=/tmp"


async def test_open_database_uses_database_url_when_set(runtime_settings: Settings) -> None:
    async with open_database(runtime_settings) as db:
        assert db.embedding_dim == 384
        async with db.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM schema_migrations")
            row = await cur.fetchone()
        assert row is not None and row[0] >= 5
    assert not (runtime_settings.data_dir / "postgres").exists()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="mcpfleet-test-open-"))
    yield path
    EmbeddedPostgres(path).stop(force=True)
    shutil.rmtree(path, ignore_errors=True)


async def test_without_database_url_the_embedded_server_is_started_migrated_and_stopped(
    data_dir: Path,
) -> None:
    settings = Settings(data_dir=data_dir, catalog=SHIPPED_CATALOG, database_url=None)
    async with open_database(settings) as db:
        async with db.connection() as conn:
            cur = await conn.execute("SELECT current_database()")
            assert await cur.fetchone() == ("mcpfleet",)
        assert EmbeddedPostgres(data_dir).status() is not None
    assert EmbeddedPostgres(data_dir).status() is None  # it started it, so it stopped it


async def test_an_embedded_server_someone_else_runs_is_left_running(data_dir: Path) -> None:
    fleet = EmbeddedPostgres(data_dir)  # e.g. `mcpfleet up`
    fleet.start()
    try:
        settings = Settings(data_dir=data_dir, catalog=SHIPPED_CATALOG, database_url=None)
        async with open_database(settings) as db:
            assert db.embedding_dim == 384
        assert fleet.status() is not None
    finally:
        fleet.stop()
