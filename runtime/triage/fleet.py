"""The live fleet's triage: registry → pgvector tool index → trained model → engine.

``refresh`` reads the registry (``mcp_servers``, where the gateway writes each server's
``tools/list``), syncs ``tool_index`` (embedding only changed tools), loads the model
trained for exactly this fleet from ``triage_models`` or trains and stores it, and swaps
in a new engine; ``run`` does that on an interval so servers coming, going or changing
their tool lists reach triage without a restart. Decisions take the vector side from
pgvector (HNSW), the keyword side from memory, and remembered confirmed questions from
``triage_confirmations``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Collection, Mapping

import numpy as np

from runtime.db import Database
from runtime.store import Principal, ServerRegistry
from runtime.triage.candidates import POOL, keyword_side
from runtime.triage.decision import Decision, Route
from runtime.triage.embedding import Embedder
from runtime.triage.engine import LlmDecider, Triage
from runtime.triage.index import ToolIndex, index_documents
from runtime.triage.memory import ConfirmedQuestions
from runtime.triage.model_store import ModelStore
from runtime.triage.policy import ExecutionPolicy
from runtime.triage.server_prior import server_text
from runtime.triage.tool_store import SyncReport, ToolVectorStore
from runtime.triage.toolset import ServerTools
from runtime.triage.training import TriageModel, fingerprint, train

__all__ = ["FleetIndex"]

log = logging.getLogger(__name__)


class FleetIndex:
    """Holds the current engine; safe to read while a refresh builds the next one."""

    def __init__(
        self,
        db: Database,
        embedder: Embedder,
        *,
        llm: LlmDecider | None = None,
        policy: ExecutionPolicy | None = None,
        read_only_tools: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.db = db
        self.embedder = embedder
        self.llm = llm
        self.policy = policy or ExecutionPolicy()
        self.read_only_tools = {k: frozenset(v) for k, v in (read_only_tools or {}).items()}
        self.store = ToolVectorStore(db, embedder.name)
        self.models = ModelStore(db)
        self.memory = ConfirmedQuestions(db)
        self.registry = ServerRegistry(db)
        self._fingerprint: str | None = None
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self.triage: Triage | None = None

    async def servers(self) -> list[ServerTools]:
        """Every registered server that lists tools, as triage sees it."""
        return [
            ServerTools(
                name=r.name,
                tools=r.tools,
                description=r.description,
                read_only_tools=self.read_only_tools.get(r.name, frozenset()),
            )
            for r in sorted(await self.registry.list_servers(), key=lambda r: r.name)
            if r.tools
        ]

    async def refresh(self) -> SyncReport | None:
        """Sync with the registry; returns what changed, or None when nothing did."""
        async with self._lock:
            servers = await self.servers()
            documents = index_documents(servers)
            fingerprint_ = hashlib.sha256(
                "|".join(
                    [d.digest for d in documents]
                    + [server_text(s) for s in servers]
                    + [f"{s.name}:{sorted(s.read_only_tools)}" for s in servers]
                ).encode()
            ).hexdigest()
            if fingerprint_ == self._fingerprint:
                return None
            report = await self.store.sync(documents, self.embedder)
            server_vectors = (
                await self.embedder.embed([server_text(s) for s in servers])
                if servers
                else np.zeros((0, self.embedder.dimension), dtype=np.float32)
            )
            tool_vectors = await self.store.vectors(documents)
            index = ToolIndex(servers, server_vectors, tool_vectors)
            model = await self._model(index) if len(index) else None
            self.triage = (
                Triage(self.embedder, index, model, llm=self.llm, policy=self.policy)
                if model is not None
                else None
            )
            self._fingerprint = fingerprint_
            self._ready.set()
            log.info(
                "tool index: %d servers, %d tools (%d embedded, %d removed)",
                len(servers),
                len(documents),
                report.embedded,
                report.removed,
            )
            return report

    async def _model(self, index: ToolIndex) -> TriageModel:
        """The model trained for this fleet: stored, or trained now and stored."""
        wanted = fingerprint(index, self.embedder.name)
        model = await self.models.load(wanted)
        if model is None:
            model = await train(index, self.embedder)
            await self.models.save(model)
            log.info("triage model trained: %s", model.report.as_dict())
        return model

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
        """Decide with pgvector's nearest tools, the keyword side's best and remembered
        questions, over the tools ``access`` may call (a ``:ro`` grant: the read-only ones,
        by annotation or the catalog's ``readOnlyTools``)."""
        triage = self.triage
        if triage is None:
            return Decision(route=Route.DIRECT, confidence=0.0, execution="no tools registered")
        index = triage.index
        allowed = (
            None
            if access is None or access.scopes is None
            else {
                d.key
                for d, read_only in zip(index.documents, index.read_only, strict=True)
                if access.allows_tool(d.server, d.tool, bool(read_only))
            }
        )
        servers = None if allowed is None else {key.split("/", 1)[0] for key in allowed}
        query = index.prepare(text, vector)
        remembered = await self.memory.recall(vector, servers)
        extra = keyword_side(index, query, remembered)
        if allowed is not None:
            extra = [key for key in extra if key in allowed]
        vector_scores = await self.store.near(vector, POOL, also=extra, servers=servers)
        return await triage.decide(
            text,
            vector=vector,
            query=query,
            vector_scores=vector_scores,
            memory=remembered,
            allowed=allowed,
            k=k,
            use_llm=use_llm,
        )
