"""What a source reports: an MCP endpoint it has seen, and the events that carry it.

Sources (the Kubernetes watch, the endpoints directory) only describe; the discovery
service decides what to probe, record and propose. An endpoint whose description is
broken is still reported, with ``problem`` set, so the registry can show why it is
ignored instead of silently dropping it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Literal

from catalog.model import DNS_LABEL

__all__ = [
    "Endpoint",
    "Event",
    "Gone",
    "Seen",
    "Snapshot",
    "TransportName",
    "tags_from_capabilities",
]

TransportName = Literal["streamable-http", "sse", "stdio"]
_MCP_CAPABILITIES = frozenset({"tools", "resources", "prompts"})


@dataclass(frozen=True)
class Endpoint:
    """One MCP server as a source sees it: where to reach it and what its owner claims.

    ``name`` is the catalog name the server would have (a DNS label); a Kubernetes
    Service is also known by the seed's ``namespace/name`` (:attr:`qualified_name`).
    ``kind`` is the catalog kind the owner claims (``http`` unless annotated otherwise;
    the seed's ``standard``/``kmcp``/``toolhive`` arrive here already mapped).
    """

    name: str
    source: str
    origin: str
    transport: TransportName = "streamable-http"
    url: str | None = None
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    kind: str = "http"
    capabilities: tuple[str, ...] = ()
    description: str | None = None
    image: str | None = None
    package: str | None = None
    namespace: str | None = None
    service: str | None = None
    port: int | None = None
    path: str | None = None
    problem: str | None = None

    @property
    def qualified_name(self) -> str | None:
        """The seed plan's registry name for a Kubernetes Service: ``namespace/name``."""
        if self.namespace and self.service:
            return f"{self.namespace}/{self.service}"
        return None

    @property
    def target(self) -> str:
        """Where the probe connects: the URL, or the command line for stdio."""
        return self.url if self.url is not None else " ".join(self.command)

    def fingerprint(self) -> str:
        """Stable hash of everything that changes what a probe would find.

        A new event with the same fingerprint needs no re-probe; a changed annotation,
        port, image or command does.
        """
        data = asdict(self)
        data["env"] = dict(sorted(self.env.items()))
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Seen:
    """An endpoint was added or changed (or re-listed, when ``refresh`` is true)."""

    endpoint: Endpoint
    refresh: bool = False


@dataclass(frozen=True)
class Gone:
    """The source no longer serves the endpoint called ``name``."""

    source: str
    name: str


@dataclass(frozen=True)
class Snapshot:
    """A full listing from one source: anything it reported before and not now is gone."""

    source: str
    endpoints: tuple[Endpoint, ...]


Event = Seen | Gone | Snapshot


def tags_from_capabilities(capabilities: tuple[str, ...]) -> list[str]:
    """Catalog tags from the capabilities an owner claims, minus MCP's own capability words."""
    return [c for c in capabilities if c not in _MCP_CAPABILITIES and re.match(DNS_LABEL, c)]
