"""Every upstream the gateway federates: sessions, health checks, balancing, retries.

The pool is an async context manager opened in the app's lifespan. It owns a task group
holding each endpoint's session and the health-check loop. A call picks an endpoint
(least in flight), bounds it with the call timeout, and on a connection failure or
timeout retries once on another endpoint — only when the tool is read-only, since a
write that may have run must never run twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import mcp_types as types
from anyio.abc import TaskGroup

from runtime.gateway.errors import (
    GatewayError,
    UnknownServer,
    UnknownTool,
    UpstreamFailed,
    UpstreamTimeout,
    UpstreamTooLarge,
    UpstreamUnavailable,
)
from runtime.gateway.upstream.breaker import CircuitBreaker
from runtime.gateway.upstream.endpoint import (
    Endpoint,
    EndpointDown,
    RequestTooLarge,
    UpstreamRejected,
)
from runtime.gateway.upstream.spec import ServerSpec
from runtime.gateway.upstream.upstream import Upstream

__all__ = ["PoolSettings", "UpstreamPool"]

logger = logging.getLogger(__name__)
OnChecked = Callable[[Upstream], Awaitable[None]]
T = TypeVar("T")
SHUTDOWN_GRACE = 5.0


@dataclass(frozen=True)
class PoolSettings:
    """Timeouts and breaker tuning; the catalog's ``gateway`` block fills the first two."""

    call_timeout: float = 30.0
    health_interval: float = 15.0
    connect_timeout: float = 10.0
    list_timeout: float = 10.0
    breaker_threshold: int = 3
    breaker_cool_down: float = 10.0


