"""The nightly backup restores: the CronJob's own script dumps the embedded database with
the wheel's ``pg_dump``, the restore docs/operations.md gives brings the rows back.

Everything is real: PostgreSQL 18 + pgvector (the embedded wheel), its ``pg_dump`` and
``pg_restore``, the shell script the CronJob runs (taken from the rendered spec, with the
NFS mount pointed at a temporary directory), and the runtime's own migrations and stores.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import psycopg
from pgvector.psycopg import register_vector

from catalog import load_catalog
from components.backup import backup_cronjob
from runtime.db import Database, EmbeddedPostgres
from runtime.db.binaries import postgres_bin_dir
from tests.runtime.gateway.conftest import SHIPPED_CATALOG

MOUNT = "/backup"
RESTORE = [
    "pg_restore",
    "--clean",
    "--if-exists",
    "--no-owner",
    "--single-transaction",
    "--exit-on-error",
    "--dbname",
]
"""The restore command docs/operations.md gives (its file argument comes last)."""
OPERATIONS = SHIPPED_CATALOG.parent / "docs" / "operations.md"


def _cronjob_script() -> list[str]:
    platform = load_catalog(SHIPPED_CATALOG).platform
    spec = backup_cronjob(platform, "db-secret")
    (container,) = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return list(container["command"])


def _env(server: EmbeddedPostgres, database: str) -> dict[str, str]:
    address = server.address
    return {
        **os.environ,
        "PATH": f"{postgres_bin_dir()}{os.pathsep}{os.environ['PATH']}",
        "PGHOST": str(address.socket_dir),
        "PGPORT": str(address.port),
        "PGUSER": "postgres",
        "PGDATABASE": database,
    }


def _rows(url: str) -> tuple[list[str], list[str], list[str], str | None]:
    with psycopg.connect(url) as conn:
        register_vector(conn)
        queries = [r[0] for r in conn.execute("SELECT query FROM query_history ORDER BY id")]
        servers = [r[0] for r in conn.execute("SELECT name FROM mcp_servers ORDER BY name")]
        audit = [r[0] for r in conn.execute("SELECT tool FROM audit_log ORDER BY at")]
        nearest = conn.execute(
            "SELECT query FROM query_history ORDER BY embedding <=> %s LIMIT 1",
            (conn.execute("SELECT embedding FROM query_history WHERE id = 2").fetchone()[0],),
        ).fetchone()
    return queries, servers, audit, nearest[0] if nearest else None


def _write_rows(url: str, dim: int) -> None:
    with psycopg.connect(url) as conn:
        for i, text in enumerate(("pods in monitoring", "free disk on ruapehu", "dhcp leases")):
            vector = "[" + ",".join("1" if j == i else "0" for j in range(dim)) + "]"
            conn.execute(
                "INSERT INTO query_history (query, embedding, route) VALUES (%s, %s::vector, %s)",
                (text, vector, "tool"),
            )
        conn.execute(
            "INSERT INTO mcp_servers (name, kind, transport, source) VALUES "
            "('kubernetes-prod', 'cluster-api', 'streamable-http', 'catalog'), "
            "('grafana', 'http', 'streamable-http', 'discovery')"
        )
        conn.execute(
            "INSERT INTO audit_log (id, at, client, server, tool, status, latency_ms) VALUES "
            "(gen_random_uuid(), now(), 'laptop', 'kubernetes-prod', 'pods_list', 'ok', 7.5)"
        )


async def _count_through_the_runtime(url: str, embedding_dim: int) -> int:
    """Open the database as the runtime does (migrations run: nothing left to apply)."""
    async with await Database.open(url, embedding_dim=embedding_dim) as db, db.connection() as conn:
        row = await (await conn.execute("SELECT count(*) FROM query_history")).fetchone()
    return int(row[0]) if row else -1


def test_the_cronjobs_backup_restores_every_row_after_a_disaster(
    pg_server: EmbeddedPostgres, pg_url: str, embedding_dim: int, tmp_path: Path
) -> None:
    database = psycopg.conninfo.conninfo_to_dict(pg_url)["dbname"]
    _write_rows(pg_url, embedding_dim)
    before = _rows(pg_url)
    assert before[0] == ["pods in monitoring", "free disk on ruapehu", "dhcp leases"]
    assert before[3] == "free disk on ruapehu"

    # what the CronJob runs, with the NFS export at a temporary directory
    script = [part.replace(MOUNT, str(tmp_path)) for part in _cronjob_script()]
    backup = subprocess.run(
        script, env=_env(pg_server, database), capture_output=True, text=True, timeout=120
    )
    assert backup.returncode == 0, backup.stderr
    (dump,) = tmp_path.glob(f"{database}-*.dump")
    assert f"backup written: {dump}" in backup.stdout
    assert not list(tmp_path.glob("*.partial"))

    # the disaster: rows deleted, a table dropped
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM query_history")
        conn.execute("DROP TABLE audit_log")

    restore = subprocess.run(
        [*RESTORE, database, str(dump)],
        env=_env(pg_server, database),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restore.returncode == 0, restore.stderr
    assert _rows(pg_url) == before  # every row, and the HNSW search over them, back

    # the runtime opens the restored database as it is: migrations already recorded
    assert asyncio.run(_count_through_the_runtime(pg_url, embedding_dim)) == 3


def test_the_documented_restore_is_the_command_this_test_runs() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    assert " ".join(RESTORE) in text
    assert "kubectl -n mcp-system create job --from=cronjob/postgres-vector-db-backup" in text
