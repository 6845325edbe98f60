"""``POST /api/v1/proposals``: propose a server by hand; ``POST /api/v1/create-pr``: the
same with the seed plan's body (``server_name``, ``type``, ``endpoint``).

Mountable on any FastAPI app whose state has ``proposer`` (a
:class:`~runtime.proposals.proposer.Proposer` or None) and ``prober``. Failures answer
the fleet's error body ``{"error": {"code", "reason"}}``: 422 ``refused`` for an entry
that does not validate or a forge that refuses, 503 with ``Retry-After`` when the forge
is down (``forge_unavailable``) or proposals are off (``proposals_off``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from catalog.model import Server
from runtime.error_body import ERROR_BODY, error_response
from runtime.proposals.errors import ProposalError
from runtime.proposals.manual import CreatePrRequest, ProposalRequest, propose_by_hand

__all__ = ["proposals_router"]

_SERVER: TypeAdapter[Any] = TypeAdapter(Server)
_ERROR = {"content": {"application/json": {"schema": ERROR_BODY}}}


def proposals_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["proposals"])

    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "An open proposal was updated or already carried it."},
        422: {"description": "The entry does not validate, or the forge refused.", **_ERROR},
        503: {"description": "Proposals are off, or the forge is unreachable.", **_ERROR},
    }

    @router.post(
        "/proposals",
        status_code=201,
        summary="Propose an MCP server for the catalog",
        responses=responses,
    )
    async def create_proposal(body: ProposalRequest, request: Request) -> JSONResponse:
        """Probe the endpoint, build the catalog entry, validate it, open or update the PR."""
        return await _propose(body, request)

    @router.post(
        "/create-pr",
        status_code=201,
        summary="The seed's manual PR request: propose a server from its name, type, endpoint",
        responses=responses,
    )
    async def create_pr(body: CreatePrRequest, request: Request) -> JSONResponse:
        """``{"server_name", "type", "endpoint"}`` as in the seed plan; ``type`` is
        ``standard`` (an ``http`` entry with ``image``, else ``remote``), ``kmcp`` or
        ``toolhive``. Answers as ``POST /api/v1/proposals``."""
        try:
            proposal = body.proposal_request()
        except ValidationError as exc:
            reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            return _error(422, "refused", f"cannot propose {body.server_name}: {reasons}")
        return await _propose(proposal, request)

    return router


async def _propose(body: ProposalRequest, request: Request) -> JSONResponse:
    proposer = getattr(request.app.state, "proposer", None)
    prober = getattr(request.app.state, "prober", None)
    if proposer is None or prober is None:
        return _error(503, "proposals_off", "catalog proposals are turned off here")
    try:
        made = await propose_by_hand(body, prober=prober, proposer=proposer)
    except ProposalError as exc:
        if exc.permanent:
            return _error(422, "refused", str(exc))
        return _error(503, "forge_unavailable", str(exc), retry_after=30)
    outcome = made.outcome
    return JSONResponse(
        status_code=201 if outcome.status == "opened" else 200,
        content={
            "status": outcome.status,
            "branch": outcome.branch,
            "url": outcome.url,
            "fingerprint": outcome.fingerprint,
            "entry": _SERVER.dump_python(
                made.proposal.server, mode="json", by_alias=True, exclude_defaults=True
            ),
            "tools": [t["name"] for t in made.proposal.tools],
            "probe": {"ok": made.result is not None, "error": made.probe_error},
        },
    )


def _error(status: int, code: str, reason: str, *, retry_after: int | None = None) -> JSONResponse:
    response = error_response(status, reason, code=code)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response
