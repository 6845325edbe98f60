"""Memory of what worked: past questions whose tool the user confirmed.

When an operator confirms a tool for a question — a call made right after ``find_tools``
proposed it, or a ``/api/v1/query`` they confirmed or pointed at a tool — the pair is
kept with the question's vector. A new question close to a remembered one gets that
tool as a candidate, and its similarity as the scorer's ``memory`` feature: the fleet
learns its operators' own words.

``ConfirmedQuestions`` keeps them in PostgreSQL (pgvector, HNSW); ``Recollection`` is the
in-process equivalent the eval command uses to replay a labelled set as history.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from runtime.db import Database

__all__ = ["MIN_SIMILARITY", "ConfirmedQuestions", "Memory", "Recollection"]

#: A remembered question counts from this cosine on (MiniLM: paraphrases sit above ~0.7).
MIN_SIMILARITY = 0.6
#: How many remembered questions are consulted per new question.
RECALL = 8


class Memory(Protocol):
    """Tools of remembered questions near ``vector``: tool key → best cosine."""

    async def recall(
        self, vector: np.ndarray, servers: Collection[str] | None = None
    ) -> dict[str, float]: ...


def _best(keys: Sequence[str], sims: Sequence[float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, sim in zip(keys, sims, strict=True):
        if sim >= MIN_SIMILARITY and sim > out.get(key, 0.0):
            out[key] = float(sim)
    return out


@dataclass
class Recollection:
    """Remembered questions held in memory (eval, tests): the same answers as the store."""

    keys: list[str] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    _matrix: np.ndarray | None = field(default=None, init=False, repr=False)

    def remember(self, vector: np.ndarray, key: str) -> None:
        self.keys.append(key)
        self.vectors.append(np.asarray(vector, dtype=np.float32))
        self._matrix = None

    def recall_sync(
        self, vector: np.ndarray, servers: Collection[str] | None = None
    ) -> dict[str, float]:
        if not self.keys:
            return {}
        if self._matrix is None:
            self._matrix = np.stack(self.vectors)
        sims = self._matrix @ vector
        order = [int(i) for i in np.argsort(-sims)]
        if servers is not None:
            order = [i for i in order if self._server(i) in servers]
        order = order[:RECALL]
        return _best([self.keys[i] for i in order], [float(sims[i]) for i in order])

    async def recall(
        self, vector: np.ndarray, servers: Collection[str] | None = None
    ) -> dict[str, float]:
        return self.recall_sync(vector, servers)

    def _server(self, i: int) -> str:
        return self.keys[i].split("/", 1)[0]


class ConfirmedQuestions:
    """``triage_confirmations``: confirmed question → tool pairs, searched by HNSW."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def remember(
        self,
        question: str,
        vector: np.ndarray,
        server: str,
        tool: str,
        *,
        client: str | None,
        source: str,
    ) -> None:
        """Keep one confirmed pair (``source``: query, find_tools or api)."""
        async with self._db.connection() as conn:
            await conn.execute(
                "INSERT INTO triage_confirmations (question, embedding, server, tool, client,"
                " source) VALUES (%s, %s, %s, %s, %s, %s)",
                (question, self._db.vector(vector), server, tool, client, source),
            )

    async def recall(
        self, vector: np.ndarray, servers: Collection[str] | None = None
    ) -> dict[str, float]:
        where = "WHERE server = ANY(%(servers)s)" if servers is not None else ""
        async with self._db.connection() as conn:
            if servers is not None:
                await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cur = await conn.execute(
                f"""
                SELECT server || '/' || tool, -(embedding <#> %(q)s) FROM triage_confirmations
                {where} ORDER BY embedding <#> %(q)s LIMIT %(k)s
                """,
                {"q": self._db.vector(vector), "k": RECALL, "servers": list(servers or ())},
            )
            rows = await cur.fetchall()
        return _best([r[0] for r in rows], [float(r[1]) for r in rows])

    async def count(self) -> int:
        async with self._db.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM triage_confirmations")
            row = await cur.fetchone()
        return int(row[0]) if row else 0
