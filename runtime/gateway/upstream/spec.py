"""What the gateway needs to know about an upstream: its endpoints and how to reach them.

Built from the catalog (in-cluster URLs come from :func:`catalog.naming.server_endpoints`;
local runs start ``local`` commands over stdio) and, later, from registry rows that
discovery added. Upstream credentials are read here, once, from the gateway's own
environment by the catalog's secret references — never from a client request.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from catalog.model import (
    Catalog,
    ClusterApiServer,
    HttpServer,
    RemoteServer,
    SecretRef,
    StdioServer,
)
from catalog.naming import server_endpoints, server_transport

__all__ = [
    "EndpointSpec",
    "ServerSpec",
    "Transport",
    "specs_from_catalog",
    "upstream_headers",
]

Transport = Literal["streamable-http", "sse", "stdio"]
AnyServer = ClusterApiServer | StdioServer | HttpServer | RemoteServer


@dataclass(frozen=True)
class EndpointSpec:
    """One way to reach a server: a URL (HTTP, SSE) or a command the gateway launches."""

    transport: Transport
    url: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    cwd: str | None = None

    def __post_init__(self) -> None:
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio endpoint needs a command")
        if self.transport != "stdio" and not self.url:
            raise ValueError(f"a {self.transport} endpoint needs a url")

    @property
    def label(self) -> str:
        """How logs, metrics and the REST API name this endpoint (never shows secrets)."""
        if self.transport == "stdio":
            return "stdio:" + " ".join([self.command or "", *self.args]).strip()
        return f"{self.transport}:{self.public_url}"

    @property
    def public_url(self) -> str | None:
        """The URL without credentials or query: what the registry stores (None for stdio)."""
        if self.url is None:
            return None
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class ServerSpec:
    """An upstream MCP server as the gateway federates it."""

    name: str
    endpoints: tuple[EndpointSpec, ...]
    description: str = ""
    kind: str = "remote"
    read_only_tools: frozenset[str] = frozenset()
    source: Literal["catalog", "discovery"] = "catalog"

    def __post_init__(self) -> None:
        if "__" in self.name:
            raise ValueError(f"server name {self.name!r} may not contain '__' (the tool separator)")
        if not self.endpoints:
            raise ValueError(f"server {self.name!r} has no endpoint")


def specs_from_catalog(
    catalog: Catalog, *, local: bool, environ: Mapping[str, str]
) -> list[ServerSpec]:
    """Every catalog server the gateway can reach in this mode, in catalog order.

    ``local=True`` is the one-laptop fleet: servers with a ``local`` command run as stdio
    children of the gateway, remote servers are reached by URL, and servers that only
    exist inside a cluster are left out. ``local=False`` uses the in-cluster Services.
    """
    specs: list[ServerSpec] = []
    for server in catalog.servers:
        endpoints = (
            _local_endpoints(server, environ)
            if local
            else _cluster_endpoints(server, catalog, environ)
        )
        if not endpoints:
            continue
        specs.append(
            ServerSpec(
                name=server.name,
                endpoints=tuple(endpoints),
                description=server.description,
                kind=server.kind,
                read_only_tools=frozenset(server.read_only_tools),
            )
        )
    return specs


PYTHON_COMMANDS = frozenset({"python", "python3"})


def local_command(command: str) -> str:
    """``python`` in a catalog ``local`` command is the interpreter running mcpfleet, so a
    Python server finds its packages whether or not a virtual environment is activated."""
    return sys.executable if command in PYTHON_COMMANDS else command


def _local_endpoints(server: AnyServer, environ: Mapping[str, str]) -> list[EndpointSpec]:
    if isinstance(server, StdioServer | HttpServer) and server.local is not None:
        env = {**server.env, **server.local.env, **_secret_env(server, environ)}
        return [
            EndpointSpec(
                transport="stdio",
                command=local_command(server.local.command),
                args=tuple(server.local.args),
                env=env,
            )
        ]
    if isinstance(server, RemoteServer):
        return _remote_endpoints(server, environ)
    return []


def _cluster_endpoints(
    server: AnyServer, catalog: Catalog, environ: Mapping[str, str]
) -> list[EndpointSpec]:
    if isinstance(server, RemoteServer):
        return _remote_endpoints(server, environ)
    transport = server_transport(server)
    return [
        EndpointSpec(transport=transport, url=url)
        for url in server_endpoints(server, catalog.platform)
    ]


def _remote_endpoints(server: RemoteServer, environ: Mapping[str, str]) -> list[EndpointSpec]:
    headers = upstream_headers(server.secrets, environ)
    return [
        EndpointSpec(transport=server.transport, url=url, headers=headers) for url in server.urls
    ]


def _secret_env(server: AnyServer, environ: Mapping[str, str]) -> dict[str, str]:
    """Secret values a locally launched server needs, copied from the gateway's environment."""
    return {ref.env: environ[ref.env] for ref in server.secrets if ref.env in environ}


def upstream_headers(secrets: Iterable[SecretRef], environ: Mapping[str, str]) -> dict[str, str]:
    """The ``Authorization`` header for a remote endpoint, from its token secret.

    A secret whose key is ``TOKEN`` or ends in ``_TOKEN`` is sent as a bearer token; one
    whose key is ``AUTHORIZATION`` is sent verbatim. The value comes from the gateway's
    environment variable the secret reference names (set on the gateway pod).
    """
    headers: dict[str, str] = {}
    for ref in secrets:
        key, value = ref.key, environ.get(ref.env)
        if not value:
            continue
        if key == "AUTHORIZATION":
            headers["Authorization"] = value
        elif key == "TOKEN" or key.endswith("_TOKEN"):
            headers.setdefault("Authorization", f"Bearer {value}")
    return headers
