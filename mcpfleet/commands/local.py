"""``mcpfleet up`` and ``mcpfleet query``: the local fleet on this machine, and asking it."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from mcpfleet.commands.catalog import catalog_or_exit
from mcpfleet.state import token_file

if TYPE_CHECKING:  # the CLI starts without the runtime, pydantic or the catalog model
    from catalog.auth import Issuer

__all__ = ["cli_issuer", "listen", "query", "up"]


def _arguments(pairs: list[str]) -> dict[str, object]:
    """``NAME=VALUE`` pairs as tool arguments (VALUE parsed as JSON when it is JSON)."""
    out: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--arg")
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out

DEFAULT_LOCAL_SERVERS = Path("catalog/local/servers")


def up(
    port: int = typer.Option(8080, help="Gateway port (0: any free port, printed)."),
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="State directory (env MCPFLEET_DATA_DIR; default .mcpfleet)."
    ),
    catalog_dir: Path | None = typer.Option(
        None, "--catalog", help="Catalog directory (env MCPFLEET_CATALOG; default catalog)."
    ),
    local_servers: Path = typer.Option(
        DEFAULT_LOCAL_SERVERS, help="Server files that run on this machine (the overlay)."
    ),
    endpoints_dir: Path | None = typer.Option(
        None, help="Discovery's endpoint files (default: DATA_DIR/endpoints)."
    ),
    proposals: str | None = typer.Option(
        None, help="local (branches in the catalog's git clone), github or off."
    ),
    issuer: str | None = typer.Option(
        None,
        envvar="MCPFLEET_ISSUER",
        help="Also accept access tokens from this OAuth issuer (its `iss`), issued for "
        "http://HOST:PORT/mcp; needs --grant. Issuers in platform.yaml apply too.",
    ),
    grants: list[str] = typer.Option(
        [],
        "--grant",
        envvar="MCPFLEET_GRANTS",
        help="SCOPE=GRANT[,GRANT…]: tokens from --issuer carrying SCOPE may use those servers "
        "and tools, e.g. 'mcp:read=*:*:ro' (repeatable; env: space-separated).",
    ),
) -> None:
    """Run the whole fleet on this machine: PostgreSQL, gateway, triage, router, discovery."""
    err = Console(stderr=True)
    # The port first: a second fleet (or anything else) on it is one line and exit 1, before
    # the database, the model or any server starts.
    listener = listen(host, port, err)
    from mcpfleet.local_fleet import FleetFailed, LocalFleet, overlay_servers
    from runtime.gateway.logs import configure_logging
    from runtime.settings import Settings

    server_dirs = (local_servers,) if local_servers.is_dir() else ()
    settings = Settings.with_overrides(
        data_dir=data_dir, catalog=catalog_dir, server_dirs=server_dirs
    )
    console = Console()
    try:
        catalog_or_exit(settings)  # load (and check) it before starting anything
        extra = cli_issuer(issuer, grants, console)
    except BaseException:
        listener.close()  # the fleet never took it over
        raise
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fleet = LocalFleet(
        settings,
        host=host,
        port=int(listener.getsockname()[1]),
        endpoints_dir=endpoints_dir,
        proposals=proposals,
        listener=listener,
        overlay=overlay_servers(server_dirs),
        issuers=(extra,) if extra else (),
    )
    log = settings.data_dir / "mcpfleet.log"
    # A file handler, closed by logging at exit: nothing logs into a closed file.
    configure_logging("INFO", path=log)  # the console shows progress, the file the rest
    console.print(f"[dim]logs: {escape(str(log))}[/dim]")
    try:
        asyncio.run(fleet.run(console))
    except FleetFailed as exc:
        err.print(f"[red]✗[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def listen(host: str, port: int, err: Console) -> socket.socket:
    """A listening socket on ``host:port`` for the gateway, or one line and exit 1.

    Binding before anything else starts means a taken port costs the user a second, not
    the half a minute the database and the embedding model take to start.
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = (
                f"port {port} on {host} is already in use (another `mcpfleet up`?); "
                "stop it, or choose another port: --port N (make up PORT=N)"
            )
        else:
            reason = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        err.print(f"[red]✗[/red] {escape(reason)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def cli_issuer(issuer: str | None, grants: list[str], console: Console) -> Issuer | None:
    """The issuer ``--issuer``/``--grant`` describe (named ``cli``), or exit 2 saying why."""
    if issuer is None:
        if grants:
            console.print("[red]✗[/red] --grant needs --issuer")
            raise typer.Exit(2)
        return None
    rules = []
    for grant in grants:
        scope, sep, allowed = grant.partition("=")
        if not sep or not scope or not allowed:
            console.print(f"[red]✗[/red] --grant {grant!r}: write SCOPE=GRANT[,GRANT…]")
            raise typer.Exit(2)
        rules.append({"scope": scope, "allow": [g.strip() for g in allowed.split(",")]})
    if not rules:
        console.print("[red]✗[/red] --issuer needs at least one --grant SCOPE=GRANT[,GRANT…]")
        raise typer.Exit(2)
    from pydantic import ValidationError

    from catalog.auth import Issuer

    try:
        return Issuer.model_validate({"name": "cli", "issuer": issuer, "access": rules})
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "issuer"
            message = str(error["msg"]).removeprefix("Value error, ")
            console.print(f"[red]✗[/red] --issuer/--grant ({where}): {message}")
        raise typer.Exit(2) from None


def query(
    text: str = typer.Argument(..., help="The question, in plain words."),
    url: str = typer.Option(
        "http://127.0.0.1:8080", envvar="MCPFLEET_URL", help="The gateway's address."
    ),
    token: str | None = typer.Option(
        None, envvar="MCPFLEET_TOKEN", help="API token (default: the local fleet's)."
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Where the local fleet keeps its token."
    ),
    tool: str | None = typer.Option(
        None,
        "--tool",
        metavar="SERVER/TOOL",
        help="Run this tool for the question (one of the candidates triage showed).",
    ),
    arg: list[str] = typer.Option(
        [],
        "--arg",
        metavar="NAME=VALUE",
        help="A tool argument; repeat for more. VALUE is JSON if it parses, else a string.",
    ),
    confirm: bool = typer.Option(
        False,
        "--confirm",
        help="Run the first candidate (or --tool) even if triage would not by itself, "
        "including a tool that may change state.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the whole JSON answer."),
) -> None:
    """Ask the fleet: triage decides whether a tool, a model or stored context answers.

    A tool runs by itself only when it is read-only and triage is confident; otherwise the
    answer lists the candidates and how to run one (--tool, --arg, --confirm).
    """
    import httpx

    err = Console(stderr=True)
    token_source = "--token / MCPFLEET_TOKEN"
    if token is None:
        directory = data_dir or Path(os.environ.get("MCPFLEET_DATA_DIR", ".mcpfleet"))
        path = token_file(directory)
        if not path.is_file():
            err.print(
                f"[red]✗[/red] no token: pass --token, set MCPFLEET_TOKEN, or run "
                f"`mcpfleet up` (it writes {escape(str(path))})",
                highlight=False,
            )
            raise typer.Exit(2)
        token = path.read_text(encoding="utf-8").strip()
        token_source = str(path)
    try:
        body_out: dict[str, object] = {"text": text, "confirm": confirm}
        if tool is not None:
            body_out["tool"] = tool
        if arg:
            body_out["arguments"] = _arguments(arg)
        response = httpx.post(
            f"{url.rstrip('/')}/api/v1/query",
            json=body_out,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120.0,
        )
    except httpx.HTTPError as exc:
        reason = f"cannot reach {url}: {exc}"
        err.print(f"[red]✗[/red] {escape(reason)}", highlight=False)
        raise typer.Exit(1) from None
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        if as_json and isinstance(body, dict):
            err.print_json(json.dumps(body))
        else:
            err.print(
                f"[red]✗[/red] {escape(_refusal(url, response.status_code, body, token_source))}",
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(1)
    out = Console()
    if as_json:
        out.print_json(json.dumps(body))
        return
    servers = ", ".join(body.get("servers") or []) or "-"
    out.print(
        escape(f"route {body.get('route')} · model {body.get('model') or '-'} · servers {servers}"),
        style="dim",
        highlight=False,
    )
    out.print(body.get("answer", ""), markup=False, highlight=False)
    if body.get("result") is not None and not body.get("answer"):
        out.print_json(json.dumps(body["result"]))


def _refusal(url: str, status: int, body: Any, token_source: str) -> str:
    """One line for an error answer, with what to do about a token the gateway refused."""
    from runtime.error_body import read_error

    error = read_error(status, body)
    if status == 401:
        return (
            f"the gateway at {url} refused the token from {token_source}: {error.reason} "
            "(`mcpfleet up` writes a fresh one to .mcpfleet/token on every start; "
            "`mcpfleet token create` issues others)"
        )
    return f"the gateway at {url} answered {error}"
