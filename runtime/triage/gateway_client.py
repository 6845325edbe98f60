"""A :class:`runtime.contracts.ToolCaller` over the gateway's REST API, for triage running
as a service of its own: ``POST /api/v1/mcp/{server}/tools/{tool}`` with triage's token.

Inside the gateway's process triage uses the gateway's in-process caller instead; this is
the same seam over HTTP, so the gateway still audits, rate-limits and scopes every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from runtime.contracts import ToolOutcome
from runtime.error_body import read_error
from runtime.store import Principal

__all__ = ["GatewayToolCaller", "GatewayUnreachable"]


class GatewayUnreachable(RuntimeError):
    """The gateway did not answer, or refused the call (status and reason in the message)."""


class GatewayToolCaller:
    """Calls tools through a gateway at ``base_url``; ``http`` is owned by the host."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, *, token: str | None = None):
        self._base = base_url.rstrip("/")
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call_tool(
        self,
        server: str,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        client: str,
        principal: Principal | None = None,
    ) -> ToolOutcome:
        """Raises: GatewayUnreachable: no answer, or an HTTP error status with its reason.

        ``principal`` stays here: the gateway checks triage's own token (its grants bound
        the call) and learns who it is for from ``X-Mcpfleet-On-Behalf-Of``.
        """
        url = f"{self._base}/api/v1/mcp/{quote(server, safe='')}/tools/{quote(tool, safe='')}"
        headers = {**self._headers, "X-Mcpfleet-On-Behalf-Of": client}
        try:
            response = await self._http.post(url, json=dict(arguments), headers=headers)
            body: Any = response.json()
        except httpx.HTTPError as exc:
            raise GatewayUnreachable(f"cannot reach the gateway ({type(exc).__name__})") from exc
        except ValueError as exc:
            raise GatewayUnreachable(
                f"the gateway answered HTTP {response.status_code}, not JSON"
            ) from exc
        if response.status_code != 200:
            error = read_error(response.status_code, body)
            raise GatewayUnreachable(
                f"the gateway refused the call ({response.status_code}): {error.reason}"
            )
        return ToolOutcome(
            server=server,
            tool=tool,
            content=list(body.get("content") or []),
            is_error=bool(body.get("isError")),
            structured=body.get("structuredContent"),
            latency_ms=float(body.get("latencyMs") or 0.0),
        )
