"""``mcpfleet token …``: issue, list and revoke the gateway's bearer tokens.

``create`` prints the token alone on stdout (``TOKEN=$(mcpfleet token create --name ci)``);
everything else goes to stderr. The database is ``DATABASE_URL`` or, without it, the
embedded server in the data directory — the one ``mcpfleet up`` uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from catalog import Catalog, CatalogError
    from runtime.settings import Settings
    from runtime.store import TokenInfo

__all__ = ["app"]

app = typer.Typer(help="Issue, list and revoke API tokens for the gateway.", no_args_is_help=True)
T = TypeVar("T")

DATA_DIR = typer.Option(
    None, "--data-dir", help="Local state directory (env MCPFLEET_DATA_DIR; default .mcpfleet)."
)
CATALOG = typer.Option(
    None, "--catalog", help="Catalog directory (env MCPFLEET_CATALOG; default catalog)."
)


@app.command()
def create(
    name: str = typer.Option(..., "--name", help="Who the token is for (a person or a bot)."),
    scopes: str | None = typer.Option(
        None,
        "--scopes",
        help="Comma-separated grants: servers, or SERVER:TOOL patterns with * and an optional "
        ":ro (read-only tools only), e.g. grafana,kubernetes-prod:pods_*:ro; omit for all.",
    ),
    ttl: str | None = typer.Option(
        None, "--ttl", help="Lifetime such as 30d or 12h, or 'never' (default: the catalog's)."
    ),
    service: bool = typer.Option(
        False,
        "--service",
        help="For a service that calls tools for its users (triage on its own): it may name "
        "them in X-Mcpfleet-On-Behalf-Of, and the audit log records them.",
    ),
    admin: bool = typer.Option(
        False, "--admin", help="Grant the admin scope: may create and revoke tokens (console)."
    ),
    data_dir: Path | None = DATA_DIR,
    catalog: Path | None = CATALOG,
) -> None:
    """Issue a token and print it, alone, on stdout. It is shown once and stored hashed."""
    from catalog.access import parse_grant
    from runtime.db import open_database
    from runtime.settings import Settings
    from runtime.store import ServerRegistry, TokenStore

    settings = Settings.with_overrides(data_dir=data_dir, catalog=catalog)
    fleet = _load_catalog(settings)
    ttl_text = ttl if ttl is not None else fleet.platform.gateway.token_lifetime
    lifetime = _lifetime(ttl_text)
    wanted = None if scopes is None else [s.strip() for s in scopes.split(",") if s.strip()]

    async def issue() -> str:
        async with open_database(settings) as db:
            if wanted is not None:
                known = {s.name for s in fleet.servers}
                known |= {r.name for r in await ServerRegistry(db).list_servers()}
                named = {parse_grant(w).server for w in wanted}  # ValueError: how to write one
                unknown = sorted(s for s in named - known if "*" not in s)
                if unknown:
                    raise _Refused(
                        f"unknown server(s) in --scopes: {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(known))})"
                    )
            issued = await TokenStore(db).create(
                name, scopes=wanted, ttl=lifetime, service=service, admin=admin
            )
            return issued.token

    token = _run(issue)
    typer.echo(token)
    expiry = "never expires" if lifetime is None else f"expires in {ttl_text}"
    _err().print(
        escape(f"token for {name!r} created; it {expiry}. It will not be shown again."),
        highlight=False,
    )


@app.command("list")
def list_tokens(
    include_revoked: bool = typer.Option(False, "--all", help="Include revoked tokens."),
    data_dir: Path | None = DATA_DIR,
    catalog: Path | None = CATALOG,
) -> None:
    """Show tokens by name, prefix, scopes and dates (never the tokens themselves)."""
    from runtime.db import open_database
    from runtime.settings import Settings
    from runtime.store import TokenStore

    settings = Settings.with_overrides(data_dir=data_dir, catalog=catalog)

    async def fetch() -> list[TokenInfo]:
        async with open_database(settings) as db:
            return await TokenStore(db).list_tokens(include_revoked=include_revoked)

    tokens = _run(fetch)
    table = Table(title="API tokens")
    columns = (
        "name",
        "prefix",
        "scopes",
        "service",
        "admin",
        "expires",
        "last used",
        "created",
        "revoked",
    )
    for column in columns:
        table.add_column(column)
    table.add_column("revoked")
    for t in tokens:
        table.add_row(
            escape(t.name),
            escape(t.prefix + "…"),
            escape(", ".join(t.scopes)) if t.scopes is not None else "all servers",
            "yes" if t.service else "",
            "yes" if t.admin else "",
            _when(t.expires_at, "never"),
            _when(t.last_used_at, "-"),
            _when(t.created_at, "-"),
            _when(t.revoked_at, ""),
        )
    Console(width=140).print(table)


@app.command()
def revoke(
    name: str = typer.Argument(..., help="Name of the live token to revoke."),
    data_dir: Path | None = DATA_DIR,
    catalog: Path | None = CATALOG,
) -> None:
    """Revoke a token; gateways stop accepting it within their cache TTL (seconds)."""
    from runtime.db import open_database
    from runtime.settings import Settings
    from runtime.store import TokenStore

    settings = Settings.with_overrides(data_dir=data_dir, catalog=catalog)

    async def drop() -> TokenInfo:
        async with open_database(settings) as db:
            return await TokenStore(db).revoke(name)

    _run(drop)
    _err().print(escape(f"revoked {name!r}"), highlight=False)


class _Refused(Exception):
    """A request the command turns down with a message (exit 1)."""


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work``; every expected failure becomes one line on stderr and exit code 1."""
    from catalog import CatalogError
    from runtime.db import DatabaseError
    from runtime.store import TokenNameTaken, TokenNotFound

    try:
        return asyncio.run(_call(work))
    except CatalogError as exc:
        _fail(_catalog_message(exc))
    except (_Refused, ValueError, TokenNameTaken, TokenNotFound, DatabaseError) as exc:
        _fail(str(exc))


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


def _load_catalog(settings: Settings) -> Catalog:
    from catalog import CatalogError

    try:
        return settings.loaded_catalog
    except CatalogError as exc:
        _fail(_catalog_message(exc))


def _catalog_message(exc: CatalogError) -> str:
    return (
        f"the catalog has {len(exc.problems)} problem(s); "
        "run `mcpfleet catalog validate` to see them"
    )


def _lifetime(text: str) -> timedelta | None:
    from catalog import parse_duration

    if text.strip().lower() == "never":
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        _fail(f"--ttl: {exc}, or 'never'")


def _when(at: datetime | None, empty: str) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at is not None else empty


def _fail(message: str) -> NoReturn:
    _err().print(f"[red]✗[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _err() -> Console:
    return Console(stderr=True)
