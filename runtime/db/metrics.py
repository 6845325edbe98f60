"""``pgvector_query_duration_seconds``: every vector search, timed where all of them run.

The stores and triage's tool index run their k-NN queries on the pool's connections; the
cursor those connections make times each statement that uses a pgvector distance
operator, so no caller has to remember to. The histogram is one per process (made on
first use, never at import); each service adds it to its own ``/metrics`` registry with
:func:`register_vector_series`.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from psycopg import AsyncCursor
from psycopg.rows import Row

__all__ = ["TimedCursor", "register_vector_series", "vector_query_seconds"]

VECTOR_QUERY_METRIC = "pgvector_query_duration_seconds"
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# pgvector's distance operators: L2 <->, inner product <#>, cosine <=>, L1 <+>,
# Hamming <~>, Jaccard <%>.
_DISTANCE = re.compile(r"<(?:->|#>|=>|\+>|~>|%>)")
_TABLE = re.compile(r"\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


@functools.cache
def vector_query_seconds() -> Histogram:
    """The process's histogram, labelled by the table searched."""
    return Histogram(
        VECTOR_QUERY_METRIC,
        "Duration of statements using a pgvector distance operator (k-NN searches).",
        ["table"],
        buckets=BUCKETS,
        registry=None,
    )


def register_vector_series(registry: CollectorRegistry) -> None:
    """Export the histogram from ``registry`` (once; a second call is a no-op)."""
    with contextlib.suppress(ValueError):  # already registered with this registry
        registry.register(vector_query_seconds())


def vector_table(query: object) -> str | None:
    """The table a vector search reads, or None when ``query`` is not one."""
    if isinstance(query, bytes):
        query = query.decode("utf-8", "replace")
    if not isinstance(query, str) or not _DISTANCE.search(query):
        return None
    found = _TABLE.search(query)
    return found.group(1).lower() if found else "unknown"


class TimedCursor(AsyncCursor[Row]):
    """An ``AsyncCursor`` that observes vector searches into the histogram."""

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> TimedCursor[Row]:
        table = vector_table(query)
        if table is None:
            await super().execute(query, params, **kwargs)
            return self
        started = time.perf_counter()
        try:
            await super().execute(query, params, **kwargs)
        finally:
            vector_query_seconds().labels(table).observe(time.perf_counter() - started)
        return self
