"""The shared fixtures give each test its own real, migrated PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from runtime.db import Database


async def test_db_fixture_is_a_migrated_database_with_pgvector(db: Database) -> None:
    async with db.connection() as conn:
        cur = await conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = await cur.fetchone()
        tables = await conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'mcp_servers'"
        )
        count = await tables.fetchone()
    assert row is not None and row[0] == "0.8.6"
    assert count == (1,)


async def test_each_test_database_starts_empty_and_is_private(db: Database) -> None:
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO mcp_servers (name, kind, transport, source) "
            "VALUES ('private', 'http', 'streamable-http', 'catalog')"
        )
        cur = await conn.execute("SELECT count(*) FROM mcp_servers")
        assert await cur.fetchone() == (1,)


async def test_a_second_test_does_not_see_the_first_tests_rows(db: Database) -> None:
    async with db.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM mcp_servers")
        assert await cur.fetchone() == (0,)


def test_new_database_can_be_empty_for_migration_tests(
    new_database: Callable[..., str],
) -> None:
    url = new_database(migrated=False)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
    assert row == (None,)
