"""Answering a question along its route, with the semantic cache and the query record.

direct → the local LLM (or a clear "no local LLM" answer); tool → the gateway's
``ToolCaller`` (state-changing tools only with ``confirm``), summarised by the local LLM
when there is one; escalate → the router's ``Completer``; context → vector search over
past queries and stored application context, returned with sources. Every query is
written to ``query_history`` in a ``finally``, so a failure still leaves its record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from runtime.contracts import Completer, CompletionFailed, ToolCaller
from runtime.store import AppContexts, Principal, QueryHistory, QueryRecord
from runtime.triage.decision import Decision, Route
from runtime.triage.fleet import FleetIndex
from runtime.triage.local_llm import OllamaLlm

__all__ = ["Answer", "CachePolicy", "QueryExecutor", "Source"]

NO_LOCAL_LLM = (
    "No local LLM is configured or reachable, so this question cannot be answered "
    "locally. Configure Ollama (catalog platform.triage, provider type ollama) or ask "
    "again in a form that needs a tool or the model router."
)
_ESCALATE_TASKS = (
    ("code", ("script", "code", "function", "terraform", "ansible", "manifest", "helm", "yaml")),
    ("summarization", ("summarise", "summarize", "summary", "tl;dr")),
    ("analysis", ("analyse", "analyze", "compare", "evaluate", "review", "root cause", "debug")),
)


@dataclass(frozen=True)
class CachePolicy:
    enabled: bool
    threshold: float  # cosine similarity a past query needs to answer this one
    ttl: timedelta


@dataclass(frozen=True)
class Source:
    kind: str  # "query" or "context"
    id: int
    title: str
    text: str
    similarity: float
    created_at: datetime | None = None


@dataclass
class Answer:
    """What ``POST /api/v1/query`` returns (see service.QueryResponse for the JSON)."""

    decision: Decision
    answer: str
    result: Any = None
    sources: list[Source] = field(default_factory=list)
    model: str | None = None
    servers: list[str] = field(default_factory=list)
    needs: dict[str, Any] = field(default_factory=dict)
    cached_from: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    history_id: int | None = None
    latency_ms: float = 0.0
    cacheable: bool = False  # answer may be served again from the cache


class QueryExecutor:
    """Runs routes; collaborators that are absent (no LLM, no router) degrade clearly."""

    def __init__(
        self,
        fleet: FleetIndex,
        history: QueryHistory,
        contexts: AppContexts,
        cache: CachePolicy,
        *,
        llm: OllamaLlm | None = None,
    ) -> None:
        self.fleet = fleet
        self.history = history
        self.contexts = contexts
        self.cache = cache
        self.llm = llm

    async def run(
        self,
        text: str,
        vector: np.ndarray | None,
        decision: Decision,
        *,
        client: str,
        tool_caller: ToolCaller | None,
        completer: Completer | None,
        confirm: bool = False,
        arguments: Mapping[str, Any] | None = None,
        started: float | None = None,
        access: Principal | None = None,
    ) -> Answer:
        """Answer along ``decision.route`` and record the query, even if answering fails;
        tool calls are made as ``access`` (the caller), and held to its grants."""
        started = started or time.perf_counter()
        answer = Answer(decision=decision, answer="")
        try:
            hit = await self._cached(vector, decision, access) if vector is not None else None
            if hit is not None:
                answer.answer = hit.answer or ""
                answer.cached_from = hit.id
                answer.model = hit.model
                answer.servers = list(hit.servers)
            elif decision.route is Route.DIRECT:
                await self._direct(text, answer)
            elif decision.route is Route.TOOL:
                await self._tool(
                    text, answer, tool_caller, client, confirm, arguments or {}, access
                )
            elif decision.route is Route.ESCALATE:
                await self._escalate(text, answer, completer)
            else:
                await self._context(text, vector, answer)
            return answer
        finally:
            answer.latency_ms = (time.perf_counter() - started) * 1000
            answer.history_id = await self.history.add(
                text,
                embedding=vector,
                route=decision.route.value,
                model=answer.model,
                servers=answer.servers,
                client=client,
                latency_ms=answer.latency_ms,
                input_tokens=answer.input_tokens,
                output_tokens=answer.output_tokens,
                cost_usd=answer.cost_usd,
                answer=answer.answer if answer.cacheable and answer.cached_from is None else None,
            )

    def state_changing(self, decision: Decision) -> bool:
        """True when the decided tool may change state (not annotated read-only)."""
        if decision.route is not Route.TOOL or not decision.candidates:
            return False
        index = self.fleet.triage.index
        position = index.position.get(decision.candidates[0].key)
        return position is None or index.documents[position].read_only is not True

    async def _cached(
        self, vector: np.ndarray, decision: Decision, access: Principal | None
    ) -> QueryRecord | None:
        if not self.cache.enabled or decision.route is Route.CONTEXT:
            return None
        if self.state_changing(decision):
            return None  # never answer a state-changing call from history
        if (
            decision.route is Route.TOOL
            and access is not None
            and not access.allows_every_tool(decision.candidates[0].server, read_only=True)
        ):
            return None  # a past answer may come from a tool of that server it may not use
        matches = await self.history.nearest(
            vector,
            k=3,
            since=datetime.now(UTC) - self.cache.ttl,
            answered_only=True,
            max_distance=1 - self.cache.threshold,
        )
        for match in matches:
            record = match.record
            if record.route != decision.route.value:
                continue
            if decision.route is Route.TOOL and decision.candidates[0].server not in record.servers:
                continue
            return record
        return None

    async def _direct(self, text: str, answer: Answer) -> None:
        local = await self.llm.answer(text) if self.llm is not None else None
        if local is None:
            answer.answer = NO_LOCAL_LLM
            answer.needs = {"localLlm": True}
            return
        answer.answer, answer.model = local.text, local.model
        answer.input_tokens, answer.output_tokens = local.input_tokens, local.output_tokens
        answer.cacheable = True

    async def _tool(
        self,
        text: str,
        answer: Answer,
        caller: ToolCaller | None,
        client: str,
        confirm: bool,
        given: Mapping[str, Any],
        access: Principal | None = None,
    ) -> None:
        decision = answer.decision
        if not decision.candidates:
            answer.answer = "No tool of the fleet fits this question (or none you may use)."
            return
        top = decision.candidates[0]
        answer.servers = [top.server]
        arguments = {**decision.arguments, **given}
        missing = [m for m in decision.missing_arguments if m not in arguments]
        if missing:
            answer.answer = f"{top.key} needs: {', '.join(missing)}. Send them as `arguments`."
            answer.needs = {"arguments": missing, "tool": top.key}
            return
        if self.state_changing(decision) and not confirm:
            answer.answer = (
                f"{top.key} may change state; resend with `confirm: true` to call it with "
                f"{json.dumps(arguments)}."
            )
            answer.needs = {"confirm": True, "tool": top.key, "arguments": arguments}
            return
        if caller is None:
            answer.answer = "Tool calls are not available in this process (no gateway)."
            answer.needs = {"gateway": True}
            return
        outcome = await caller.call_tool(
            top.server, top.tool, arguments, client=client, principal=access
        )
        answer.result = {
            "server": outcome.server,
            "tool": outcome.tool,
            "isError": outcome.is_error,
            "content": outcome.content,
            "structured": outcome.structured,
        }
        answer.answer = _text_of(outcome.content)
        if outcome.is_error:
            return
        answer.cacheable = not self.state_changing(decision)
        if self.llm is not None:
            summary = await self.llm.answer(
                f"Question: {text}\n\nResult of {top.key}:\n{answer.answer[:6000]}",
                system="Answer the operator's question from the tool result, briefly.",
            )
            if summary is not None:
                answer.answer, answer.model = summary.text, summary.model
                answer.input_tokens, answer.output_tokens = (
                    summary.input_tokens,
                    summary.output_tokens,
                )

    async def _escalate(self, text: str, answer: Answer, completer: Completer | None) -> None:
        if completer is None:
            answer.answer = "The model router is not available in this process."
            answer.needs = {"router": True}
            return
        lowered = text.lower()
        task = next(
            (name for name, words in _ESCALATE_TASKS if any(w in lowered for w in words)),
            "reasoning",
        )
        try:
            completion = await completer.complete(text, task_type=task)
        except CompletionFailed as exc:
            # An answer, not an error: the question was understood; nothing could answer it.
            answer.answer = (
                f"No model could answer this question: {exc}. Configure a provider key "
                "(see catalog/models.yaml apiKeyEnv) or a reachable Ollama, then ask again."
            )
            answer.needs = {"models": str(exc)}
            return
        answer.answer, answer.model = completion.text, completion.model
        answer.input_tokens = completion.input_tokens
        answer.output_tokens = completion.output_tokens
        answer.cost_usd = completion.cost_usd
        answer.cacheable = True

    async def _context(self, text: str, vector: np.ndarray | None, answer: Answer) -> None:
        if vector is None:
            answer.answer = "Stored context cannot be searched without an embedding."
            return
        past = await self.history.nearest(vector, k=5, answered_only=False)
        saved = await self.contexts.nearest(vector, k=5)
        sources = [
            Source(
                "query",
                m.record.id,
                m.record.query,
                m.record.answer or "",
                m.similarity,
                m.record.created_at,
            )
            for m in past
        ] + [
            Source(
                "context",
                m.context.id,
                f"{m.context.app}: {m.context.title}",
                m.context.body,
                1 - m.distance,
                m.context.updated_at,
            )
            for m in saved
        ]
        answer.sources = sorted(sources, key=lambda s: -s.similarity)[:8]
        if not answer.sources:
            answer.answer = "Nothing stored matches this question yet."
            return
        listing = "\n".join(
            f"[{i + 1}] {s.title}" + (f" — {s.text[:300]}" if s.text else "")
            for i, s in enumerate(answer.sources)
        )
        local = (
            await self.llm.answer(
                f"Question: {text}\n\nStored items:\n{listing}",
                system="Answer from the stored items only and cite them as [n].",
            )
            if self.llm is not None
            else None
        )
        if local is None:
            answer.answer = f"Closest stored items:\n{listing}"
        else:
            answer.answer, answer.model = local.text, local.model
            answer.input_tokens, answer.output_tokens = local.input_tokens, local.output_tokens


def _text_of(content: list[dict[str, Any]]) -> str:
    parts = [str(c.get("text", "")) for c in content if c.get("type") == "text"]
    return "\n".join(parts) if parts else json.dumps(content)[:6000]
