"""Which tools are scored for a question: the first step of the triage pipeline.

Hybrid retrieval keeps the scorer's work small and its recall high: the tools nearest
the question by embedding (pgvector's HNSW in the service, a matrix product in memory),
the best by keywords, every query-language tool (PromQL/LogQL/SQL executors answer
anything in their domain however terse their description), and every tool a past
confirmed question close to this one was answered with (memory).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from runtime.triage.index import ToolIndex
from runtime.triage.query import Query

__all__ = ["POOL", "Candidates", "from_similarities", "in_memory", "keyword_side"]

#: How many tools each side (embedding, keywords) proposes.
POOL = 64


@dataclass(frozen=True)
class Candidates:
    """Index positions of the tools to score and their cosine with the question."""

    positions: np.ndarray
    similarity: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)


def keyword_side(index: ToolIndex, query: Query, extra: Iterable[str] = ()) -> list[str]:
    """Keys the keyword side proposes: its best tools, the query-language tools, ``extra``."""
    best = [index.keys[i] for i in index.lexical_top(query, POOL)]
    return list(dict.fromkeys([*best, *index.open_ended_keys, *extra]))


def in_memory(
    index: ToolIndex,
    query: Query,
    *,
    extra: Iterable[str] = (),
    allowed: Collection[str] | None = None,
) -> Candidates:
    """Candidates from the index's own tool vectors (eval, training, tests).

    Raises:
        ValueError: the index holds no tool vectors.
    """
    if index.tool_vectors is None:
        raise ValueError("this index holds no tool vectors: use from_similarities")
    similarity = index.tool_vectors @ query.vector
    nearest = np.argsort(-similarity)[:POOL]
    keys = keyword_side(index, query, extra)
    chosen = {int(i) for i in nearest} | {index.position[k] for k in keys if k in index.position}
    positions = np.array(sorted(chosen), dtype=np.int64)
    return _allowed(index, Candidates(positions, similarity[positions]), allowed)


def from_similarities(
    index: ToolIndex, similarities: Mapping[str, float], allowed: Collection[str] | None = None
) -> Candidates:
    """Candidates from pgvector's answer (tool key → cosine), as the service gets them."""
    positions = np.array(
        sorted(index.position[k] for k in similarities if k in index.position), dtype=np.int64
    )
    similarity = np.array([similarities[index.keys[int(i)]] for i in positions], dtype=np.float32)
    return _allowed(index, Candidates(positions, similarity), allowed)


def _allowed(index: ToolIndex, found: Candidates, allowed: Collection[str] | None) -> Candidates:
    if allowed is None:
        return found
    keep = np.array([index.keys[int(i)] in allowed for i in found.positions], dtype=bool)
    return Candidates(found.positions[keep], found.similarity[keep])
