"""The local fleet: every runtime service in one process tree on one machine, no cluster.

Embedded PostgreSQL + pgvector, the gateway with its stdio upstreams, triage (local
embedding model), the model router and discovery (file source) share one uvicorn server
and one database pool. Ctrl-C (SIGINT) or SIGTERM shuts it down gracefully: the gateway
drains, the audit writer flushes, upstream processes are stopped, PostgreSQL stops last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.markup import escape

from catalog import Catalog
from catalog.auth import Issuer
from catalog.model import HttpServer, RemoteServer, StdioServer
from mcpfleet.composition import (
    console_extension,
    discovery_extension,
    router_extension,
    triage_extension,
)
from mcpfleet.state import token_file
from runtime.db import Database, open_database
from runtime.discovery.config import DiscoveryConfig, repository_root
from runtime.gateway import GatewayConfig, create_app
from runtime.gateway.oauth import ResourceServer
from runtime.settings import Settings
from runtime.store import TokenNotFound, TokenStore

__all__ = ["LOCAL_TOKEN_NAME", "FleetFailed", "LocalFleet", "overlay_servers"]

LOCAL_TOKEN_NAME = "local-fleet"
UPSTREAM_WAIT = 30.0


class FleetFailed(Exception):
    """The fleet could not start; the message says why and where the log is."""


def overlay_servers(server_dirs: Sequence[Path]) -> int:
    """How many server files the local overlay adds to the catalog (``catalog/local``)."""
    return sum(len(list(Path(d).glob("*.yaml"))) for d in server_dirs)


@dataclass(frozen=True)
class LocalFleet:
    """What ``mcpfleet up`` runs, resolved from its flags.

    ``listener`` is the gateway's socket, bound before anything else starts (so a taken
    port is reported at once and ``port`` 0 means any free port); without it uvicorn binds
    ``host:port`` itself. ``overlay`` counts the servers the local overlay added.
    """

    settings: Settings
    host: str = "127.0.0.1"
    port: int = 8080
    endpoints_dir: Path | None = None
    proposals: str | None = None
    issuers: tuple[Issuer, ...] = ()
    """Issuers beside the catalog's (``mcpfleet up --issuer … --grant …``)."""
    listener: socket.socket | None = field(default=None, repr=False)
    overlay: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def discovery_config(self) -> DiscoveryConfig:
        """File source in the data dir; proposals as branches of the catalog's git clone."""
        endpoints = self.endpoints_dir or self.data_dir / "endpoints"
        endpoints.mkdir(parents=True, exist_ok=True)
        proposals = self.proposals
        if proposals is None:
            proposals = "local" if repository_root(self.settings.catalog) else "off"
        options: dict[str, Any] = {"proposals": proposals}  # pydantic checks the word
        return DiscoveryConfig(kubernetes="off", endpoints_dir=endpoints, **options)

    async def run(self, console: Console) -> None:
        """Start everything, report where it is, serve until a signal, then stop cleanly."""
        catalog = self.settings.loaded_catalog
        local = _locally_runnable(catalog)
        console.print(
            "[green]✓[/green] " + escape(_catalog_line(self.settings, len(catalog.servers),
                                                      self.overlay, local)),
            highlight=False,
        )
        discovery = self.discovery_config()
        async with contextlib.AsyncExitStack() as stack:
            with console.status("Starting PostgreSQL + pgvector and applying migrations …"):
                db = await stack.enter_async_context(open_database(self.settings))
            where = "DATABASE_URL" if self.settings.database_url else self.data_dir / "postgres"
            console.print(f"[green]✓[/green] PostgreSQL + pgvector ready ({escape(str(where))})")
            token = await _issue_token(db, self.data_dir)
            app = self._app(db, discovery)
            server = _Server(
                uvicorn.Config(
                    app,
                    host=self.host,
                    port=self.port,
                    log_config=None,
                    lifespan="on",
                    timeout_graceful_shutdown=10,
                )
            )
            sockets = [self.listener] if self.listener is not None else None
            serving = asyncio.create_task(server.serve(sockets), name="uvicorn")
            with console.status(
                "Starting gateway, model router, triage (loading the embedding model) and "
                "discovery …"
            ):
                while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers only a flag
                    await asyncio.sleep(0.05)
            if serving.done():
                with contextlib.suppress(SystemExit):  # uvicorn exits when start-up fails
                    await serving
                log = self.data_dir / "mcpfleet.log"
                raise FleetFailed(f"the gateway did not start; the reason is in {log}")
            with console.status("Connecting upstream MCP servers …"):
                servers = await _wait_for_upstreams(self.url, token, set(local))
            self._announce(console, token, servers, discovery)
            await serving
        console.print("[green]✓[/green] stopped cleanly: audit and query records flushed")

    def _app(self, db: Database, discovery: DiscoveryConfig) -> Any:
        catalog = self.settings.loaded_catalog
        triage, _ = triage_extension(self.settings)
        config = GatewayConfig.from_catalog(catalog, local=True, public_url=self.url, auth=True)
        config = replace(config, oauth=self.resource_server())
        return create_app(
            self.settings,
            config,
            extensions=[
                router_extension(self.settings),
                triage,
                discovery_extension(self.settings, discovery),
                console_extension(self.settings, public_url=self.url),
            ],
            database=db,
        )

    def resource_server(self) -> ResourceServer | None:
        """The catalog's issuers and the command line's, for tokens issued for this URL.

        The resource is always the local ``/mcp`` (clients reach it there; RFC 9728 wants the
        two to match): the catalog's ``gateway.auth.resource`` names the deployed gateway.
        """
        auth = self.settings.loaded_catalog.platform.gateway.auth
        issuers = [*auth.issuers, *self.issuers]
        local = auth.model_copy(update={"resource": None, "issuers": issuers})
        return ResourceServer.from_catalog(local, self.url)

    def _announce(
        self,
        console: Console,
        token: str,
        servers: list[dict[str, Any]],
        discovery: DiscoveryConfig,
    ) -> None:
        token_path = token_file(self.data_dir)
        url = escape(self.url)
        console.print(f"\n[bold green]mcpfleet local fleet is up[/bold green] at {url}")
        console.print(f"  console    {url}/   (sign in with the token below)")
        console.print(f"  MCP        {url}/mcp   (streamable HTTP, both protocol revisions)")
        console.print(f"  REST       {url}/api/v1   (reference: {url}/docs)")
        console.print(f"  registry   {url}/v0/servers")
        console.print(f"  metrics    {url}/metrics")
        console.print(f"  token      {token}   (saved to {escape(str(token_path))})")
        oauth = self.resource_server()
        if oauth is not None:
            for issuer in oauth.issuers:
                scopes = ", ".join(issuer.scopes()) or "claims"
                console.print(
                    f"  issuer     {escape(issuer.issuer)}: tokens for "
                    f"{escape(oauth.resource)} ({escape(scopes)})"
                )
        for row in servers:
            health = str(row.get("health", "unknown"))
            colour = "green" if health == "healthy" else "red"
            count = len(row.get("tools") or [])
            name = escape(str(row.get("name")))
            console.print(
                f"  server     {name}: [{colour}]{escape(health)}[/{colour}], {count} tools"
            )
        proposals = escape(discovery.proposals or "off")
        endpoints = escape(str(discovery.endpoints_dir))
        console.print(f"  discovery  endpoint files in {endpoints}; proposals: {proposals}")
        console.print("\nTry:")
        console.print(escape(f'  {_command()} query "how much disk space is free on /"'))
        curl = f'curl -H "Authorization: Bearer $(cat {token_path})" {self.url}/api/v1/servers'
        console.print(escape(f"  {curl}"), highlight=False)
        console.print("Ctrl-C stops everything.\n")


