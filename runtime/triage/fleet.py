"""The live fleet's tool index: registry → pgvector tool index → in-memory decision engine.

``refresh`` reads the registry (``mcp_servers``, where the gateway writes each server's
``tools/list``), syncs ``tool_index`` (embedding only changed tools) and swaps in a new
engine when anything changed; ``run`` does that on an interval so servers coming, going
or changing their tool lists reach triage without a restart. Decisions take the vector
side from pgvector (HNSW) and the keyword side from memory.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import numpy as np

from runtime.db import Database
from runtime.store import Principal, ServerRegistry
from runtime.triage.decision import Decision
from runtime.triage.embedding import Embedder
from runtime.triage.engine import LlmDecider, Triage
from runtime.triage.retrieval import ToolIndex, Weights, index_documents
from runtime.triage.routing import RouteClassifier
from runtime.triage.server_prior import server_text
from runtime.triage.tool_store import SyncReport, ToolVectorStore
from runtime.triage.toolset import ServerTools

__all__ = ["FleetIndex"]

log = logging.getLogger(__name__)

#: How many tools each side (vector, keyword) proposes before the hybrid ranking.
POOL = 64


class FleetIndex:
    """Holds the current engine; safe to read while a refresh builds the next one."""

    def __init__(
        self,
        db: Database,
        embedder: Embedder,
        classifier: RouteClassifier,
        *,
        llm: LlmDecider | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.db = db
        self.embedder = embedder
        self.classifier = classifier
        self.llm = llm
        self.weights = weights or Weights()
        self.store = ToolVectorStore(db, embedder.name)
        self.registry = ServerRegistry(db)
        self._fingerprint: str | None = None
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self.triage = Triage(
            embedder=embedder,
            index=ToolIndex([], np.zeros((0, embedder.dimension), dtype=np.float32)),
            classifier=classifier,
            llm=llm,
        )

    async def servers(self) -> list[ServerTools]:
        """Every registered server that lists tools, as triage sees it."""
        return [
            ServerTools(name=r.name, tools=r.tools, description=r.description)
            for r in sorted(await self.registry.list_servers(), key=lambda r: r.name)
            if r.tools
        ]

    async def refresh(self) -> SyncReport | None:
        """Sync with the registry; returns what changed, or None when nothing did."""
        async with self._lock:
            servers = await self.servers()
            documents = index_documents(servers)
            fingerprint = hashlib.sha256(
                "|".join([d.digest for d in documents] + [server_text(s) for s in servers]).encode()
            ).hexdigest()
            if fingerprint == self._fingerprint:
                return None
            report = await self.store.sync(documents, self.embedder)
            server_vectors = (
                await self.embedder.embed([server_text(s) for s in servers])
                if servers
                else np.zeros((0, self.embedder.dimension), dtype=np.float32)
            )
            index = ToolIndex(servers, server_vectors, tool_vectors=None, weights=self.weights)
            self.triage = Triage(
                embedder=self.embedder, index=index, classifier=self.classifier, llm=self.llm
            )
            self._fingerprint = fingerprint
            self._ready.set()
            log.info(
                "tool index: %d servers, %d tools (%d embedded, %d removed)",
                len(servers),
                len(documents),
                report.embedded,
                report.removed,
            )
            return report

    @property
    def ready(self) -> bool:
        """Whether the first index has been built (until then there is nothing to rank)."""
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Return once the first index is built (bound it with ``asyncio.timeout``)."""
        await self._ready.wait()

    async def run(self, interval: float) -> None:
        """Refresh now, then every ``interval`` seconds until cancelled.

        A failed refresh (the database away, the embedding model failing) is logged and
        retried at the next interval: the last good index keeps serving meanwhile.
        """
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tool index refresh failed; retrying in %.0f s", interval)
            await asyncio.sleep(interval)

    async def decide(
        self,
        text: str,
        vector: np.ndarray,
        *,
        access: Principal | None = None,
        k: int | None = None,
        use_llm: bool = True,
    ) -> Decision:
        """Decide with pgvector's nearest tools plus the keyword side's best, over the tools
        ``access`` may call (a ``:ro`` grant: those annotated read-only)."""
        triage = self.triage
        index = triage.index
        allowed = (
            None
            if access is None or access.scopes is None
            else {
                d.key
                for d in index.documents
                if access.allows_tool(d.server, d.tool, d.read_only is True)
            }
        )
        servers = None if allowed is None else {key.split("/", 1)[0] for key in allowed}
        query = index.prepare(text, vector)
        lexical = [index.documents[i].key for i in index.lexical_top(query, POOL)]
        # Query-language tools answer anything in their domain however far their terse
        # description lies from the question: always score them (a handful per fleet).
        lexical = list(dict.fromkeys([*lexical, *index.open_ended_keys]))
        if allowed is not None:
            lexical = [k for k in lexical if k in allowed]
        vector_scores = (
            await self.store.near(vector, POOL, also=lexical, servers=servers) if len(index) else {}
        )
        return await triage.decide(
            text,
            vector=vector,
            query=query,
            vector_scores=vector_scores,
            allowed=allowed,
            k=k,
            use_llm=use_llm,
        )
