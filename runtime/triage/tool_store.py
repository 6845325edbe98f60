"""The pgvector tool index (``tool_index``): kept in sync with the registry, searched by HNSW.

``sync`` compares each tool's document digest with the stored one and embeds only what is
new or changed (a server re-listing the same 200 tools costs one SELECT, no inference);
tools and servers that disappeared are deleted. ``near`` answers the service's vector
side of retrieval: the nearest tools plus the similarity of any extra tools asked for
(those the keyword side found), in one round trip.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from runtime.db import Database
from runtime.triage.documents import ToolDocument
from runtime.triage.embedding import Embedder
from runtime.triage.engine import embed_tools

__all__ = ["SyncReport", "ToolVectorStore"]


@dataclass(frozen=True)
class SyncReport:
    added: int
    changed: int
    removed: int
    unchanged: int

    @property
    def embedded(self) -> int:
        return self.added + self.changed


#: Tools embedded and committed together during a sync.
SYNC_BATCH = 64


class ToolVectorStore:
    """Reads and writes ``tool_index`` for one embedding model."""

    def __init__(self, db: Database, model: str) -> None:
        self._db = db
        self.model = model

    def _digest(self, document: ToolDocument) -> str:
        return hashlib.sha256(f"{document.digest}:{self.model}".encode()).hexdigest()

    async def sync(self, documents: Sequence[ToolDocument], embedder: Embedder) -> SyncReport:
        """Make the table hold exactly ``documents``, embedding only new or changed ones.

        New and changed tools are embedded and written ``SYNC_BATCH`` at a time, each batch
        committed, so a process stopped halfway (a liveness kill during a first start with
        hundreds of tools) keeps what it embedded and the next start resumes from there.
        """
        async with self._db.connection() as conn:
            cur = await conn.execute("SELECT server, tool, digest FROM tool_index")
            stored = {(s, t): d for s, t, d in await cur.fetchall()}
        wanted = {(d.server, d.tool): d for d in documents}
        stale = [d for key, d in wanted.items() if stored.get(key) != self._digest(d)]
        gone = [key for key in stored if key not in wanted]
        if gone:
            async with self._db.connection() as conn:
                await conn.execute(
                    "DELETE FROM tool_index WHERE (server, tool) IN "
                    "(SELECT * FROM unnest(%s::text[], %s::text[]))",
                    ([s for s, _ in gone], [t for _, t in gone]),
                )
        for start in range(0, len(stale), SYNC_BATCH):
            batch = stale[start : start + SYNC_BATCH]
            await self._write(batch, await embed_tools(batch, embedder))
        added = sum((d.server, d.tool) not in stored for d in stale)
        return SyncReport(
            added=added,
            changed=len(stale) - added,
            removed=len(gone),
            unchanged=len(wanted) - len(stale),
        )

    async def _write(self, documents: Sequence[ToolDocument], vectors: np.ndarray) -> None:
        async with self._db.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                """
                INSERT INTO tool_index (server, tool, digest, model, document, embedding)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (server, tool) DO UPDATE SET
                    digest = EXCLUDED.digest, model = EXCLUDED.model,
                    document = EXCLUDED.document, embedding = EXCLUDED.embedding,
                    updated_at = now()
                """,
                [
                    (
                        d.server,
                        d.tool,
                        self._digest(d),
                        self.model,
                        d.embed_text,
                        self._db.vector(v),
                    )
                    for d, v in zip(documents, vectors, strict=True)
                ],
            )

    async def vectors(self, documents: Sequence[ToolDocument]) -> np.ndarray:
        """The stored vectors of ``documents``, in their order (zeros for any not stored)."""
        out = np.zeros((len(documents), self._db.embedding_dim), dtype=np.float32)
        if not documents:
            return out
        async with self._db.connection() as conn:
            cur = await conn.execute("SELECT server, tool, embedding FROM tool_index")
            stored = {(s, t): e for s, t, e in await cur.fetchall()}
        for i, d in enumerate(documents):
            vector = stored.get((d.server, d.tool))
            if vector is not None:
                out[i] = vector.to_numpy()
        return out

    async def near(
        self,
        vector: np.ndarray,
        k: int,
        *,
        also: Collection[str] = (),
        servers: Collection[str] | None = None,
    ) -> dict[str, float]:
        """Inner-product similarity of the ``k`` nearest tools and of the ``also`` keys.

        ``servers`` limits the search to those servers (a caller's scopes).
        """
        query = self._db.vector(vector)
        where = "WHERE server = ANY(%(servers)s)" if servers is not None else ""
        async with self._db.connection() as conn:
            await conn.execute(f"SET LOCAL hnsw.ef_search = {max(40, 2 * int(k))}")
            if servers is not None:
                await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cur = await conn.execute(
                f"""
                (SELECT server, tool, -(embedding <#> %(q)s) FROM tool_index {where}
                 ORDER BY embedding <#> %(q)s LIMIT %(k)s)
                UNION
                (SELECT server, tool, -(embedding <#> %(q)s) FROM tool_index
                 WHERE server || '/' || tool = ANY(%(also)s))
                """,
                {
                    "q": query,
                    "k": k,
                    "also": list(also),
                    "servers": list(servers or ()),
                },
            )
            rows = await cur.fetchall()
        return {f"{s}/{t}": float(sim) for s, t, sim in rows}

    async def count(self) -> int:
        async with self._db.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM tool_index")
            row = await cur.fetchone()
        return int(row[0]) if row else 0
