"""Keeps the server registry (``mcp_servers``) and the pool in step, both ways.

Out: every server the catalog gives the gateway is declared in the registry (endpoints
as URLs, like every other writer of the column), and each health round writes its health
and (when they changed) the tools it listed — triage and discovery read them there. In:
servers discovery registered that the catalog does not know become upstreams too, and
leave the pool when their row goes. Their declaration stays discovery's: the gateway
writes only their health and tools, so it never turns the URL it federates them by into
something it cannot read back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio
import mcp_types as types
from psycopg import Error as DatabaseError
from psycopg_pool import PoolTimeout

from runtime.gateway.upstream.pool import UpstreamPool
from runtime.gateway.upstream.spec import EndpointSpec, ServerSpec, Transport
from runtime.gateway.upstream.upstream import Upstream
from runtime.store.registry import ServerRecord, ServerRegistry

__all__ = ["RegistryBridge", "spec_from_record"]

logger = logging.getLogger(__name__)
STORE_ERRORS = (DatabaseError, PoolTimeout, OSError)


class RegistryBridge:
    """The gateway's side of the registry: declarations, health, tools, discovered servers."""

    def __init__(self, registry: ServerRegistry, base: Sequence[ServerSpec]) -> None:
        self.registry = registry
        self.base = tuple(base)
        self._tools_written: dict[str, tuple[types.Tool, ...]] = {}

    async def declare(self) -> None:
        """Declare the configured servers (kind, transport, endpoint URLs; stdio: the command)."""
        for spec in self.base:
            await self._declare(spec)

    async def _declare(self, spec: ServerSpec) -> None:
        await self.registry.upsert(
            spec.name,
            kind=spec.kind,
            transport=spec.endpoints[0].transport,
            endpoints=[endpoint.public_url or endpoint.label for endpoint in spec.endpoints],
            source=spec.source,
            in_catalog=spec.source == "catalog",
            description=spec.description,
        )

    async def on_checked(self, upstream: Upstream) -> None:
        """Write one server's health round; a database outage only costs a log line."""
        try:
            errors = [e.last_error for e in upstream.endpoints if e.last_error]
            await self.registry.set_health(
                upstream.name, upstream.health, error=errors[0] if errors else None
            )
            tools = upstream.tools
            if upstream.listing is not None and self._tools_written.get(upstream.name) != tools:
                await self.registry.set_tools(upstream.name, tools)
                self._tools_written[upstream.name] = tools
        except STORE_ERRORS as exc:
            logger.warning(
                "registry write failed", extra={"server": upstream.name, "error": str(exc)}
            )

    async def discovered(self) -> list[ServerSpec]:
        """Upstreams for the registry's discovered servers the configuration lacks."""
        known = {spec.name for spec in self.base}
        specs = []
        for record in await self.registry.list_servers():
            if record.source != "discovery" or record.name in known:
                continue
            spec = spec_from_record(record)
            if spec is not None:
                specs.append(spec)
        return specs

    async def follow(self, pool: UpstreamPool, interval: float) -> None:
        """Every ``interval`` seconds, add or drop discovered servers in the pool."""
        while True:
            try:
                await pool.sync([*self.base, *await self.discovered()])
            except STORE_ERRORS as exc:
                logger.warning("registry read failed", extra={"error": str(exc)})
            await anyio.sleep(interval)


def spec_from_record(record: ServerRecord) -> ServerSpec | None:
    """A discovered server as an upstream; only HTTP endpoints can be reached this way."""
    if record.transport not in ("streamable-http", "sse"):
        return None
    transport: Transport = "sse" if record.transport == "sse" else "streamable-http"
    urls = [url for url in map(_url, record.endpoints) if url is not None]
    if not urls:
        return None
    try:
        return ServerSpec(
            name=record.name,
            endpoints=tuple(EndpointSpec(transport=transport, url=url) for url in urls),
            description=record.description,
            kind=record.kind,
            source="discovery",
        )
    except ValueError as exc:
        logger.warning(
            "discovered server skipped", extra={"server": record.name, "error": str(exc)}
        )
        return None


def _url(entry: str) -> str | None:
    """An HTTP URL from a registry entry, also in the ``<transport>:<url>`` label form that
    earlier gateways wrote, so rows they left behind still federate."""
    for transport in ("streamable-http:", "sse:"):
        entry = entry.removeprefix(transport)
    return entry if entry.startswith(("http://", "https://")) else None
