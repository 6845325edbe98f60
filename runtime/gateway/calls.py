"""The one path every tool call takes: pool call, metrics, audit record, log line.

The MCP endpoint, the REST API and (through :class:`runtime.contracts.ToolCaller`)
triage all call tools here, so no entry point can skip the audit or the metrics. The
audit record is handed to a non-blocking writer: the call never waits on the database.
A call made for a principal is held to its grants here too (the last line of defence:
the entry points refuse earlier, with the answer their protocol expects).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

import mcp_types as types

from runtime.contracts import CallObserver, ToolOutcome
from runtime.gateway.access import check_tool, is_read_only
from runtime.gateway.errors import GatewayError
from runtime.gateway.metrics import UNKNOWN_TOOL, GatewayMetrics
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.store.tokens import Principal

__all__ = ["AuditSink", "ToolCalls"]

logger = logging.getLogger(__name__)


class AuditSink(Protocol):
    """Where audit records go; ``record`` must return at once (queue, then batch insert)."""

    def record(
        self,
        *,
        client: str,
        server: str,
        tool: str,
        status: str,
        latency_ms: float,
        arguments: Mapping[str, Any] | None,
        error: str | None,
        subject: str | None = None,
        client_id: str | None = None,
        on_behalf_of: str | None = None,
    ) -> None: ...


class ToolCalls:
    """Audited, metered tool calls; also the :class:`~runtime.contracts.ToolCaller`."""

    def __init__(self, pool: UpstreamPool, metrics: GatewayMetrics, audit: AuditSink) -> None:
        self.pool = pool
        self.metrics = metrics
        self.audit = audit
        self.observers: list[CallObserver] = []

    async def call(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any] | None,
        *,
        client: str,
        principal: Principal | None = None,
        on_behalf_of: str | None = None,
    ) -> types.CallToolResult:
        """Call ``server``'s ``tool`` for ``client`` (as ``principal``, when given: its
        grants must cover the tool, and its subject and client id go to the audit; for a
        service token, the end user it calls for, ``on_behalf_of``, too).

        Raises:
            Forbidden: ``principal`` may not call this tool.
            GatewayError: unknown server/tool, or the upstream failed (see the pool).
        """
        if principal is not None:
            read_only = is_read_only(self.pool, server, tool)
            check_tool(principal, server, tool, read_only=read_only)
        started = time.perf_counter()
        status, error = "cancelled", None
        try:
            result = await self.pool.call_tool(server, tool, arguments)
        except GatewayError as exc:
            status, error = exc.code, exc.reason
            raise
        else:
            status = "tool_error" if result.is_error else "ok"
            if result.is_error:
                error = _first_text(result)
            return result
        finally:
            seconds = time.perf_counter() - started
            self.record(
                server,
                tool,
                arguments,
                client,
                status,
                error,
                seconds,
                principal=principal,
                on_behalf_of=on_behalf_of,
            )

    async def call_tool(
        self,
        server: str,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        client: str,
        principal: Principal | None = None,
    ) -> ToolOutcome:
        """The :class:`~runtime.contracts.ToolCaller` contract, in plain JSON-able form."""
        started = time.perf_counter()
        result = await self.call(server, tool, dict(arguments), client=client, principal=principal)
        structured = result.structured_content
        return ToolOutcome(
            server=server,
            tool=tool,
            content=[
                block.model_dump(mode="json", by_alias=True, exclude_none=True)
                for block in result.content
            ],
            is_error=result.is_error,
            structured=structured if isinstance(structured, dict) else None,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    def record(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any] | None,
        client: str,
        status: str,
        error: str | None,
        seconds: float,
        *,
        principal: Principal | None = None,
        on_behalf_of: str | None = None,
    ) -> None:
        known = self._known(server, tool)
        self.metrics.observe(
            server if known else UNKNOWN_TOOL,
            tool if known else UNKNOWN_TOOL,
            seconds,
            error=status != "ok",
        )
        self.audit.record(
            client=client,
            server=server,
            tool=tool,
            status=status,
            latency_ms=seconds * 1000,
            arguments=arguments,
            error=error,
            subject=principal.subject if principal else None,
            client_id=principal.client_id if principal else None,
            on_behalf_of=on_behalf_of,
        )
        if status == "ok":
            self._tell_observers(server, tool, client)
        else:
            logger.warning(
                "tool call failed",
                extra={
                    "client": client,
                    "on_behalf_of": on_behalf_of,
                    "server": server,
                    "tool": tool,
                    "status": status,
                    "latency_ms": round(seconds * 1000, 2),
                    "error": error,
                },
            )

    def _tell_observers(self, server: str, tool: str, client: str) -> None:
        """An observer's bug must never fail the call it observes."""
        for observer in self.observers:
            try:
                observer.tool_called(server, tool, client=client)
            except Exception:
                logger.exception("call observer %r failed", observer)

    def _known(self, server: str, tool: str) -> bool:
        """Only listed tools become metric labels, so random names cannot blow up cardinality."""
        try:
            return self.pool.get(server).tool(tool) is not None
        except GatewayError:
            return False


def _first_text(result: types.CallToolResult) -> str | None:
    for block in result.content:
        if isinstance(block, types.TextContent):
            return block.text[:500]
    return None
