"""``mcpfleet render`` and ``mcpfleet plan``: the stack's objects without a cluster.

Both run the stack's own components under Pulumi's mock runtime (no engine, no cluster,
no secrets), so what they show is what ``pulumi preview`` would plan to create; unlike a
preview they cannot show changes against what is already deployed.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import mcpfleet
from mcpfleet.commands.catalog import print_problems

if TYPE_CHECKING:
    from catalog import Catalog
    from components.checks import Finding
    from components.render import Rendering

# The compiler (Pulumi and pulumi-kubernetes, the `iac` extra) is imported inside the
# commands, so other commands, e.g. `mcpfleet serve` in the runtime image, which does not
# install it, start without it.

__all__ = ["app", "install_hint", "plan", "plan_table", "render"]

app = typer.Typer()
DEFAULT_CATALOG = Path("catalog")
MARKER = ".mcpfleet-render"
"""Marks a directory ``render`` wrote, so it may clear it before writing again."""


def install_hint(cwd: Path | None = None) -> str:
    """The command that installs the compiler into the environment running this command.

    mcpfleet is not on a package registry: it installs from a checkout, with this
    interpreter's pip (``.venv/bin/python -m pip …`` after ``make``), as an editable install
    of the checkout this package was loaded from.
    """
    here = (cwd or Path.cwd()).resolve()
    root = Path(mcpfleet.__file__).resolve().parents[1]
    python = Path(sys.executable)
    if python.is_relative_to(here):
        python = python.relative_to(here)
    if not (root / "pyproject.toml").is_file():
        return f"{python} -m pip install -e '<your mcpfleet checkout>[iac]'"
    target = "." if root == here else str(root)
    return f"{python} -m pip install -e '{target}[iac]'"


def _require_compiler() -> None:
    """Exit with how to install the compiler when the ``iac`` extra is missing."""
    try:
        import pulumi  # noqa: F401
        import pulumi_kubernetes  # noqa: F401
    except ImportError as exc:
        Console(stderr=True).print(
            f"[red]✗[/red] the compiler (the iac extra) is not installed: {exc.name} is "
            f"missing. Install it with: {escape(install_hint())}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2) from None


def _load(directory: Path) -> Catalog:
    from catalog import check_catalog

    catalog, problems = check_catalog(directory)
    if catalog is None:
        print_problems(Console(stderr=True), problems)
        raise typer.Exit(1)
    return catalog


def _findings(rendering: Rendering, catalog: Catalog, err: Console) -> list[Finding]:
    from components.checks import SchemaValidator, check_objects

    manifests = [o.manifest for o in rendering.kubernetes_objects]
    try:
        validator: SchemaValidator | None = SchemaValidator(
            catalog.platform.cluster.kubernetes_version
        )
    except RuntimeError as exc:
        err.print(f"[yellow]![/yellow] schema validation skipped: {escape(str(exc))}")
        validator = None
    return check_objects(manifests, validator)


def _prepare(out: Path) -> None:
    """Clear a directory an earlier render wrote; refuse any other non-empty one."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise typer.BadParameter(
                f"{out} is not empty and was not written by `mcpfleet render`; "
                "choose an empty or new directory",
                param_hint="--out",
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by `mcpfleet render`; safe to delete\n")


def _report(console: Console, rendering: Rendering, findings: list[Finding]) -> None:
    for warning in rendering.warnings:
        console.print(f"[yellow]![/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    for finding in findings:
        console.print(f"[red]✗[/red] {escape(str(finding))}", highlight=False, soft_wrap=True)


@app.command()
def render(
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the YAML files to."),
    catalog_dir: Path = typer.Option(DEFAULT_CATALOG, "--catalog", "-c", help="Catalog directory."),
    validate: bool = typer.Option(True, help="Check every object's schema and pod security."),
) -> None:
    """Write every object the stack would create, one YAML file each, grouped by component."""
    _require_compiler()
    from components.render import render_catalog

    err = Console(stderr=True)
    catalog = _load(catalog_dir)
    rendering = render_catalog(catalog)
    _prepare(out)
    files = rendering.write(out)
    findings = _findings(rendering, catalog, err) if validate else []
    _report(err, rendering, findings)
    groups = len({f.parent for f in files})
    typer.echo(f"wrote {len(files)} objects in {groups} component directories to {out}")
    if findings:
        raise typer.Exit(1)


def plan_table(rendering: Rendering) -> Table:
    """Component → the resources it creates, by kind."""
    table = Table(title="mcpfleet plan — resources the stack would create")
    table.add_column("component")
    table.add_column("resources")
    table.add_column("count", justify="right")
    by_group: dict[str, Counter[str]] = {}
    for obj in rendering.objects:
        by_group.setdefault(obj.group, Counter())[obj.kind] += 1
    for group in sorted(by_group):
        kinds = by_group[group]
        listed = ", ".join(f"{kind} x{n}" if n > 1 else kind for kind, n in sorted(kinds.items()))
        table.add_row(escape(group), escape(listed), str(sum(kinds.values())))
    table.caption = f"{len(rendering.objects)} resources in {len(by_group)} components"
    return table


@app.command()
def plan(
    catalog_dir: Path = typer.Option(DEFAULT_CATALOG, "--catalog", "-c", help="Catalog directory."),
) -> None:
    """Summarise what the stack would create, with warnings and prerequisites."""
    _require_compiler()
    from components.operators import prerequisites
    from components.render import render_catalog

    console = Console()
    catalog = _load(catalog_dir)
    rendering = render_catalog(catalog)
    findings = _findings(rendering, catalog, console)
    console.print(plan_table(rendering))
    for item in prerequisites(catalog):
        console.print(
            f"[cyan]•[/cyan] prerequisite: {escape(item)}", highlight=False, soft_wrap=True
        )
    _report(console, rendering, findings)
    if findings:
        raise typer.Exit(1)
