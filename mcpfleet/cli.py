"""The ``mcpfleet`` entry point: one command, a sub-command per job."""

from __future__ import annotations

import typer

from mcpfleet.commands import catalog, gitops, local, propose, render, serve, token, triage

__all__ = ["app", "main"]

app = typer.Typer(
    name="mcpfleet",
    help="Run a fleet of MCP servers on Kubernetes, with an AI front door, as code.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(render.app)  # `mcpfleet render` and `mcpfleet plan`
app.add_typer(gitops.app, name="gitops")  # `mcpfleet gitops publish` (Argo CD mode)
app.add_typer(triage.app, name="triage")
app.add_typer(serve.app, name="serve")
app.add_typer(token.app, name="token")
app.add_typer(propose.app)  # `mcpfleet propose`
app.command("up")(local.up)
app.command("query")(local.query)


def main() -> None:
    app()
