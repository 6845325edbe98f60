"""``create_app``: the gateway as one FastAPI app, everything opened in its lifespan.

Nothing is created at import or in ``create_app`` beyond routes: the database, stores,
upstream pool and the MCP SDK's session manager open in the lifespan (in that order)
and close in reverse, so in-flight calls finish, upstream sessions end (stdio children
are reaped), and the audit writer flushes every record before the database closes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import Route

from runtime.db import Database, open_database
from runtime.gateway.access import is_read_only
from runtime.gateway.aliases import install_seed_aliases
from runtime.gateway.auth import BearerTokens, TokenVerifier
from runtime.gateway.body_limit import BodyLimit
from runtime.gateway.calls import ToolCalls
from runtime.gateway.config import GatewayConfig, in_cluster
from runtime.gateway.fastpath import FastPath, FastPathRoute
from runtime.gateway.federation import Federation, GatewayTool
from runtime.gateway.handlers import install_error_handlers
from runtime.gateway.mcp_route import McpRoute
from runtime.gateway.metrics import GatewayMetrics
from runtime.gateway.oauth import JwtVerifier
from runtime.gateway.openapi import install_openapi
from runtime.gateway.registry import RegistryBridge
from runtime.gateway.rest import router
from runtime.gateway.security import MCP_PATH, Guard, IpAllowlist, SecurityMiddleware
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.settings import Settings
from runtime.store.audit import AuditWriter
from runtime.store.rate_limits import RateLimiter
from runtime.store.registry import ServerRegistry
from runtime.store.tokens import TokenStore

__all__ = ["GatewayExtension", "create_app"]

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
ErrorHandler = Callable[[Request, Any], Awaitable[Response]]


@dataclass(frozen=True)
class GatewayExtension:
    """What another service adds when it shares the gateway's process (see the package doc).

    ``routers`` are mounted behind the same security middleware; ``tools`` join the
    ``/mcp`` listing unprefixed; ``lifespan`` runs after the gateway's own resources are
    on ``app.state`` (``calls``, ``pool``, ``database``…) and ends before they close;
    ``error_handlers`` turn the extension's own exceptions into JSON answers (anything
    unhandled would be the gateway's generic 500).
    """

    routers: Sequence[APIRouter] = ()
    tools: Sequence[GatewayTool] = ()
    lifespan: Lifespan | None = None
    error_handlers: Mapping[type[Exception], ErrorHandler] = field(default_factory=dict)


def create_app(
    settings: Settings,
    config: GatewayConfig | None = None,
    *,
    extensions: Sequence[GatewayExtension] = (),
    database: Database | None = None,
) -> FastAPI:
    """The gateway app. ``config`` defaults to the settings' catalog (local unless in a pod);
    ``database`` lets a host process share an already open one (it is not closed here).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _Resources(app, settings, config, extensions, database) as _:
            yield

    app = FastAPI(
        title="mcpfleet gateway",
        version="0.1.0",
        description="One MCP endpoint and REST API in front of every MCP server in the fleet.",
        lifespan=lifespan,
        # FastAPI's Swagger/ReDoc pages load from a CDN (blank offline); the console
        # serves the API reference at /docs from local assets instead.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(router)
    install_seed_aliases(app)  # the seed plan's spellings: /health, -mcp names, curl -d
    for extension in extensions:
        for extra in extension.routers:
            app.include_router(extra)
        for error, handle in extension.error_handlers.items():
            app.add_exception_handler(error, handle)
    app.router.routes.append(
        Route(
            MCP_PATH,
            FastPathRoute(McpRoute()),
            methods=["POST"],  # stateless: no stream to GET, no session to DELETE (405)
            include_in_schema=False,
        )
    )
    app.add_middleware(SecurityMiddleware)
    app.add_middleware(BodyLimit)  # outermost: bounds every route, present and future
    return app


class _Resources:
    """The lifespan's body as an async context manager, opened in dependency order."""

    def __init__(
        self,
        app: FastAPI,
        settings: Settings,
        config: GatewayConfig | None,
        extensions: Sequence[GatewayExtension],
        database: Database | None,
    ) -> None:
        self.app, self.settings, self.config = app, settings, config
        self.extensions, self.database = extensions, database
        self.stack = AsyncExitStack()

    async def __aenter__(self) -> _Resources:
        async with AsyncExitStack() as stack:
            await self._open(stack)
            self.stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()

    async def _open(self, stack: AsyncExitStack) -> None:
        app, settings = self.app, self.settings
        db = self.database
        if db is None:  # not shared by a host process: the gateway opens its own
            db = await stack.enter_async_context(open_database(settings))
        config = self.config or GatewayConfig.from_catalog(
            settings.loaded_catalog, local=not in_cluster()
        )
        audit = AuditWriter(
            db, spill_dir=settings.data_dir, keep_argument_values=settings.audit_arguments
        )
        await audit.start()
        stack.push_async_callback(audit.aclose)
        registry = RegistryBridge(ServerRegistry(db), config.servers)
        await registry.declare()

        metrics = GatewayMetrics()
        pool = await stack.enter_async_context(
            UpstreamPool(config.servers, config.pool, on_checked=registry.on_checked)
        )
        metrics.watch(pool)
        calls = ToolCalls(pool, metrics, audit)
        federation = Federation(pool, calls, [t for e in self.extensions for t in e.tools])
        server = federation.server()
        manager = StreamableHTTPSessionManager(
            server,
            stateless=True,
            json_response=True,
            max_request_body_size=config.max_request_body,  # BodyLimit refuses first
        )
        await stack.enter_async_context(manager.run())
        fastpath = await stack.enter_async_context(
            FastPath(pool, calls, server_info=server.server_info_stamp)
        )
        access_tokens = None
        if config.auth and config.oauth is not None:
            # for the issuers' metadata and keys (never the clients' tokens); closed after
            # the background refresh below has stopped
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
            access_tokens = JwtVerifier(config.oauth, http)
        background = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(background.cancel_scope.cancel)
        background.start_soon(registry.follow, pool, config.pool.health_interval)
        verifier: TokenVerifier | None = None
        if config.auth:
            if access_tokens is not None:
                background.start_soon(access_tokens.run)  # first fetch now, then refresh
            tokens = TokenStore(
                db, cache_ttl=settings.token_cache_ttl, stale_ttl=settings.token_stale_ttl
            )
            stack.push_async_callback(tokens.aclose)
            verifier = BearerTokens(tokens, access_tokens)
        limiter = None
        if config.requests_per_minute is not None:
            limiter = RateLimiter(db, limit=config.requests_per_minute, window=60.0)
            stack.push_async_callback(limiter.aclose)

        app.state.settings = settings
        app.state.config = config
        app.state.database = db
        app.state.audit = audit
        app.state.metrics = metrics
        app.state.pool = pool
        app.state.calls = calls
        app.state.federation = federation
        app.state.mcp = manager
        app.state.fastpath = fastpath
        app.state.public_url = config.public_url
        app.state.oauth = config.oauth
        app.state.max_request_body = config.max_request_body
        app.state.guard = Guard(
            verifier=verifier,
            limiter=limiter,
            allowlist=IpAllowlist(config.ip_allowlist),
            public_url=config.public_url,
            oauth=config.oauth,
            read_only=lambda server, tool: is_read_only(pool, server, tool),
        )
        # Serve with the first health round done, so tools/list is complete from the start.
        with anyio.move_on_after(config.pool.connect_timeout + config.pool.list_timeout):
            await pool.wait_checked()
        for extension in self.extensions:
            if extension.lifespan is not None:
                await stack.enter_async_context(extension.lifespan(app))
