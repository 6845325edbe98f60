"""How a live server differs from its catalog entry, as data with reasons.

Reasons are the label values of ``mcpfleet_catalog_drift{server,reason}``:

* ``missing`` — the cluster no longer serves a server the catalog runs there;
* ``tools`` — the live tool list differs from the entry's ``tools`` (an empty ``tools``
  means "not recorded yet" and is not drift);
* ``image`` — the image behind the Service differs from the entry's ``image``;
* ``transport`` / ``endpoint`` — the Service speaks another transport or lives elsewhere.

Only ``tools`` and ``image`` can be fixed by an update proposal; the others need a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from catalog.model import ClusterApiServer, HttpServer, Platform, RemoteServer, StdioServer
from catalog.naming import server_endpoints, server_transport, service_host
from runtime.endpoints.endpoint import Endpoint

__all__ = ["PROPOSABLE", "REASONS", "DriftReport", "compare", "missing"]

AnyServer = ClusterApiServer | StdioServer | HttpServer | RemoteServer

REASONS = ("missing", "tools", "image", "transport", "endpoint")
PROPOSABLE = frozenset({"tools", "image"})


@dataclass(frozen=True)
class DriftReport:
    server: str
    tools_added: tuple[str, ...] = ()
    tools_removed: tuple[str, ...] = ()
    catalog_image: str | None = None
    live_image: str | None = None
    transport_changed: bool = False
    endpoints_changed: bool = False
    missing: bool = False

    @property
    def reasons(self) -> tuple[str, ...]:
        flags = {
            "missing": self.missing,
            "tools": bool(self.tools_added or self.tools_removed),
            "image": self.live_image is not None and self.live_image != self.catalog_image,
            "transport": self.transport_changed,
            "endpoint": self.endpoints_changed,
        }
        return tuple(reason for reason in REASONS if flags[reason])

    @property
    def proposable(self) -> bool:
        return bool(PROPOSABLE & set(self.reasons))

    def to_json(self) -> dict[str, Any]:
        """The registry's ``drift`` column: the shared keys plus discovery's own."""
        return {
            "tools_added": list(self.tools_added),
            "tools_removed": list(self.tools_removed),
            "endpoints_changed": self.endpoints_changed,
            "transport_changed": self.transport_changed,
            "missing": self.missing,
            "image": (
                {"catalog": self.catalog_image, "live": self.live_image}
                if "image" in self.reasons
                else None
            ),
            "reasons": list(self.reasons),
        }

    def describe(self) -> list[str]:
        """Sentences for a proposal body or a log line."""
        out = []
        if self.missing:
            out.append("the cluster no longer serves it")
        if self.tools_added:
            out.append(f"new tools: {', '.join(self.tools_added)}")
        if self.tools_removed:
            out.append(f"tools gone: {', '.join(self.tools_removed)}")
        if "image" in self.reasons:
            out.append(f"image is {self.live_image}, the catalog says {self.catalog_image}")
        if self.transport_changed:
            out.append("the Service speaks another transport than the catalog says")
        if self.endpoints_changed:
            out.append("the Service is not where the catalog expects it")
        return out


def compare(
    server: AnyServer, endpoint: Endpoint, live_tools: Iterable[str], platform: Platform
) -> DriftReport:
    """Drift between ``server`` (the catalog) and what ``endpoint`` serves now."""
    live = set(live_tools)
    recorded = set(server.tools)
    added = tuple(sorted(live - recorded)) if recorded else ()
    removed = tuple(sorted(recorded - live)) if recorded else ()
    catalog_image = getattr(server, "image", None)
    live_image = endpoint.image if catalog_image is not None else None
    transport_changed = endpoint.source == "kubernetes" and not isinstance(
        server, RemoteServer
    ) and endpoint.transport != server_transport(server)
    endpoints_changed = False
    if endpoint.source == "kubernetes" and endpoint.service and endpoint.namespace:
        url = f"http://{service_host(endpoint.service, endpoint.namespace)}:{endpoint.port}"
        url += endpoint.path or ""
        endpoints_changed = url not in server_endpoints(server, platform)
    return DriftReport(
        server=server.name,
        tools_added=added,
        tools_removed=removed,
        catalog_image=catalog_image,
        live_image=live_image,
        transport_changed=transport_changed,
        endpoints_changed=endpoints_changed,
    )


def missing(server: AnyServer) -> DriftReport:
    return DriftReport(server=server.name, missing=True)
