"""Migrations: applied once, in order, under a lock that makes concurrent start-ups safe."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import psycopg
import pytest

from runtime.db import (
    EmbeddingDimensionError,
    Migration,
    MigrationError,
    discover_migrations,
    migrate,
)

REPO = Path(__file__).resolve().parents[3]
# Slow on purpose, so concurrent runs overlap: without the lock they would collide.
SLOW = Migration(99, "slow", "SELECT pg_sleep(0.3); CREATE TABLE slow_marker (id int);")


def _versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [row[0] for row in rows]


async def test_the_packaged_migrations_apply_in_order_and_a_second_run_is_a_no_op(
    new_database: Callable[..., str],
) -> None:
    url = new_database(migrated=False)
    packaged = [m.version for m in discover_migrations()]
    assert packaged[:5] == [1, 2, 3, 4, 5]
    assert await migrate(url, embedding_dim=384) == packaged
    assert await migrate(url, embedding_dim=384) == []
    assert _versions(url) == packaged


async def test_concurrent_start_ups_apply_each_migration_exactly_once(
    new_database: Callable[..., str],
) -> None:
    url = new_database(migrated=False)
    wanted = [*discover_migrations(), SLOW]
    runs = await asyncio.gather(
        *(migrate(url, embedding_dim=384, migrations=wanted) for _ in range(4))
    )
    applied = sorted(v for run in runs for v in run)
    assert applied == sorted(m.version for m in wanted)
    assert _versions(url) == sorted(m.version for m in wanted)


async def test_two_processes_starting_together_both_succeed(
    new_database: Callable[..., str], tmp_path: Path
) -> None:
    url = new_database(migrated=False)
    migrations = tmp_path / "migrations"
    shutil.copytree(Path(str(resources.files("runtime.db.migrations"))), migrations)
    (migrations / "099_slow.sql").write_text(SLOW.text)
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from runtime.db import discover_migrations, migrate\n"
        "applied = asyncio.run(migrate(sys.argv[1], embedding_dim=384,\n"
        "                      migrations=discover_migrations(Path(sys.argv[2]))))\n"
        "print(','.join(map(str, applied)))\n"
    )
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            url,
            str(migrations),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO,
        )
        for _ in range(2)
    ]
    outputs = [await process.communicate() for process in processes]
    assert [p.returncode for p in processes] == [0, 0], [err.decode() for _, err in outputs]
    applied = sorted(int(v) for out, _ in outputs for v in out.decode().split(",") if v.strip())
    assert applied == [m.version for m in discover_migrations(migrations)]


async def test_the_embedding_dimension_is_a_parameter_not_a_constant(
    new_database: Callable[..., str],
) -> None:
    url = new_database(migrated=False)
    await migrate(url, embedding_dim=8)
    with psycopg.connect(url) as conn:
        types = conn.execute(
            "SELECT c.relname::text, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE a.atttypid = 'vector'::regtype AND c.relkind = 'r' ORDER BY 1"
        ).fetchall()
    tables = dict(types)
    assert {"app_contexts", "query_history"} <= tables.keys()
    assert set(tables.values()) == {"vector(8)"}  # every part's tables follow the parameter


async def test_a_database_made_for_another_dimension_is_refused_with_a_way_out(
    new_database: Callable[..., str],
) -> None:
    url = new_database(migrated=False)
    await migrate(url, embedding_dim=384)
    with pytest.raises(EmbeddingDimensionError, match=r"stores embedding_dim=384.*now says 768"):
        await migrate(url, embedding_dim=768)


async def test_an_applied_migration_that_was_edited_stops_start_up(
    new_database: Callable[..., str],
) -> None:
    url = new_database(migrated=False)
    first = Migration(1, "first", "CREATE TABLE t (id int);")
    await migrate(url, embedding_dim=4, migrations=[first])
    edited = Migration(1, "first", "CREATE TABLE t (id bigint);")
    with pytest.raises(MigrationError, match=r"001_first\.sql was edited after it was applied"):
        await migrate(url, embedding_dim=4, migrations=[edited])


async def test_a_failing_migration_leaves_nothing_half_applied(
    new_database: Callable[..., str],
) -> None:
    url = new_database(migrated=False)
    good = Migration(1, "good", "CREATE TABLE good (id int);")
    bad = Migration(2, "bad", "CREATE TABLE half (id int); SELECT * FROM no_such_table;")
    with pytest.raises(MigrationError, match=r"002_bad\.sql failed: .*no_such_table"):
        await migrate(url, embedding_dim=4, migrations=[good, bad])
    assert _versions(url) == [1]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('half')").fetchone() == (None,)


def test_placeholders_are_filled_and_other_braces_left_alone() -> None:
    sql = "CREATE TABLE t (e vector({embedding_dim}), a text[] DEFAULT '{}')"
    migration = Migration(1, "x", sql)
    assert migration.render({"embedding_dim": "384"}) == (
        "CREATE TABLE t (e vector(384), a text[] DEFAULT '{}')"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["001_ok.sql", "1_short.sql"], "must be named NNN_lower_snake.sql"),
        (["001_ok.sql", "001_again.sql"], "two migrations have version 001"),
    ],
)
def test_misnamed_or_duplicate_files_are_refused(
    tmp_path: Path, files: list[str], message: str
) -> None:
    for name in files:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=message):
        discover_migrations(tmp_path)


def test_the_reserved_number_ranges_are_respected() -> None:
    """001-009 data layer, 010-019 triage, 020-029 router, 030-039 discovery,
    070-079 the web console (the tokens' admin scope)."""
    versions = [m.version for m in discover_migrations()]
    reserved = [range(1, 40), range(70, 80)]
    assert all(any(v in r for r in reserved) for v in versions), versions
