"""The data layer's errors: what a caller can catch, each message saying what to do next."""

from __future__ import annotations

import psycopg

__all__ = [
    "DatabaseError",
    "DatabaseUnavailable",
    "EmbeddedServerError",
    "EmbeddingDimensionError",
    "MigrationError",
]


class DatabaseError(Exception):
    """Base of every error the data layer raises on purpose."""


class EmbeddedServerError(DatabaseError):
    """The embedded PostgreSQL could not be initialised, started or stopped."""


class MigrationError(DatabaseError):
    """A schema migration is malformed, was edited after it ran, or failed to apply."""


class EmbeddingDimensionError(DatabaseError, ValueError):
    """A vector's length differs from the dimension the database was created with."""


class DatabaseUnavailable(DatabaseError, psycopg.OperationalError):
    """The database cannot be reached now (no connection in time, or it dropped ours).

    Retryable: a service answers 503 and tries again later. It is also a
    ``psycopg.OperationalError``, so code that catches psycopg's errors still catches it.
    """
