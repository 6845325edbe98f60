"""The router's REST API: ``GET /api/v1/costs`` and ``POST /api/v1/complete``.

:func:`install_router_api` adds the routes and the error handler to any FastAPI app — the
router's own (``mcpfleet serve router``) or the gateway's — whose lifespan has put a
:class:`~runtime.router.service.ModelRouter` on ``app.state.model_router``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from runtime.router.budget import BudgetState
from runtime.router.errors import RouterError
from runtime.router.service import ModelRouter
from runtime.store.usage import DailyUsage

__all__ = [
    "CompleteRequest",
    "CompleteResponse",
    "CostsReport",
    "create_router_api",
    "error_response",
    "get_model_router",
    "install_router_api",
]

TaskTypeName = Literal["reasoning", "code", "analysis", "summarization", "classification", "chat"]
"""The task types a request may name: ``policy.TASK_TYPES`` spelled out for OpenAPI."""


class RouterNotReady(RouterError):
    status, code = 503, "router_not_ready"


def get_model_router(request: Request) -> ModelRouter:
    """The router the app's lifespan opened.

    Raises:
        RouterNotReady: the app was built without one.
    """
    router = getattr(request.app.state, "model_router", None)
    if router is None:
        raise RouterNotReady("the model router is not configured in this process")
    return router


# --------------------------------------------------------------------------- bodies


class CompleteRequest(BaseModel):
    prompt: str = Field(min_length=1, description="The user's prompt.")
    task_type: TaskTypeName = Field(default="chat", description="Picks the rule in models.yaml.")
    system: str | None = Field(default=None, description="System prompt.")
    max_tokens: int = Field(default=1024, ge=1, le=64_000, description="Tokens to generate.")


class AttemptOut(BaseModel):
    model: str
    provider: str
    status: str
    reason: str | None
    latency_ms: float


class CompleteResponse(BaseModel):
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    rule: str | None = Field(description="The models.yaml rule that chose the first model.")
    budget_exhausted: bool
    attempts: list[AttemptOut]


class UsageTotals(BaseModel):
    calls: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, row: DailyUsage | UsageTotals) -> None:
        self.calls += row.calls
        self.failed += row.failed
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.cost_usd += row.cost_usd


class ModelCost(UsageTotals):
    model: str


class DayCost(BaseModel):
    day: date
    models: list[ModelCost]
    totals: UsageTotals


class BudgetOut(BaseModel):
    day: date
    daily_usd: float
    spent_usd: float
    spent_ratio: float
    alert_threshold: float
    alerting: bool
    exhausted: bool
    known: bool = Field(description="False while today's spend cannot be read (routes locally).")
    when_exhausted: str

    @classmethod
    def of(cls, state: BudgetState) -> BudgetOut:
        return cls(
            day=state.day,
            daily_usd=state.daily_usd,
            spent_usd=state.spent_usd,
            spent_ratio=state.ratio,
            alert_threshold=state.alert_threshold,
            alerting=state.alerting,
            exhausted=state.exhausted,
            known=state.known,
            when_exhausted=state.when_exhausted,
        )


class CostsReport(BaseModel):
    first: date = Field(description="First UTC day covered.")
    last: date = Field(description="Last UTC day covered (today).")
    days: list[DayCost] = Field(description="Days with at least one call, oldest first.")
    models: list[ModelCost] = Field(description="Per model over the whole range.")
    totals: UsageTotals
    budget: BudgetOut


class ErrorBody(BaseModel):
    error: dict[str, Any]


def _report(first: date, last: date, rows: list[DailyUsage], budget: BudgetState) -> CostsReport:
    by_day: dict[date, list[ModelCost]] = defaultdict(list)
    by_model: dict[str, ModelCost] = {}
    totals = UsageTotals()
    for row in rows:
        entry = ModelCost(model=row.model)
        entry.add(row)
        by_day[row.day].append(entry)
        by_model.setdefault(row.model, ModelCost(model=row.model)).add(row)
        totals.add(row)
    days = []
    for day in sorted(by_day):
        day_totals = UsageTotals()
        for entry in by_day[day]:
            day_totals.add(entry)
        days.append(DayCost(day=day, models=by_day[day], totals=day_totals))
    return CostsReport(
        first=first,
        last=last,
        days=days,
        models=[by_model[name] for name in sorted(by_model)],
        totals=totals,
        budget=BudgetOut.of(budget),
    )


# --------------------------------------------------------------------------- routes

_ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorBody, "description": "The router is not configured here."},
}


def error_response(exc: RouterError) -> JSONResponse:
    """A :class:`RouterError` as ``{"error": {"code", "reason", ...}}``, never a trace."""
    body = {"error": {"code": exc.code, "reason": str(exc), **exc.detail()}}
    return JSONResponse(body, status_code=exc.status, headers=dict(exc.headers()))


class _RouterRoute(APIRoute):
    """Translates :class:`RouterError` (from a dependency or the endpoint) in one place."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def translated(request: Request) -> Response:
            try:
                return await handle(request)
            except RouterError as exc:
                return error_response(exc)

        return translated


def create_router_api(*, dependencies: Sequence[Any] = ()) -> APIRouter:
    """``GET /api/v1/costs`` and ``POST /api/v1/complete``, guarded by ``dependencies``
    (e.g. bearer auth when the host has no auth middleware of its own)."""
    api = APIRouter(
        prefix="/api/v1",
        tags=["router"],
        dependencies=list(dependencies),
        route_class=_RouterRoute,
    )

    @api.get("/costs", response_model=CostsReport, responses=_ERRORS)
    async def costs(
        router: Annotated[ModelRouter, Depends(get_model_router)],
        days: Annotated[int, Query(ge=1, le=366, description="UTC days back, today included.")] = 7,
    ) -> CostsReport:
        """Model spend by UTC day and model, with totals and today's budget."""
        budget = await router.budget.state(refresh=True)
        first = budget.day - timedelta(days=days - 1)
        rows = await router.ledger.daily(first, budget.day)
        return _report(first, budget.day, rows, budget)

    @api.post(
        "/complete",
        response_model=CompleteResponse,
        responses={
            **_ERRORS,
            502: {"model": ErrorBody, "description": "Every model failed; attempts say why."},
        },
    )
    async def complete(
        body: CompleteRequest, router: Annotated[ModelRouter, Depends(get_model_router)]
    ) -> CompleteResponse:
        """Answer a prompt with the model the policy picks, falling back as configured."""
        routed = await router.route(
            body.prompt, task_type=body.task_type, system=body.system, max_tokens=body.max_tokens
        )
        done = routed.completion
        return CompleteResponse(
            text=done.text,
            model=done.model,
            input_tokens=done.input_tokens,
            output_tokens=done.output_tokens,
            cost_usd=done.cost_usd,
            rule=routed.route.rule,
            budget_exhausted=routed.route.budget_exhausted,
            attempts=[AttemptOut.model_validate(a.as_json()) for a in routed.attempts],
        )

    return api


def install_router_api(app: FastAPI, *, dependencies: Sequence[Any] = ()) -> None:
    """Mount :func:`create_router_api` on ``app``."""
    app.include_router(create_router_api(dependencies=dependencies))