def _catalog_line(settings: Settings, total: int, overlay: int, local: list[str]) -> str:
    """``validate`` counts the catalog directory; ``up`` adds the local overlay: say both."""
    line = f"catalog {settings.catalog}: {total - overlay} catalog servers"
    if overlay:
        overlays = ", ".join(str(d) for d in settings.server_dirs)
        line += f" + {overlay} local servers ({overlays})"
    return line + f"; running on this machine: {', '.join(local) or 'none'}"


def _command() -> str:
    """How this shell reaches ``mcpfleet`` (``.venv/bin/mcpfleet`` when it is not on PATH)."""
    if shutil.which("mcpfleet"):
        return "mcpfleet"
    invoked = Path(sys.argv[0])
    return str(invoked) if invoked.name == "mcpfleet" else f"{sys.executable} -m mcpfleet"


class _Server(uvicorn.Server):
    """uvicorn's graceful stop on SIGINT/SIGTERM, without re-raising the signal afterwards,
    so the database and the embedded PostgreSQL close in order behind it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self.captured = list(self._captured_signals)
                self._captured_signals.clear()


def _locally_runnable(catalog: Catalog) -> list[str]:
    return [
        s.name
        for s in catalog.servers
        if isinstance(s, RemoteServer)
        or (isinstance(s, StdioServer | HttpServer) and s.local is not None)
    ]


async def _issue_token(db: Database, data_dir: Path) -> str:
    """A fresh all-servers admin token for this run (the operator's own: it signs in to the
    console and manages tokens there); the previous run's one is revoked."""
    store = TokenStore(db)
    with contextlib.suppress(TokenNotFound):
        await store.revoke(LOCAL_TOKEN_NAME)
    issued = await store.create(LOCAL_TOKEN_NAME, admin=True)
    path = token_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(issued.token + "\n")
    return issued.token


async def _wait_for_upstreams(url: str, token: str, wanted: set[str]) -> list[dict[str, Any]]:
    """The registry rows once every local server is healthy (or the wait runs out).

    Polls the open health endpoint, so waiting spends none of the token's rate limit.
    """
    async with httpx.AsyncClient(base_url=url, timeout=5.0) as http:
        deadline = asyncio.get_running_loop().time() + UPSTREAM_WAIT
        while asyncio.get_running_loop().time() < deadline:
            try:
                health = (await http.get("/api/v1/health")).json()
            except (httpx.HTTPError, ValueError) as exc:
                logging.getLogger(__name__).debug("health not ready: %s", exc)
            else:
                if health.get("serversUp", 0) >= len(wanted):
                    break
            await asyncio.sleep(0.25)
        response = await http.get("/api/v1/servers", headers={"Authorization": f"Bearer {token}"})
        rows = _server_rows(response.json()) if response.status_code == 200 else []
    return [r for r in rows if r.get("name") in wanted] or rows


def _server_rows(body: Any) -> list[dict[str, Any]]:
    rows = body.get("servers", body) if isinstance(body, dict) else body
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
