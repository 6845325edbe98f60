"""``open_database(settings)``: the one way a runtime process or CLI command gets its data.

With ``DATABASE_URL`` it uses that server; without, it starts (or attaches to) the embedded
PostgreSQL in the data directory — the same one ``mcpfleet up`` uses — and stops it on exit
only if it was the one that started it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from runtime.db.database import Database
from runtime.db.embedded import EmbeddedPostgres
from runtime.settings import Settings

__all__ = ["open_database"]


@contextlib.asynccontextmanager
async def open_database(
    settings: Settings, *, run_migrations: bool = True, min_size: int = 1
) -> AsyncIterator[Database]:
    """Yield an open, migrated :class:`Database`; close it (and an owned server) after.

    Raises:
        EmbeddedServerError: the embedded server could not start.
        MigrationError, EmbeddingDimensionError: the schema could not be brought up to date.
        catalog.CatalogError: the catalog (needed for the embedding dimension) is invalid.
    """
    dimension = settings.resolved_embedding_dim()
    server: EmbeddedPostgres | None = None
    if settings.database_url is not None:
        url = settings.database_url.get_secret_value()
    else:
        server = EmbeddedPostgres(settings.data_dir)
        await server.astart()
        url = server.url()
    try:
        db = await Database.open(
            url,
            embedding_dim=dimension,
            run_migrations=run_migrations,
            min_size=min(min_size, settings.db_pool_size),
            max_size=settings.db_pool_size,
        )
        try:
            yield db
        finally:
            await db.close()
    finally:
        if server is not None:
            await server.astop()
