"""One upstream server: its endpoints, what it last listed, and which endpoint takes a call.

Least-in-flight balancing: the endpoint with the fewest calls in flight wins; ties go
round-robin so sequential traffic still spreads. Endpoints whose circuit is open are
skipped; endpoints the last health check failed are used only when nothing else is left.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from typing import Literal

import mcp_types as types

from runtime.gateway.upstream.endpoint import Endpoint, Listing
from runtime.gateway.upstream.spec import ServerSpec

__all__ = ["Upstream"]


class Upstream:
    """A server the gateway federates, with its pooled endpoints."""

    def __init__(self, spec: ServerSpec, endpoints: Sequence[Endpoint]) -> None:
        self.spec = spec
        self.endpoints = list(endpoints)
        self._listing: Listing | None = None
        self._by_name: dict[str, types.Tool] = {}
        self._turn = itertools.count()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def up(self) -> bool:
        """Federated only while some endpoint passed its last check and is not cut off."""
        return any(e.healthy and e.breaker.available() for e in self.endpoints)

    @property
    def health(self) -> Literal["healthy", "degraded", "unhealthy", "unknown"]:
        """The registry's word for it: every endpoint fine, some, none, or not checked yet."""
        verdicts = [e.healthy and e.breaker.available() for e in self.endpoints]
        if all(e.healthy is None for e in self.endpoints):
            return "unknown"
        if all(verdicts):
            return "healthy"
        return "degraded" if any(verdicts) else "unhealthy"

    @property
    def listing(self) -> Listing | None:
        """What the server last listed (``None`` until a health check got through)."""
        return self._listing

    @listing.setter
    def listing(self, listing: Listing) -> None:
        self._listing = listing
        self._by_name = {tool.name: tool for tool in listing.tools}

    @property
    def tools(self) -> tuple[types.Tool, ...]:
        return self._listing.tools if self._listing else ()

    def tool(self, name: str) -> types.Tool | None:
        return self._by_name.get(name)

    def is_read_only(self, tool: str) -> bool:
        """Safe to retry: the catalog says so, or the tool's own ``readOnlyHint`` does."""
        if tool in self.spec.read_only_tools:
            return True
        listed = self.tool(tool)
        return bool(listed and listed.annotations and listed.annotations.read_only_hint)

    def pick(self, exclude: Collection[Endpoint] = ()) -> Endpoint | None:
        """Claim the least-loaded usable endpoint, or ``None`` when every one is cut off."""
        usable = [e for e in self.endpoints if e not in exclude and e.breaker.available()]
        if not usable:
            return None
        preferred = [e for e in usable if e.healthy is not False] or usable
        start = next(self._turn) % len(preferred)
        rotated = preferred[start:] + preferred[:start]
        for endpoint in sorted(rotated, key=lambda e: e.in_flight):
            if endpoint.breaker.acquire():
                return endpoint
        return None
