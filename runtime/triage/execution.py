"""Answering a question along its route, with the semantic cache and the query record.

direct → the local LLM, else the model router, else one sentence naming what to
configure; tool → the gateway's ``ToolCaller``, but only what the policy allows: a
read-only tool the decision is confident about runs by itself; anything else is answered
with the ranked candidates and how to confirm (``tool``/``arguments``/``confirm``), and a
tool that is not read-only never runs without ``confirm``; escalate → the router's
``Completer``; context → vector search over past queries and stored application context,
returned with sources. A tool the user confirmed is remembered for next time (memory).
Every query is written to ``query_history`` in a ``finally``, so a failure still leaves
its record.
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
from runtime.triage.decision import Candidate, Decision, Route
from runtime.triage.fleet import FleetIndex
from runtime.triage.local_llm import OllamaLlm
from runtime.triage.memory import ConfirmedQuestions

__all__ = ["Answer", "CachePolicy", "QueryExecutor", "Source"]

#: The one sentence a question that needs a model gets when none can answer it.
NO_MODEL = (
    "No model is configured to answer this: set MCPFLEET_OLLAMA_URL to a local Ollama, or "
    "ANTHROPIC_API_KEY or GOOGLE_API_KEY for a hosted model, and ask again."
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
        memory: ConfirmedQuestions | None = None,
    ) -> None:
        self.fleet = fleet
        self.history = history
        self.contexts = contexts
        self.cache = cache
        self.llm = llm
        self.memory = memory or fleet.memory

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
        tool: str | None = None,
        access: Principal | None = None,
        started: float | None = None,
    ) -> Answer:
        """Answer along ``decision.route`` and record the query, even if answering fails.

        ``tool`` (``server/tool``, one ``access`` may call) is the user's choice: it runs
        that tool whatever the route; ``confirm`` runs the first candidate or the chosen
        tool even when triage would not by itself (and allows a state change). Tool calls
        are made as ``access`` (the caller) and held to its grants.
        """
        started = started or time.perf_counter()
        answer = Answer(decision=decision, answer="")
        try:
            chosen = tool is not None or confirm
            hit = (
                await self._cached(vector, decision, access)
                if vector is not None and not chosen
                else None
            )
            if tool is not None or (confirm and decision.route is Route.TOOL):
                await self._tool(
                    text,
                    vector,
                    answer,
                    tool_caller,
                    client,
                    confirm,
                    arguments or {},
                    tool,
                    access,
                )
            elif hit is not None:
                answer.answer = hit.answer or ""
                answer.cached_from = hit.id
                answer.model = hit.model
                answer.servers = list(hit.servers)
            elif decision.route is Route.DIRECT:
                await self._direct(text, answer, completer)
            elif decision.route is Route.TOOL:
                await self._tool(
                    text,
                    vector,
                    answer,
                    tool_caller,
                    client,
                    confirm,
                    arguments or {},
                    None,
                    access,
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
        """True when the decided tool may change state (not declared read-only)."""
        if decision.route is not Route.TOOL or decision.top is None:
            return False
        return not decision.top.read_only

    async def _cached(
        self, vector: np.ndarray, decision: Decision, access: Principal | None
    ) -> QueryRecord | None:
        if not self.cache.enabled or decision.route is Route.CONTEXT:
            return None
        if decision.route is Route.TOOL and not decision.would_execute:
            return None  # only what would run by itself may be answered from history
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

    async def _direct(self, text: str, answer: Answer, completer: Completer | None) -> None:
        local = await self.llm.answer(text) if self.llm is not None else None
        if local is not None:
            answer.answer, answer.model = local.text, local.model
            answer.input_tokens, answer.output_tokens = local.input_tokens, local.output_tokens
            answer.cacheable = True
            return
        # No local model: a hosted one answers a simple question too, if there is one.
        await self._escalate(text, answer, completer, task="reasoning")

    async def _tool(
        self,
        text: str,
        vector: np.ndarray | None,
        answer: Answer,
        caller: ToolCaller | None,
        client: str,
        confirm: bool,
        given: Mapping[str, Any],
        chosen: str | None,
        access: Principal | None,
    ) -> None:
        decision = answer.decision
        target = self._target(decision, chosen, access)
        if target is None:
            answer.answer = (
                f"{chosen} is not a tool you may use."
                if chosen
                else "No tool of the fleet fits this question (or none you may use)."
            )
            answer.needs = {"tool": chosen} if chosen else {}
            return
        answer.servers = [target.server]
        read = (
            decision.arguments
            if decision.top is not None and target.key == decision.top.key
            else {}
        )
        arguments = {**read, **given}
        missing = [r for r in target.required if r not in arguments]
        explicit = chosen is not None or confirm
        if not explicit and given and target is decision.top:
            # The client sent the arguments the decision lacked: judge it again with them.
            runnable, _ = self.fleet.policy.judge(
                decision.model_copy(update={"missing_arguments": missing})
            )
        else:
            runnable = decision.would_execute
        if not explicit and not runnable:
            answer.answer = _candidates_answer(text, decision)
            answer.needs = _candidates_needs(decision)
            return
        if missing:
            answer.answer = (
                f"{target.key} needs {', '.join(missing)}: send them as `arguments` "
                f"(mcpfleet query … --tool {target.key} --arg {missing[0]}=…)."
            )
            answer.needs = {"arguments": missing, "tool": target.key}
            return
        if not target.read_only and not confirm:
            answer.answer = (
                f"{target.key} may change state; resend with `confirm: true` (--confirm) to "
                f"call it with {json.dumps(arguments)}."
            )
            answer.needs = {"confirm": True, "tool": target.key, "arguments": arguments}
            return
        if caller is None:
            answer.answer = "Tool calls are not available in this process (no gateway)."
            answer.needs = {"gateway": True}
            return
        outcome = await caller.call_tool(
            target.server, target.tool, arguments, client=client, principal=access
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
        if explicit and vector is not None:
            # The user chose or confirmed this tool for this question: remember the pair.
            await self.memory.remember(
                text, vector, target.server, target.tool, client=client, source="query"
            )
        answer.cacheable = target.read_only and not explicit
        if self.llm is not None:
            summary = await self.llm.answer(
                f"Question: {text}\n\nResult of {target.key}:\n{answer.answer[:6000]}",
                system="Answer the operator's question from the tool result, briefly.",
            )
            if summary is not None:
                answer.answer, answer.model = summary.text, summary.model
                answer.input_tokens, answer.output_tokens = (
                    summary.input_tokens,
                    summary.output_tokens,
                )

    def _target(
        self, decision: Decision, chosen: str | None, access: Principal | None
    ) -> Candidate | None:
        """The tool to run: the user's choice (a candidate or any allowed tool), else the top."""
        if chosen is None:
            return decision.top
        for candidate in decision.candidates:
            if candidate.key == chosen:
                return candidate
        triage = self.fleet.triage
        if triage is None or chosen not in triage.index.position:
            return None
        position = triage.index.position[chosen]
        read_only = bool(triage.index.read_only[position])
        server, tool = chosen.split("/", 1)
        if access is not None and not access.allows_tool(server, tool, read_only):
            return None
        document = triage.index.documents[position]
        required = triage.index.schemas[position].get("required")
        return Candidate(
            server=document.server,
            tool=document.tool,
            score=0.0,
            description=document.summary,
            read_only=read_only,
            required=[str(r) for r in required] if isinstance(required, list) else [],
        )

    async def _escalate(
        self, text: str, answer: Answer, completer: Completer | None, task: str | None = None
    ) -> None:
        if completer is None:
            answer.answer = NO_MODEL
            answer.needs = {"models": "no model router in this process"}
            return
        lowered = text.lower()
        task = task or next(
            (name for name, words in _ESCALATE_TASKS if any(w in lowered for w in words)),
            "reasoning",
        )
        try:
            completion = await completer.complete(text, task_type=task)
        except CompletionFailed as exc:
            # An answer, not an error: the question was understood; no model could answer.
            answer.answer = NO_MODEL
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


