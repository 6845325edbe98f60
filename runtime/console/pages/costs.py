"""Costs: model spend per day and model against the daily budget, from the router's
``GET /api/v1/costs``, drawn as a server-rendered SVG chart with the table beside it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse, Response

from runtime.console.charts import cost_chart
from runtime.console.fleet_api import ApiFailure, FleetApi
from runtime.console.gate import Viewer
from runtime.console.routing import (
    ConsoleRoute,
    ConsoleState,
    console_state,
    fleet_api,
    signed_in,
)

__all__ = ["costs_router"]

RANGES = (7, 14, 30, 90)


def costs_router() -> APIRouter:
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

    @router.get("/costs", response_class=HTMLResponse)
    async def costs(
        request: Request,
        days: int = Query(14, ge=1, le=366),
        viewer: Viewer = Depends(signed_in),
        api: FleetApi = Depends(fleet_api),
        console: ConsoleState = Depends(console_state),
    ) -> Response:
        context: dict[str, Any] = {
            "viewer": viewer,
            "section": "costs",
            "days": days,
            "ranges": RANGES,
        }
        status = 200
        try:
            report = await api.costs(days)
        except ApiFailure as exc:
            if exc.status == 401:
                raise
            context["failure"], status = exc, exc.status
        else:
            budget = report.get("budget")
            context["report"] = report
            context["budget"] = budget if isinstance(budget, dict) else {}
            context["chart"] = cost_chart(report)
        return console.pages.render(request, "costs.html", context, status=status)

    return router