class UpstreamPool:
    """The upstream layer; used by the MCP endpoint, the REST API and (via a caller) triage."""

    def __init__(
        self,
        specs: Iterable[ServerSpec],
        settings: PoolSettings | None = None,
        *,
        on_checked: OnChecked | None = None,
    ) -> None:
        self.settings = settings or PoolSettings()
        self._on_checked = on_checked
        self._upstreams: dict[str, Upstream] = {}
        for spec in specs:
            self._upstreams[spec.name] = self._build(spec)
        self._stack: AsyncExitStack | None = None
        self._task_group: TaskGroup | None = None
        self._health_scope = anyio.CancelScope()
        self._checked = anyio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            self._task_group = await stack.enter_async_context(anyio.create_task_group())
            stack.push_async_callback(self._close_all)
            for upstream in self._upstreams.values():
                for endpoint in upstream.endpoints:
                    endpoint.bind(self._task_group)
            self._task_group.start_soon(self._health_loop)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task_group is not None and self._stack is not None
        self._health_scope.cancel()
        await self._stack.__aexit__(exc_type, exc, tb)
        self._task_group = self._stack = None

    async def _close_all(self) -> None:
        """Close every session gracefully, then cut off whatever outlives the grace period."""
        with anyio.move_on_after(SHUTDOWN_GRACE):
            async with anyio.create_task_group() as tg:
                for upstream in self._upstreams.values():
                    for endpoint in upstream.endpoints:
                        tg.start_soon(endpoint.close)
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()  # only stuck holders are left

    async def wait_checked(self) -> None:
        """Wait for the first round of health checks (start-up fills tools/list with it)."""
        await self._checked.wait()

    # ------------------------------------------------------------------ membership

    def _build(self, spec: ServerSpec) -> Upstream:
        s = self.settings
        endpoints = [
            Endpoint(
                spec.name,
                endpoint,
                breaker=CircuitBreaker(
                    threshold=s.breaker_threshold, cool_down=s.breaker_cool_down
                ),
                connect_timeout=s.connect_timeout,
            )
            for endpoint in spec.endpoints
        ]
        return Upstream(spec, endpoints)

    async def sync(self, specs: Iterable[ServerSpec]) -> None:
        """Make the pool match ``specs``: add new servers, replace changed, drop missing."""
        wanted = {spec.name: spec for spec in specs}
        for name in list(self._upstreams):
            current = self._upstreams[name]
            if wanted.get(name) != current.spec:
                del self._upstreams[name]
                async with anyio.create_task_group() as tg:
                    for endpoint in current.endpoints:
                        tg.start_soon(endpoint.close)
        for name, spec in wanted.items():
            if name not in self._upstreams:
                upstream = self._build(spec)
                if self._task_group is not None:
                    for endpoint in upstream.endpoints:
                        endpoint.bind(self._task_group)
                self._upstreams[name] = upstream
                if self._task_group is not None:
                    self._task_group.start_soon(self._check_upstream, upstream)

    def upstreams(self) -> list[Upstream]:
        """Every server, sorted by name (the federation's deterministic order)."""
        return [self._upstreams[name] for name in sorted(self._upstreams)]

    def get(self, server: str) -> Upstream:
        """The upstream called ``server``.

        Raises:
            UnknownServer: no such server in the fleet.
        """
        upstream = self._upstreams.get(server)
        if upstream is None:
            raise UnknownServer(f"no MCP server named {server!r} in the fleet", server=server)
        return upstream

    # ------------------------------------------------------------------ calls

    async def call_tool(
        self, server: str, tool: str, arguments: dict[str, Any] | None
    ) -> types.CallToolResult:
        """Forward a tool call with balancing, timeout, breaker and read-only retry.

        Raises:
            UnknownServer, UnknownTool: nothing by that name.
            UpstreamUnavailable: no endpoint can take the call (all circuits open).
            UpstreamTimeout: the (last) attempt outlived the call timeout.
            UpstreamFailed: the upstream broke mid-call or answered with a protocol error.
        """
        upstream = self.get(server)
        if upstream.listing is not None and upstream.tool(tool) is None:
            raise UnknownTool(f"server {server!r} has no tool {tool!r}", server=server, tool=tool)
        attempts = 2 if upstream.is_read_only(tool) else 1
        return await self.attempt(
            upstream, attempts, lambda endpoint: endpoint.call_tool(tool, arguments)
        )

    async def get_prompt(
        self, server: str, prompt: str, arguments: dict[str, str] | None
    ) -> types.GetPromptResult:
        """Forward ``prompts/get`` (read-only by nature, so retried once)."""
        upstream = self.get(server)
        return await self.attempt(
            upstream, 2, lambda endpoint: endpoint.get_prompt(prompt, arguments)
        )

    async def read_resource(self, server: str, uri: str) -> types.ReadResourceResult:
        """Forward ``resources/read`` (read-only by nature, so retried once)."""
        upstream = self.get(server)
        return await self.attempt(upstream, 2, lambda endpoint: endpoint.read_resource(uri))

    async def attempt(
        self, upstream: Upstream, attempts: int, send: Callable[[Endpoint], Awaitable[T]]
    ) -> T:
        tried: list[Endpoint] = []
        failure: GatewayError | None = None
        for _ in range(attempts):
            endpoint = upstream.pick(exclude=tried)
            if endpoint is None:
                break
            tried.append(endpoint)
            try:
                with anyio.fail_after(self.settings.call_timeout):
                    result = await send(endpoint)
            except TimeoutError:
                endpoint.breaker.record_failure()
                failure = UpstreamTimeout(
                    f"{upstream.name} did not answer within {self.settings.call_timeout:g}s",
                    server=upstream.name,
                )
            except EndpointDown as exc:
                endpoint.mark(ok=False, error=str(exc))
                failure = UpstreamFailed(f"{upstream.name}: {exc}", server=upstream.name)
            except RequestTooLarge as exc:
                endpoint.breaker.record_success()  # the endpoint is fine; the request is big
                raise UpstreamTooLarge(
                    f"{upstream.name} refused the request as too large: {exc}",
                    server=upstream.name,
                ) from exc
            except UpstreamRejected as exc:
                endpoint.breaker.record_success()
                raise UpstreamFailed(
                    f"{upstream.name} refused the request: {exc}", server=upstream.name
                ) from exc
            else:
                if endpoint.healthy:
                    endpoint.breaker.record_success()
                else:
                    endpoint.mark(ok=True)  # a served call is as good as a passed check
                return result
        if failure is not None:
            raise failure
        raise UpstreamUnavailable(
            f"no endpoint of {upstream.name} is available (all down or circuits open)",
            server=upstream.name,
        )

    # ------------------------------------------------------------------ health

    async def _health_loop(self) -> None:
        with self._health_scope:
            while True:
                await self.check()
                self._checked.set()
                await anyio.sleep(self.settings.health_interval)

    async def check(self) -> None:
        """Run one round of health checks on every endpoint now, concurrently."""
        async with anyio.create_task_group() as tg:
            for upstream in list(self._upstreams.values()):
                tg.start_soon(self._check_upstream, upstream)

    async def _check_upstream(self, upstream: Upstream) -> None:
        async with anyio.create_task_group() as tg:
            for endpoint in upstream.endpoints:
                tg.start_soon(self._check_endpoint, upstream, endpoint)
        if self._on_checked is not None and self._upstreams.get(upstream.name) is upstream:
            await self._on_checked(upstream)

    async def _check_endpoint(self, upstream: Upstream, endpoint: Endpoint) -> None:
        if not endpoint.breaker.acquire():
            return  # open and cooling down; the first check after the cool-down probes it
        try:
            with anyio.fail_after(self.settings.list_timeout):
                listing = await endpoint.list_all()
        except TimeoutError:
            endpoint.mark(ok=False, error=f"no listing within {self.settings.list_timeout:g}s")
        except EndpointDown as exc:
            endpoint.mark(ok=False, error=str(exc))
        else:
            endpoint.mark(ok=True)
            upstream.listing = listing
            return
        logger.warning(
            "upstream endpoint unhealthy",
            extra={
                "server": upstream.name,
                "endpoint": endpoint.label,
                "error": endpoint.last_error,
                "circuit": endpoint.breaker.state.value,
            },
        )
