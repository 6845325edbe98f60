"""``mcpfleet catalog …``: check the catalog and keep its schemas in step with the model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from catalog import Catalog, Problem
    from runtime.settings import Settings

# Command modules import the catalog and the runtime inside their commands, so the CLI
# starts (and `mcpfleet up` can refuse a taken port) without loading either.

__all__ = ["app", "catalog_or_exit", "print_problems", "summary_table"]

app = typer.Typer(help="Validate and inspect the catalog.", no_args_is_help=True)
DEFAULT_DIR = Path("catalog")


@app.command()
def validate(
    directory: Path = typer.Argument(DEFAULT_DIR, help="Catalog directory."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print problems only."),
) -> None:
    """Check every file against its schema and every cross-file rule; exit 1 on problems."""
    from catalog import check_catalog

    out = Console()
    catalog, problems = check_catalog(directory)
    if catalog is None:
        print_problems(Console(stderr=True), problems)
        raise typer.Exit(1)
    if not quiet:
        out.print(summary_table(catalog))
        out.print(
            f"[green]✓[/green] {escape(str(directory))} is valid: {len(catalog.servers)} "
            f"servers, {len(catalog.models.models)} models"
        )


@app.command()
def schema(
    write: bool = typer.Option(False, "--write", help="Regenerate catalog/schemas/*.json."),
) -> None:
    """Regenerate the JSON Schemas from the typed model (after changing catalog/model.py)."""
    from catalog.schemas import write_schemas

    if not write:
        typer.echo("pass --write to regenerate the schema files")
        raise typer.Exit(2)
    for path in write_schemas():
        typer.echo(path)


def catalog_or_exit(settings: Settings) -> Catalog:
    """The settings' catalog, or every problem in it on stderr and exit status 1."""
    from catalog import CatalogError

    try:
        return settings.loaded_catalog
    except CatalogError as exc:
        print_problems(Console(stderr=True), exc.problems)
        raise typer.Exit(1) from None


def print_problems(console: Console, problems: list[Problem]) -> None:
    """Every problem on its own line, file:line:column first so editors can jump to it.

    File names, fields and messages are data, not markup: a schema pattern such as
    ``^[a-z]…`` must print as written (rich would take ``[a-z]`` for a style tag).
    """
    for p in problems:
        field = f" [bold]{escape(p.field)}[/bold]:" if p.field else ""
        where = escape(f"{p.file}:{p.line}:{p.column}:")
        console.print(
            f"[red]✗[/red] {where}{field} {escape(p.message)} [dim]({escape(p.rule)})[/dim]",
            highlight=False,
            soft_wrap=True,
        )
    files = len({p.file for p in problems})
    console.print(f"[red]{len(problems)} problem(s) in {files} file(s)[/red]")


def summary_table(catalog: Catalog) -> Table:
    """The fleet at a glance: what runs, how it is reached, what it may touch."""
    table = Table(title=f"mcpfleet catalog — cluster {escape(catalog.platform.cluster.name)}")
    for column in ("server", "kind", "transport", "targets", "secrets", "read-only"):
        table.add_column(column)
    for s in catalog.servers:
        targets = ", ".join(t.host for t in s.targets) or "-"
        table.add_row(
            *(escape(cell) for cell in (s.name, s.kind, s.transport, targets)),
            str(len(s.secrets)),
            "yes" if s.read_only else "no",
        )
    kinds = Counter(s.kind for s in catalog.servers)
    table.caption = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    return table
