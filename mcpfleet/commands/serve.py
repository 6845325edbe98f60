"""``mcpfleet serve …``: run one runtime service in the foreground (what a pod runs).

One command per service: ``gateway`` here; ``triage``, ``router`` and ``discovery`` join
this group as further ``@app.command(...)`` functions that build their app and hand it
to :func:`run_service`, so every service logs JSON and shuts down gracefully the same way.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mcpfleet.commands.catalog import catalog_or_exit

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["app", "run_service", "served"]

app = typer.Typer(help="Run a runtime service in the foreground.", no_args_is_help=True)


# Options every service takes; the service's own port default comes from the catalog.
HOST = typer.Option("127.0.0.1", help="Address to bind (0.0.0.0 in a pod).")
CATALOG = typer.Option(None, "--catalog", help="Catalog directory (env MCPFLEET_CATALOG).")
DATA_DIR = typer.Option(None, "--data-dir", help="Local state directory (env MCPFLEET_DATA_DIR).")
NO_AUTH = typer.Option(
    False, "--no-auth", help="Accept requests without a token (loopback-only laptops)."
)
LOG_LEVEL = typer.Option(None, help="DEBUG, INFO, WARNING, ERROR.")


def _port_help(service: str) -> str:
    return f"Port (0: any free one, logged at start); default: the catalog's {service}.port."


class Mode(StrEnum):
    AUTO = "auto"
    LOCAL = "local"
    CLUSTER = "cluster"


def served(service: FastAPI) -> Any:
    """What uvicorn runs for ``service``: the app, reading ``curl -d`` JSON bodies as JSON
    (the seed plan's examples send JSON without a Content-Type)."""
    from runtime.request_bodies import CurlJsonBodies

    return CurlJsonBodies(service)


def run_service(service: FastAPI, *, host: str, port: int, log_level: str) -> None:
    """Serve ``service`` with uvicorn: JSON logs, graceful shutdown (lifespan closes all)."""
    import uvicorn

    from runtime.gateway.logs import configure_logging

    configure_logging(log_level)
    uvicorn.run(
        served(service),
        host=host,
        port=port,
        log_config=None,
        log_level=log_level.lower(),
        timeout_graceful_shutdown=30,
        proxy_headers=False,
    )


@app.command("gateway")
def gateway(
    host: str = HOST,
    port: int | None = typer.Option(None, help=_port_help("gateway")),
    catalog_dir: Path | None = CATALOG,
    data_dir: Path | None = DATA_DIR,
    mode: Mode = typer.Option(
        Mode.AUTO, help="local: start `local` commands over stdio; cluster: in-cluster URLs."
    ),
    public_url: str | None = typer.Option(
        None, help="The gateway's external URL, for the OAuth resource metadata."
    ),
    no_auth: bool = NO_AUTH,
    triage: bool = typer.Option(
        True, help="Host triage: /api/v1/query, /api/v1/triage, /api/v1/embed, find_tools."
    ),
    router_url: str | None = typer.Option(
        None, help="Model router for triage's escalations (token: MCPFLEET_TRIAGE_TOKEN)."
    ),
    log_level: str | None = LOG_LEVEL,
) -> None:
    """The MCP gateway: /mcp, the REST API, /metrics, and (by default) triage."""
    from mcpfleet.composition import gateway_app
    from runtime.gateway import in_cluster
    from runtime.settings import Settings

    settings = Settings.with_overrides(catalog=catalog_dir, data_dir=data_dir, log_level=log_level)
    catalog = catalog_or_exit(settings)
    local = not in_cluster() if mode is Mode.AUTO else mode is Mode.LOCAL
    try:
        service = gateway_app(
            settings,
            local=local,
            public_url=public_url,
            auth=not no_auth,
            triage=triage,
            router_url=router_url,
        )
    except ValueError as exc:  # a setting that cannot work, e.g. issuers without a resource
        typer.echo(f"✗ {exc}", err=True)
        raise typer.Exit(2) from None
    run_service(
        service,
        host=host,
        port=port if port is not None else catalog.platform.gateway.port,
        log_level=settings.log_level,
    )


@app.command("router")
def router(
    host: str = HOST,
    port: int | None = typer.Option(None, help=_port_help("router")),
    catalog_dir: Path | None = CATALOG,
    data_dir: Path | None = DATA_DIR,
    no_auth: bool = NO_AUTH,
    log_level: str | None = LOG_LEVEL,
) -> None:
    """The model router: /api/v1/complete, /api/v1/costs, /metrics (keys from the env)."""
    from runtime.router import create_app as create_router_app
    from runtime.settings import Settings

    settings = Settings.with_overrides(catalog=catalog_dir, data_dir=data_dir, log_level=log_level)
    catalog = catalog_or_exit(settings)
    run_service(
        create_router_app(settings, auth=not no_auth),
        host=host,
        port=port if port is not None else catalog.platform.router.port,
        log_level=settings.log_level,
    )


@app.command("discovery")
def discovery(
    host: str = HOST,
    port: int | None = typer.Option(None, help=_port_help("discovery")),
    catalog_dir: Path | None = CATALOG,
    data_dir: Path | None = DATA_DIR,
    kubernetes: str | None = typer.Option(None, help="Watch Services: auto, on or off."),
    endpoints_dir: Path | None = typer.Option(None, help="Directory of endpoint files."),
    proposals: str | None = typer.Option(None, help="github, local or off (default: catalog)."),
    git_repo: Path | None = typer.Option(None, help="local proposals: the git clone."),
    log_level: str | None = LOG_LEVEL,
) -> None:
    """Discovery: watch Services and endpoint files, probe, registry API, proposals."""
    from runtime.discovery.app import create_app as create_discovery_app
    from runtime.discovery.config import DiscoveryConfig
    from runtime.settings import Settings

    settings = Settings.with_overrides(catalog=catalog_dir, data_dir=data_dir, log_level=log_level)
    options: dict[str, Any] = {  # DiscoveryConfig (pydantic) checks each value
        "kubernetes": kubernetes,
        "endpoints_dir": endpoints_dir,
        "proposals": proposals,
        "git_repo": git_repo,
    }
    catalog = catalog_or_exit(settings)
    config = DiscoveryConfig(**{k: v for k, v in options.items() if v is not None})
    run_service(
        create_discovery_app(settings, config),
        host=host,
        port=port if port is not None else catalog.platform.discovery.port,
        log_level=settings.log_level,
    )


@app.command("triage")
def triage(
    host: str = HOST,
    port: int | None = typer.Option(None, help=_port_help("triage")),
    catalog_dir: Path | None = CATALOG,
    data_dir: Path | None = DATA_DIR,
    gateway_url: str | None = typer.Option(None, help="Gateway for tool calls (its REST API)."),
    router_url: str | None = typer.Option(None, help="Model router for escalations."),
    no_auth: bool = NO_AUTH,
    log_level: str | None = LOG_LEVEL,
) -> None:
    """Triage: /api/v1/triage, /api/v1/embed, /api/v1/query (tokens: MCPFLEET_TRIAGE_TOKEN)."""
    from mcpfleet.commands.triage import standalone_triage_app
    from runtime.settings import Settings

    settings = Settings.with_overrides(catalog=catalog_dir, data_dir=data_dir, log_level=log_level)
    catalog = catalog_or_exit(settings)
    run_service(
        standalone_triage_app(settings, gateway_url, router_url, auth=not no_auth),
        host=host,
        port=port if port is not None else catalog.platform.triage.port,
        log_level=settings.log_level,
    )
