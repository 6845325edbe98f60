"""Ask an endpoint what it is: a real MCP handshake and ``tools/list``, under a deadline.

The registry records what the server actually answers, not what its annotations claim.
Failures are split the way kopf splits handler errors: a :class:`RetryableProbeError`
(nothing listening yet, a timeout, a 5xx) is tried again with backoff; a
:class:`PermanentProbeError` (not an MCP endpoint, a command that does not exist, a
broken description) waits until the endpoint changes.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import Implementation

from runtime.endpoints.endpoint import Endpoint

__all__ = [
    "PermanentProbeError",
    "ProbeError",
    "ProbeResult",
    "Prober",
    "RetryableProbeError",
]

_MAX_PAGES = 50
_CLIENT = Implementation(name="mcpfleet-discovery", version="0.1.0")
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_HINTS = {
    401: " (it wants credentials discovery does not have)",
    403: " (it refuses discovery)",
    404: " (no MCP endpoint at this path: check the path annotation)",
    405: " (no MCP endpoint at this path: check the path annotation)",
}


class ProbeError(Exception):
    """The endpoint could not be listed; ``permanent`` says whether retrying can help."""

    permanent = False


class RetryableProbeError(ProbeError):
    """Worth retrying with backoff: the server may be starting, overloaded or restarting."""


class PermanentProbeError(ProbeError):
    """Not worth retrying until the endpoint's description changes."""

    permanent = True


@dataclass(frozen=True)
class ProbeResult:
    """What the server said about itself, in plain JSON form for the registry."""

    tools: tuple[dict[str, Any], ...]
    protocol_version: str
    server_name: str | None = None
    server_version: str | None = None
    instructions: str | None = None

    @property
    def tool_names(self) -> list[str]:
        return sorted(str(tool["name"]) for tool in self.tools)


class Prober:
    """Probes endpoints one handshake at a time; safe to share between tasks."""

    def __init__(self, *, timeout: float = 10.0) -> None:
        self._timeout = timeout

    async def probe(self, endpoint: Endpoint) -> ProbeResult:
        """Connect, negotiate, list every page of tools, disconnect.

        Raises:
            RetryableProbeError: timeout, connection refused, 5xx, server closed early.
            PermanentProbeError: the description is broken or the peer is not MCP.
        """
        if endpoint.problem:
            raise PermanentProbeError(endpoint.problem)
        with _Seen(endpoint) as seen:
            try:
                with anyio.fail_after(self._timeout):
                    return await self._list(seen)
            except TimeoutError as exc:
                raise RetryableProbeError(
                    f"no answer from {endpoint.target} within {self._timeout:g}s"
                ) from exc
            except BaseExceptionGroup as group:
                if group.subgroup(lambda e: not isinstance(e, Exception)) is not None:
                    raise  # a cancellation or an exit inside the SDK's task group: not ours
                raise seen.classify(_first_leaf(group)) from group
            except (MCPError, httpx2.HTTPError, OSError, ValueError) as exc:
                raise seen.classify(exc) from exc

    async def _list(self, seen: _Seen) -> ProbeResult:
        async with (
            seen.transport() as transport,
            Client(transport, client_info=_CLIENT, cache=None) as client,
        ):
            tools: list[dict[str, Any]] = []
            cursor: str | None = None
            for _ in range(_MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools += [
                    t.model_dump(mode="json", by_alias=True, exclude_none=True)
                    for t in page.tools
                ]
                cursor = page.next_cursor
                if not cursor:
                    break
            info = client.server_info
            return ProbeResult(
                tools=tuple(tools),
                protocol_version=client.protocol_version,
                server_name=info.name if info else None,
                server_version=info.version if info else None,
                instructions=client.instructions,
            )


class _Seen:
    """One probe's transport plus what it observed: HTTP statuses, a child's stderr.

    The SDK turns HTTP failures into JSON-RPC errors and loses the status; recording
    it here is what lets a 404 read as permanent and a 503 as retryable.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.statuses: list[int] = []
        self.stderr: Any = None
        self._files = contextlib.ExitStack()

    def __enter__(self) -> _Seen:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._files.close()

    @contextlib.asynccontextmanager
    async def transport(self) -> AsyncIterator[Any]:
        """The SDK transport for the endpoint, not yet entered (the Client enters it)."""
        endpoint = self.endpoint
        if endpoint.transport == "stdio":
            command, *args = endpoint.command
            params = StdioServerParameters(command=command, args=args, env=dict(endpoint.env))
            self.stderr = self._files.enter_context(
                tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115
            )
            yield stdio_client(params, errlog=self.stderr)
            return

        async def record(response: httpx2.Response) -> None:
            self.statuses.append(response.status_code)

        hooks = {"response": [record]}
        if endpoint.transport == "sse":

            def factory(
                headers: dict[str, str] | None = None,
                timeout: httpx2.Timeout | None = None,
                auth: httpx2.Auth | None = None,
            ) -> httpx2.AsyncClient:
                return httpx2.AsyncClient(
                    headers=headers, timeout=timeout, auth=auth, event_hooks=hooks
                )

            yield sse_client(str(endpoint.url), httpx_client_factory=factory)
        else:
            async with httpx2.AsyncClient(timeout=httpx2.Timeout(30.0), event_hooks=hooks) as http:
                yield streamable_http_client(str(endpoint.url), http_client=http)

    def classify(self, exc: BaseException) -> ProbeError:
        where = self.endpoint.target
        status = self.statuses[-1] if self.statuses else 0
        if isinstance(exc, httpx2.HTTPStatusError):
            status = exc.response.status_code
        if status >= 400:
            cls = RetryableProbeError if status in _RETRYABLE_STATUS else PermanentProbeError
            return cls(f"{where} answered HTTP {status}{_HINTS.get(status, '')}")
        if isinstance(exc, httpx2.TransportError):
            return RetryableProbeError(f"cannot reach {where}: {type(exc).__name__} {exc}".strip())
        if isinstance(exc, FileNotFoundError | PermissionError | NotADirectoryError):
            return PermanentProbeError(f"cannot start {where}: {exc.strerror or exc}")
        if isinstance(exc, OSError):
            return RetryableProbeError(f"cannot reach {where}: {exc}")
        said = self._last_words()
        if isinstance(exc, MCPError):
            message = exc.error.message
            if "Connection closed" in message or exc.code in (-32000, -32603):
                return RetryableProbeError(f"{where}: {message}{said}")
            return PermanentProbeError(
                f"{where} is not a usable MCP server: {message} ({exc.code}){said}"
            )
        return RetryableProbeError(f"{where} ended the session: {type(exc).__name__} {exc}{said}")

    def _last_words(self) -> str:
        """The last line a stdio server wrote to stderr, quoted (it usually says why)."""
        if self.stderr is None:
            return ""
        try:
            self.stderr.flush()
            self.stderr.seek(0)
            lines = [line.strip() for line in self.stderr.read().splitlines() if line.strip()]
        except (OSError, ValueError):
            return ""
        return f" (it wrote: {lines[-1][:200]})" if lines else ""


def _first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    leaf: BaseException = group
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf
