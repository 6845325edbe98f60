"""The model router: policy, then each model of the chain until one answers, with every
call priced, recorded and counted. Implements :class:`runtime.contracts.Completer`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from runtime.contracts import Completion
from runtime.router.budget import BudgetGuard, BudgetState, utc_now
from runtime.router.errors import (
    AllModelsFailed,
    Attempt,
    AttemptStatus,
    InvalidRequest,
    ProviderError,
)
from runtime.router.metrics import RouterMetrics
from runtime.router.policy import TASK_TYPES, Policy, Route, estimate_tokens
from runtime.router.providers import ChatProvider, ProviderSet
from runtime.router.usage import UsageLedger, UsageRow, cost_usd

__all__ = ["ModelRouter", "Routed"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Routed:
    """A completion with the route taken and every attempt, for the HTTP API."""

    completion: Completion
    route: Route
    attempts: list[Attempt]
    budget: BudgetState


class ModelRouter:
    """Answers prompts through the models ``models.yaml`` chooses, within the day's budget."""

    def __init__(
        self,
        policy: Policy,
        providers: ProviderSet,
        ledger: UsageLedger,
        budget: BudgetGuard,
        metrics: RouterMetrics,
        *,
        timeout: float,
        ledger_timeout: float = 2.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.policy = policy
        self.providers = providers
        self.ledger = ledger
        self.budget = budget
        self.metrics = metrics
        self._timeout = timeout
        self._ledger_timeout = ledger_timeout
        self._clock = clock

    async def complete(
        self,
        prompt: str,
        *,
        task_type: str = "chat",
        system: str | None = None,
        max_tokens: int = 1024,
    ) -> Completion:
        """Answer ``prompt`` with the first model of the policy's chain that succeeds.

        Raises:
            InvalidRequest: unknown task type or a non-positive token limit.
            AllModelsFailed: every model failed or was skipped; ``attempts`` says why.
        """
        routed = await self.route(prompt, task_type=task_type, system=system, max_tokens=max_tokens)
        return routed.completion

    async def route(
        self,
        prompt: str,
        *,
        task_type: str = "chat",
        system: str | None = None,
        max_tokens: int = 1024,
    ) -> Routed:
        """:meth:`complete`, also returning the route, the attempts and the budget.

        Raises:
            InvalidRequest: unknown task type or a non-positive token limit.
            AllModelsFailed: every model failed or was skipped; ``attempts`` says why.
        """
        if task_type not in TASK_TYPES:
            raise InvalidRequest(
                f"unknown task_type `{task_type}` (one of: {', '.join(TASK_TYPES)})"
            )
        if max_tokens < 1:
            raise InvalidRequest("max_tokens must be at least 1")
        budget = await self.budget.state()
        context = estimate_tokens(prompt, system)
        route = self.policy.route(task_type, context, budget_exhausted=budget.exhausted)
        attempts: list[Attempt] = []
        for name in route.chain:
            model = self.policy.model(name)
            provider = self.providers.get(model.provider)
            if isinstance(provider, str):
                attempts.append(Attempt(name, model.provider, AttemptStatus.UNAVAILABLE, provider))
                continue
            if context + max_tokens > model.context_window:
                reason = (
                    f"~{context} prompt tokens + {max_tokens} to generate exceed the "
                    f"{model.context_window}-token window"
                )
                attempts.append(Attempt(name, model.provider, AttemptStatus.UNAVAILABLE, reason))
                continue
            completion = await self._call(
                name, provider, prompt, task_type, system, max_tokens, attempts
            )
            if completion is not None:
                return Routed(completion, route, attempts, self.budget.current())
        raise AllModelsFailed(attempts)

    async def _call(
        self,
        name: str,
        provider: ChatProvider,
        prompt: str,
        task_type: str,
        system: str | None,
        max_tokens: int,
        attempts: list[Attempt],
    ) -> Completion | None:
        """One call to one model; appends its attempt and records it either way."""
        model = self.policy.model(name)
        started, at = time.perf_counter(), self._clock()
        try:
            async with asyncio.timeout(self._timeout):
                reply = await provider.generate(
                    model.model_id, prompt, system=system, max_tokens=max_tokens
                )
        except (ProviderError, TimeoutError) as exc:
            if isinstance(exc, ProviderError):
                status, reason = exc.outcome, exc.reason
            else:
                status, reason = AttemptStatus.TIMEOUT, f"no answer within {self._timeout:g}s"
            latency = (time.perf_counter() - started) * 1000
            attempts.append(Attempt(name, model.provider, status, reason, latency))
            log.warning("model %s failed: %s (%s)", name, status.value, reason)
            await self._record(
                UsageRow(
                    at, name, model.provider, task_type, status, latency_ms=latency, error=reason
                )
            )
            return None
        latency = (time.perf_counter() - started) * 1000
        cost = cost_usd(model, reply.input_tokens, reply.output_tokens)
        attempts.append(Attempt(name, model.provider, AttemptStatus.OK, None, latency))
        await self._record(
            UsageRow(
                at,
                name,
                model.provider,
                task_type,
                AttemptStatus.OK,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                cost_usd=cost,
                latency_ms=latency,
            )
        )
        self.budget.add(cost)
        # one JSON line per answered call (the seed's LogQL: `| json | model=… | cost > 0.01`)
        log.info(
            "model call",
            extra={
                "model": name,
                "task_type": task_type,
                "cost": cost,
                "input_tokens": reply.input_tokens,
                "output_tokens": reply.output_tokens,
                "latency_ms": round(latency, 1),
            },
        )
        return Completion(
            text=reply.text,
            model=name,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            cost_usd=cost,
            fallbacks_tried=[a.model for a in attempts[:-1]],
        )

    async def _record(self, row: UsageRow) -> None:
        """Count a call in Prometheus and the ledger; a ledger outage (or a wait past
        ``ledger_timeout``) loses the row, not the answer: the counters still have it."""
        self.metrics.requests.labels(row.model, row.status.value).inc()
        self.metrics.duration.labels(row.model).observe(row.latency_ms / 1000)
        if row.status is AttemptStatus.OK:
            self.metrics.tokens.labels(row.model, "input").inc(row.input_tokens)
            self.metrics.tokens.labels(row.model, "output").inc(row.output_tokens)
            self.metrics.cost.labels(row.model).inc(row.cost_usd)
        try:
            async with asyncio.timeout(self._ledger_timeout):
                await self.ledger.record(row)
        except (psycopg.Error, TimeoutError) as exc:
            self.metrics.unrecorded.labels(row.model).inc()
            log.error("usage of %s not recorded: %s", row.model, type(exc).__name__)
