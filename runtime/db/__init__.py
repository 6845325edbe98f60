"""PostgreSQL + pgvector for the runtime: embedded server, migrations, the pooled database.

Start with :func:`open_database` (uses ``DATABASE_URL`` or the embedded server); stores in
:mod:`runtime.store` take the :class:`Database` it yields.
"""

from runtime.db.database import Database, Embedding, safe_url
from runtime.db.embedded import EmbeddedPostgres, ServerAddress
from runtime.db.errors import (
    DatabaseError,
    DatabaseUnavailable,
    EmbeddedServerError,
    EmbeddingDimensionError,
    MigrationError,
)
from runtime.db.lifecycle import open_database
from runtime.db.metrics import register_vector_series, vector_query_seconds
from runtime.db.migrate import Migration, discover_migrations, migrate

__all__ = [
    "Database",
    "DatabaseError",
    "DatabaseUnavailable",
    "EmbeddedPostgres",
    "EmbeddedServerError",
    "Embedding",
    "EmbeddingDimensionError",
    "Migration",
    "MigrationError",
    "ServerAddress",
    "discover_migrations",
    "migrate",
    "open_database",
    "register_vector_series",
    "safe_url",
    "vector_query_seconds",
]
