"""Ask: the triage playground over triage's public HTTP API.

``Decide`` shows ``POST /api/v1/triage`` — the route, ranked candidates with scores,
extracted and missing arguments, confidence and (when triage reports it) what would
execute. ``Ask`` sends ``POST /api/v1/query``, which acts only as triage allows: a tool
that is not read-only waits for an explicit confirm, offered here as a second step.

Triage's response grows over time; every field is read defensively (camelCase or
snake_case, absent or not) and shown when present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from runtime.console.fleet_api import ApiFailure, FleetApi
from runtime.console.gate import Viewer
from runtime.console.routing import (
    ConsoleRoute,
    ConsoleState,
    checked_form,
    console_state,
    fleet_api,
    signed_in,
)

__all__ = ["DecisionView", "ask_router"]

_MAX_QUESTION = 8000


@dataclass(frozen=True)
class CandidateView:
    server: str
    tool: str
    score: float | None
    confidence: float | None
    description: str


@dataclass(frozen=True)
class DecisionView:
    """A triage decision, whatever version of triage produced it."""

    route: str
    confidence: float | None
    decided_by: str | None
    candidates: list[CandidateView]
    arguments: dict[str, Any]
    missing: list[str]
    route_scores: dict[str, float]
    would_execute: Any
    timings: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields this console does not know yet, shown as they are."""

    @classmethod
    def of(cls, body: dict[str, Any]) -> DecisionView:
        known = {
            "route", "confidence", "decidedBy", "decided_by", "candidates", "arguments",
            "missingArguments", "missing_arguments", "routeScores", "route_scores",
            "wouldExecute", "would_execute", "timings",
        }  # fmt: skip
        scores = _pick(body, "routeScores", "route_scores")
        arguments, timings = body.get("arguments"), body.get("timings")
        return cls(
            route=str(body.get("route") or "?"),
            confidence=_number(body.get("confidence")),
            decided_by=_text(_pick(body, "decidedBy", "decided_by")),
            candidates=[_candidate(c) for c in body.get("candidates") or [] if isinstance(c, dict)],
            arguments=arguments if isinstance(arguments, dict) else {},
            missing=[str(m) for m in _pick(body, "missingArguments", "missing_arguments") or []],
            route_scores={
                str(k): v for k, v in (scores or {}).items() if isinstance(v, int | float)
            }
            if isinstance(scores, dict)
            else {},
            would_execute=_pick(body, "wouldExecute", "would_execute"),
            timings=timings if isinstance(timings, dict) else {},
            extra={k: v for k, v in body.items() if k not in known},
        )


def ask_router() -> APIRouter:
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

    @router.get("/ask", response_class=HTMLResponse)
    async def ask(
        request: Request,
        q: str = Query("", max_length=_MAX_QUESTION),
        viewer: Viewer = Depends(signed_in),
        api: FleetApi = Depends(fleet_api),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        """The question form; with ``q``, triage's decision for it (nothing runs)."""
        context: dict[str, Any] = {"viewer": viewer, "section": "ask", "q": q}
        status = 200
        if q.strip():
            try:
                context["decision"] = DecisionView.of(await api.triage(q.strip()))
            except ApiFailure as exc:
                if exc.status == 401:
                    raise
                context["failure"], status = exc, exc.status
        return console.pages.render(request, "ask.html", context, status=status)

    @router.post("/ask", response_class=HTMLResponse)
    async def answer(
        request: Request,
        viewer: Viewer = Depends(signed_in),
        api: FleetApi = Depends(fleet_api),
        console: ConsoleState = Depends(console_state),
        form: FormData = Depends(checked_form),
    ) -> Response:
        """Ask for real (``/api/v1/query``); ``confirm=yes`` is the explicit second step."""
        q = str(form.get("q") or "")[:_MAX_QUESTION]
        context: dict[str, Any] = {"viewer": viewer, "section": "ask", "q": q}
        status = 200
        arguments = _arguments(form.get("arguments"))
        try:
            body = await api.query(
                q.strip(), confirm=form.get("confirm") == "yes", arguments=arguments
            )
        except ApiFailure as exc:
            if exc.status == 401:
                raise
            context["failure"], status = exc, exc.status
        else:
            decision = body.get("decision")
            context["answer"] = body
            context["decision"] = DecisionView.of(decision) if isinstance(decision, dict) else None
            context["needs"] = body.get("needs") if isinstance(body.get("needs"), dict) else {}
            context["arguments_json"] = json.dumps(arguments) if arguments else ""
        return console.pages.render(request, "ask.html", context, status=status)

    return router


def _candidate(item: dict[str, Any]) -> CandidateView:
    return CandidateView(
        server=str(item.get("server") or ""),
        tool=str(item.get("tool") or ""),
        score=_number(item.get("score")),
        confidence=_number(item.get("confidence")),
        description=str(item.get("description") or ""),
    )


def _pick(body: dict[str, Any], *names: str) -> Any:
    for name in names:
        if body.get(name) is not None:
            return body[name]
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _arguments(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
