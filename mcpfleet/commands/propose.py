"""``mcpfleet propose NAME …``: propose an MCP server for the catalog by hand.

The same path discovery takes on its own (probe → catalog entry → validation → forge),
so a hand-made proposal is held to the same rules and lands as the same kind of branch or
pull request, updated rather than duplicated when run again.
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from mcpfleet.commands.catalog import print_problems

__all__ = ["app", "propose"]

app = typer.Typer(help="Propose MCP servers for the catalog.")


@app.command("propose")
def propose(
    name: str = typer.Argument(..., help="Catalog name for the server (a DNS label)."),
    endpoint: str | None = typer.Option(None, "--endpoint", "-e", help="The server's MCP URL."),
    command: str | None = typer.Option(None, help="stdio: the command line, quoted."),
    kind: str | None = typer.Option(
        None,
        help="remote, http, stdio or cluster-api (default: stdio for --command, http with "
        "--image, else remote); the seed's standard, kmcp and toolhive work too.",
    ),
    transport: str = typer.Option("streamable-http", help="streamable-http or sse."),
    description: str | None = typer.Option(None, help="One line for the catalog."),
    image: str | None = typer.Option(None, help="Container image (http, stdio, cluster-api)."),
    package: str | None = typer.Option(None, help="Registry package (stdio)."),
    tag: list[str] = typer.Option([], "--tag", help="A catalog tag; repeatable."),
    probe: bool = typer.Option(True, help="Probe the endpoint for its tools first."),
    to: str | None = typer.Option(None, "--to", help="github, local (default: the catalog's)."),
    git_repo: Path | None = typer.Option(None, help="local: the git clone (default: catalog's)."),
    github_repository: str | None = typer.Option(None, help="github: owner/name."),
    base: str | None = typer.Option(None, help="Target branch (default: platform.gitops.branch)."),
    catalog_dir: Path = typer.Option(Path("catalog"), "--catalog", help="Catalog directory."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the entry; propose nothing."),
) -> None:
    """Probe a server, write its catalog entry, and open (or update) its proposal."""
    from pydantic import ValidationError

    from catalog import CatalogError, load_catalog
    from catalog.writer import render_server
    from runtime.discovery.app import build_proposer
    from runtime.discovery.config import DiscoveryConfig
    from runtime.endpoints.probe import Prober
    from runtime.proposals.discovered import proposal_for_new
    from runtime.proposals.errors import ProposalError
    from runtime.proposals.manual import ProposalRequest, propose_by_hand

    err = Console(stderr=True)
    try:
        request = ProposalRequest(
            name=name,
            kind=kind,  # type: ignore[arg-type]  # validated by the model
            endpoint=endpoint,
            command=shlex.split(command) if command else [],
            transport=transport,  # type: ignore[arg-type]
            description=description,
            image=image,
            package=package,
            tags=tag,
            probe=probe,
        )
        catalog = load_catalog(catalog_dir)
    except ValidationError as exc:
        for problem in exc.errors():
            field = ".".join(str(p) for p in problem["loc"]) or "request"
            message = escape(f"{field}: {problem['msg']}")
            err.print(f"[red]✗[/red] {message}", highlight=False)
        raise typer.Exit(2) from None
    except CatalogError as exc:
        print_problems(err, exc.problems)
        raise typer.Exit(1) from None

    if dry_run:
        try:
            entry = proposal_for_new(request.to_endpoint(), None).server
            typer.echo(render_server(entry), nl=False)
        except (ProposalError, CatalogError) as exc:
            err.print(f"[red]✗[/red] {escape(str(exc))}", highlight=False)
            raise typer.Exit(1) from None
        return

    overrides: dict[str, Any] = {  # DiscoveryConfig (pydantic) checks each value
        "proposals": to,
        "git_repo": git_repo,
        "github_repository": github_repository,
        "base_branch": base,
    }
    config = DiscoveryConfig(**{k: v for k, v in overrides.items() if v is not None})
    proposer, mode = build_proposer(config, catalog, catalog_dir)
    if proposer is None:
        err.print(f"[red]✗[/red] proposals are {escape(mode)}", highlight=False)
        raise typer.Exit(1)
    try:
        made = asyncio.run(propose_by_hand(request, prober=Prober(), proposer=proposer))
    except ProposalError as exc:
        err.print(f"[red]✗[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    if made.probe_error:
        err.print(
            f"[yellow]![/yellow] probe failed, proposed anyway: {escape(made.probe_error)}",
            highlight=False,
        )
    outcome = made.outcome
    tools = ", ".join(str(t["name"]) for t in made.proposal.tools) or "none listed"
    typer.echo(f"{outcome.status}: {outcome.branch}" + (f" {outcome.url}" if outcome.url else ""))
    typer.echo(f"tools: {tools}")
