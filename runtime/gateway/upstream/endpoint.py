"""One upstream endpoint: a pooled MCP session, its in-flight count and its circuit breaker.

The session is opened once and reused by every call (the SDK multiplexes concurrent
requests over it); the protocol revision is negotiated per endpoint by the SDK's
``auto`` mode (``server/discover`` for 2026-07-28 servers, ``initialize`` for older
ones). The session lives in a holder task of the pool's task group, because an MCP
client must be entered and exited in the same task — and so a transport that crashes
takes down only its own holder, never the gateway. Calls in flight then fail fast with
``Connection closed`` and the next call reconnects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import httpx2
import mcp_types as types
from anyio.abc import TaskGroup, TaskStatus
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT
from pydantic import ValidationError

from runtime.gateway.upstream.breaker import CircuitBreaker
from runtime.gateway.upstream.spec import EndpointSpec
from runtime.gateway.upstream.stderr import logged_stderr

__all__ = [
    "Endpoint",
    "EndpointDown",
    "EndpointError",
    "EndpointTimeout",
    "Listing",
    "RequestTooLarge",
    "UpstreamRejected",
]

logger = logging.getLogger(__name__)
CLIENT_INFO = types.Implementation(name="mcpfleet-gateway", version="0.1.0")
LIST_PAGE_CAP = 50
R = TypeVar("R", bound=types.Result)


class EndpointError(Exception):
    """Base of what an endpoint raises; the pool turns these into gateway errors."""


class EndpointDown(EndpointError):
    """The endpoint could not be reached or its connection broke: counts against it."""


class EndpointTimeout(EndpointDown):
    """The call outlived its timeout."""


class UpstreamRejected(EndpointError):
    """The upstream answered, with a JSON-RPC error or a result the gateway cannot relay."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class RequestTooLarge(UpstreamRejected):
    """The upstream answered HTTP 413: the request is too big for it, the endpoint is fine."""


_STATUSES: ContextVar[list[int] | None] = ContextVar("upstream_http_statuses", default=None)
"""HTTP statuses of the POSTs one call made. The SDK runs each POST in the calling task's
context (so tracing works), so a response hook can tell the call what its status was,
which the SDK's own error (``Server returned an error response``) no longer says."""


async def _note_status(response: httpx2.Response) -> None:
    statuses = _STATUSES.get()
    if statuses is not None:
        statuses.append(response.status_code)


@dataclass(frozen=True)
class Listing:
    """What an endpoint offers, fetched by the health check."""

    tools: tuple[types.Tool, ...]
    prompts: tuple[types.Prompt, ...] = ()
    resources: tuple[types.Resource, ...] = ()
    protocol_version: str | None = None


