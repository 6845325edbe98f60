"""The seed plan's troubleshooting SQL, in this schema's names (docs/seed.md says which
names changed and why), run against the real migrated PostgreSQL + pgvector."""

from __future__ import annotations

from pathlib import Path

import psycopg
from pgvector.psycopg import register_vector

from tests.runtime.gateway.conftest import SHIPPED_CATALOG

SEED_DOC = SHIPPED_CATALOG.parent / "docs" / "seed.md"
VECTOR_INDEX = "query_history_embedding"
"""The plan's ``query_history_query_embedding_idx``; here HNSW, on column ``embedding``."""


def _seed(url: str, dim: int) -> None:
    with psycopg.connect(url) as conn:
        for i in range(40):
            vector = "[" + ",".join(str((i * 7 + j) % 11 / 10) for j in range(dim)) + "]"
            conn.execute(
                "INSERT INTO query_history (query, embedding, route) "
                "VALUES (%s, %s::vector, 'tool')",
                (f"question {i}", vector),
            )
        conn.execute(
            "INSERT INTO mcp_servers (name, kind, transport, source, health) VALUES "
            "('kubernetes-prod', 'cluster-api', 'streamable-http', 'catalog', 'healthy')"
        )


def test_the_seeds_troubleshooting_queries_run_on_this_schema(
    pg_url: str, embedding_dim: int
) -> None:
    _seed(pg_url, embedding_dim)
    probe = "[" + ",".join("0.5" for _ in range(embedding_dim)) + "]"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        register_vector(conn)
        # "Check registration in DB" (the plan's name kubernetes-prod-mcp is the catalog's
        # kubernetes-prod)
        (row,) = conn.execute("SELECT * FROM mcp_servers WHERE name='kubernetes-prod';")
        assert row[0] == "kubernetes-prod"
        # "Check index usage": cosine distance, the operator the HNSW index is built for
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN ANALYZE SELECT * FROM query_history "
                f"ORDER BY embedding <=> '{probe}' LIMIT 10;"
            )
        )
        assert f"Index Scan using {VECTOR_INDEX}" in plan, plan
        conn.execute("RESET enable_seqscan")
        # "Rebuild index if needed", "Check table bloat", "Vacuum"
        conn.execute(f"REINDEX INDEX {VECTOR_INDEX};")
        (size,) = conn.execute(
            "SELECT schemaname, tablename, "
            "pg_size_pretty(pg_total_relation_size(schemaname||'.'||tablename)) "
            "FROM pg_tables WHERE tablename='query_history';"
        )
        assert size[1] == "query_history" and size[2].endswith(("kB", "MB"))
        conn.execute("VACUUM ANALYZE query_history;")


def test_docs_give_the_same_statements() -> None:
    text = Path(SEED_DOC).read_text(encoding="utf-8")
    for statement in (
        "SELECT * FROM mcp_servers WHERE name='kubernetes-prod';",
        "EXPLAIN ANALYZE SELECT * FROM query_history ORDER BY embedding <=> '[...]' LIMIT 10;",
        f"REINDEX INDEX {VECTOR_INDEX};",
        "VACUUM ANALYZE query_history;",
    ):
        assert statement in text, statement
