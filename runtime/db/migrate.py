"""Apply the numbered SQL migrations at start-up, once, whoever starts first.

Every process that opens the database calls :func:`migrate`; a session advisory lock
makes concurrent start-ups (two gateway replicas, the gateway and triage) take turns, and
``schema_migrations`` makes a second run a no-op. Each file runs in its own transaction
together with its bookkeeping row, so a failed file leaves nothing half-applied.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import AsyncConnection
from psycopg import errors as pg_errors
from psycopg.rows import TupleRow

from runtime.db.errors import EmbeddingDimensionError, MigrationError

__all__ = ["MIGRATIONS_LOCK_KEY", "Migration", "discover_migrations", "migrate"]

# pg_advisory_lock key: the first 8 bytes of sha256("mcpfleet.migrations"), signed.
MIGRATIONS_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"mcpfleet.migrations").digest()[:8], "big", signed=True
)
_FILE_NAME = re.compile(r"^(?P<version>[0-9]{3})_(?P<name>[a-z0-9_]+)\.sql$")
_LOCK_TIMEOUT = "120s"

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS schema_params (
    name  text PRIMARY KEY,
    value text NOT NULL
);
"""


@dataclass(frozen=True)
class Migration:
    """One SQL file; ``checksum`` covers its text before parameters are filled in."""

    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def render(self, params: dict[str, str]) -> str:
        """The SQL with ``{param}`` placeholders replaced; other braces are left alone."""
        sql = self.text
        for key, value in params.items():
            sql = sql.replace("{" + key + "}", value)
        return sql


def discover_migrations(directory: Path | None = None) -> list[Migration]:
    """The migrations in ``directory`` (default: the packaged ones), in version order.

    Raises:
        MigrationError: a file is misnamed or two files share a version.
    """
    root = resources.files("runtime.db.migrations") if directory is None else directory
    found: dict[int, Migration] = {}
    for entry in root.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name!r} must be named NNN_lower_snake.sql")
        version = int(match["version"])
        if version in found:
            raise MigrationError(
                f"two migrations have version {version:03d}: "
                f"{found[version].name!r} and {match['name']!r}"
            )
        found[version] = Migration(version, match["name"], entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


async def migrate(
    conninfo: str,
    *,
    embedding_dim: int,
    migrations: list[Migration] | None = None,
) -> list[int]:
    """Bring the database up to date; return the versions this call applied.

    Raises:
        EmbeddingDimensionError: the database was created for another embedding dimension.
        MigrationError: an applied file was edited since, or a file failed to apply.
    """
    if embedding_dim < 1:
        raise EmbeddingDimensionError(f"embedding dimension must be positive, got {embedding_dim}")
    wanted = discover_migrations() if migrations is None else migrations
    params = {"embedding_dim": str(embedding_dim)}
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await conn.execute(f"SET lock_timeout = '{_LOCK_TIMEOUT}'")
        try:
            await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_LOCK_KEY,))
        except pg_errors.LockNotAvailable as exc:
            raise MigrationError(
                f"another process held the migrations lock for over {_LOCK_TIMEOUT}; "
                "is a migration stuck? (see pg_stat_activity)"
            ) from exc
        try:
            await conn.execute(_BOOTSTRAP)
            await _check_params(conn, params)
            applied = await _applied(conn)
            _check_unchanged(wanted, applied)
            done: list[int] = []
            for migration in wanted:
                if migration.version in applied:
                    continue
                await _apply(conn, migration, params)
                done.append(migration.version)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATIONS_LOCK_KEY,))


async def _check_params(conn: AsyncConnection[TupleRow], params: dict[str, str]) -> None:
    """Record the parameters on first run; refuse to run against a database made with others."""
    for name, value in params.items():
        await conn.execute(
            "INSERT INTO schema_params (name, value) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (name, value),
        )
        row = await (
            await conn.execute("SELECT value FROM schema_params WHERE name = %s", (name,))
        ).fetchone()
        stored = str(row[0]) if row else value
        if stored != value:
            raise EmbeddingDimensionError(
                f"this database stores {name}={stored} but the catalog now says {value}; "
                "embeddings of different dimensions cannot be compared. Point DATABASE_URL "
                "(or --data-dir) at a new database, or change the embedding model back."
            )


async def _applied(conn: AsyncConnection[TupleRow]) -> dict[int, str]:
    cursor = await conn.execute("SELECT version, checksum FROM schema_migrations")
    return {int(version): str(checksum) for version, checksum in await cursor.fetchall()}


def _check_unchanged(wanted: list[Migration], applied: dict[int, str]) -> None:
    for migration in wanted:
        checksum = applied.get(migration.version)
        if checksum is not None and checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:03d}_{migration.name}.sql was edited after it "
                "was applied; restore it and put the change in a new numbered file"
            )


async def _apply(
    conn: AsyncConnection[TupleRow], migration: Migration, params: dict[str, str]
) -> None:
    label = f"{migration.version:03d}_{migration.name}.sql"
    try:
        async with conn.transaction():
            await conn.execute(migration.render(params).encode())
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.Error as exc:
        raise MigrationError(f"migration {label} failed: {exc}") from exc