class Endpoint:
    """A reachable copy of an upstream server, with the state load balancing reads."""

    def __init__(
        self,
        server: str,
        spec: EndpointSpec,
        *,
        breaker: CircuitBreaker,
        connect_timeout: float = 10.0,
        http_limits: httpx2.Limits | None = None,
    ) -> None:
        self.server = server
        self.spec = spec
        self.breaker = breaker
        self.connect_timeout = connect_timeout
        self.in_flight = 0
        self.calls = 0
        self.healthy: bool | None = None
        self.last_error: str | None = None
        self.last_check: float | None = None
        self.protocol_version: str | None = None
        self._http_limits = http_limits or httpx2.Limits(max_connections=64)
        self._client: Client | None = None
        self._closing: anyio.Event | None = None
        self._ended: anyio.Event | None = None
        self._connect_lock = anyio.Lock()
        self._task_group: TaskGroup | None = None
        self.connects = 0

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def connected(self) -> bool:
        return self._client is not None

    def bind(self, task_group: TaskGroup) -> None:
        """Give the endpoint the task group its session holder runs in."""
        self._task_group = task_group

    # ------------------------------------------------------------------ calls

    async def call_tool(self, tool: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Forward one ``tools/call``; the result is relayed as the upstream gave it.

        The caller bounds it with ``anyio.fail_after`` (the catalog's call timeout).

        Raises:
            EndpointDown: unreachable, or the connection broke during the call.
            UpstreamRejected: the upstream answered with an error or an unusable result.
        """
        request = types.CallToolRequest(
            params=types.CallToolRequestParams(name=tool, arguments=arguments)
        )
        return await self._request(request, types.CallToolResult)

    async def get_prompt(
        self, name: str, arguments: dict[str, str] | None
    ) -> types.GetPromptResult:
        request = types.GetPromptRequest(
            params=types.GetPromptRequestParams(name=name, arguments=arguments)
        )
        return await self._request(request, types.GetPromptResult)

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        request = types.ReadResourceRequest(params=types.ReadResourceRequestParams(uri=uri))
        return await self._request(request, types.ReadResourceResult)

    async def _request(self, request: types.ClientRequest, result_type: type[R]) -> R:
        self.in_flight += 1
        self.calls += 1
        statuses: list[int] = []
        token = _STATUSES.set(statuses)
        try:
            client = await self._session()
            try:
                return await client.session.send_request(request, result_type)
            except MCPError as exc:
                if exc.code in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
                    self._discard(client)
                    raise EndpointDown(f"connection lost: {exc.message}") from exc
                if 413 in statuses:
                    raise RequestTooLarge("HTTP 413", exc.code) from exc
                raise UpstreamRejected(exc.message, exc.code) from exc
            except ValidationError as exc:
                raise UpstreamRejected(
                    "the upstream's result is not a valid MCP result "
                    "(or asks for interactive input, which the gateway does not relay)"
                ) from exc
        finally:
            _STATUSES.reset(token)
            self.in_flight -= 1

    # ------------------------------------------------------------------ listing

    async def list_all(self) -> Listing:
        """Fetch tools (and prompts/resources when advertised): the health check's probe.

        Raises:
            EndpointDown: as for calls; a failed listing marks the endpoint unhealthy.
        """
        client = await self._session()
        try:
            return await self._list(client)
        except MCPError as exc:
            if exc.code in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
                self._discard(client)
            raise EndpointDown(f"listing failed: {exc.message}") from exc
        except ValidationError as exc:
            raise EndpointDown("listing failed: invalid result") from exc

    async def _list(self, client: Client) -> Listing:
        capabilities = client.server_capabilities
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(LIST_PAGE_CAP):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            if not (cursor := page.next_cursor):
                break
        prompts: list[types.Prompt] = []
        if capabilities.prompts is not None:
            prompts.extend((await client.list_prompts()).prompts)
        resources: list[types.Resource] = []
        if capabilities.resources is not None:
            resources.extend((await client.list_resources()).resources)
        return Listing(tuple(tools), tuple(prompts), tuple(resources), client.protocol_version)

    # ------------------------------------------------------------------ session

    async def _session(self) -> Client:
        client = self._client
        if client is not None:
            return client
        async with self._connect_lock:
            if self._client is None:
                await self._connect()
            assert self._client is not None
            return self._client

    async def _connect(self) -> None:
        if self._task_group is None:
            raise EndpointDown("endpoint is not started")
        try:
            with anyio.fail_after(self.connect_timeout):
                await self._task_group.start(self._hold)
        except TimeoutError as exc:
            raise EndpointTimeout(f"connect timed out after {self.connect_timeout:g}s") from exc
        except EndpointError:
            raise
        except Exception as exc:  # boundary: any transport's connect failure means "down"
            raise EndpointDown(f"connect failed: {_describe(exc)}") from exc

    async def _hold(self, *, task_status: TaskStatus[None]) -> None:
        """Own one session from open to close; ends when discarded or when the transport dies."""
        closing, ended = anyio.Event(), anyio.Event()
        started = False
        client: Client | None = None
        try:
            async with self._open() as client:
                self._client, self._closing, self._ended = client, closing, ended
                self.protocol_version = client.protocol_version
                self.connects += 1
                started = True
                task_status.started()
                await closing.wait()
        except Exception as exc:  # boundary: a crashed transport ends this session only
            if not started:
                raise
            self.last_error = f"connection lost: {_describe(exc)}"
            logger.warning(
                "upstream session ended",
                extra={"server": self.server, "endpoint": self.label, "error": self.last_error},
            )
        finally:
            if self._client is client:
                self._client, self._closing = None, None
            ended.set()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Client]:
        spec = self.spec
        if spec.transport == "stdio":
            assert spec.command is not None
            params = StdioServerParameters(
                command=spec.command, args=list(spec.args), env=dict(spec.env) or None, cwd=spec.cwd
            )
            with logged_stderr(self.server) as errlog:  # closed after the child is reaped
                transport: Any = stdio_client(params, errlog=errlog)
                async with Client(transport, cache=None, client_info=CLIENT_INFO) as client:
                    yield client
        elif spec.transport == "sse":
            assert spec.url is not None
            transport = sse_client(spec.url, headers=dict(spec.headers) or None)
            async with Client(transport, cache=None, client_info=CLIENT_INFO) as client:
                yield client
        else:
            assert spec.url is not None
            timeout = httpx2.Timeout(30.0, read=300.0)
            async with httpx2.AsyncClient(
                headers=dict(spec.headers),
                timeout=timeout,
                limits=self._http_limits,
                event_hooks={"response": [_note_status]},
            ) as http:
                transport = streamable_http_client(spec.url, http_client=http)
                async with Client(transport, cache=None, client_info=CLIENT_INFO) as client:
                    yield client

    def _discard(self, client: Client) -> None:
        """Drop a broken session so the next call reconnects (its holder then cleans up)."""
        if self._client is client and self._closing is not None:
            self._closing.set()
            self._client, self._closing = None, None

    async def close(self) -> None:
        """End the session and wait until it is gone (stdio: the child is stopped and reaped)."""
        closing, ended = self._closing, self._ended
        self._client, self._closing = None, None
        if closing is not None:
            closing.set()
        if ended is not None:
            await ended.wait()

    def mark(self, *, ok: bool, error: str | None = None) -> None:
        """Record a health verdict and feed the breaker."""
        self.healthy = ok
        self.last_check = time.time()
        self.last_error = None if ok else error
        if ok:
            self.breaker.record_success()
        else:
            self.breaker.record_failure()


def _describe(exc: BaseException) -> str:
    """A one-line cause, unwrapping the task-group exception groups transports raise."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]