def _candidates_answer(text: str, decision: Decision) -> str:
    """The ranked candidates, why none ran, and how to run one."""
    if not decision.candidates:
        return "No tool of the fleet fits this question (or none you may use)."
    lines = [f"Not running a tool by itself: {decision.execution}. Best matches:"]
    for i, c in enumerate(decision.candidates[:5], start=1):
        traits = ["read-only" if c.read_only else "changes state"]
        if c.required:
            traits.append(f"needs {', '.join(c.required)}")
        lines.append(f"  {i}. {c.key} — {c.description or c.tool} ({'; '.join(traits)})")
    top = decision.candidates[0]
    example = f'mcpfleet query "{text[:60]}" --tool {top.key}'
    if top.required:
        example += " " + " ".join(f"--arg {r}=…" for r in top.required)
    if not top.read_only:
        example += " --confirm"
    lines.append(
        f"To run one: {example} (or POST /api/v1/query with `tool`, `arguments`, `confirm`)."
    )
    return "\n".join(lines)


def _candidates_needs(decision: Decision) -> dict[str, Any]:
    return {
        "choice": True,
        "reason": decision.execution,
        "candidates": [
            {"tool": c.key, "readOnly": c.read_only, "required": c.required, "score": c.score}
            for c in decision.candidates[:5]
        ],
    }


def _text_of(content: list[dict[str, Any]]) -> str:
    parts = [str(c.get("text", "")) for c in content if c.get("type") == "text"]
    return "\n".join(parts) if parts else json.dumps(content)[:6000]
