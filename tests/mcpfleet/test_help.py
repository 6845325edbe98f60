"""Every help screen reads as plain usage, and the command line starts light.

Help text is what a first-time user reads; typer versions differ in how they render it
(0.27+ prints required arguments as ``{file}``, 0.29+ types every flag as ``<bool>``),
so every command's ``--help`` is checked, not a sample.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mcpfleet.cli import app

runner = CliRunner()
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|<(bool|int|str|path|text|float)>")


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path of the click tree typer builds (typer bundles its own click)."""
    yield path
    for name, command in sorted(getattr(group, "commands", {}).items()):
        yield from _commands(command, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_every_command_is_covered() -> None:
    names = {" ".join(c) for c in COMMANDS}
    expected = {"up", "query", "render", "plan", "triage eval", "token create", "serve gateway"}
    assert expected <= names


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "mcpfleet")
def test_help_shows_no_type_placeholders(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert not PLACEHOLDER.search(result.output), PLACEHOLDER.search(result.output)


def test_triage_eval_help_explains_the_file_format_itself() -> None:
    text = " ".join(runner.invoke(app, ["triage", "eval", "--help"]).output.split())
    for field in ('"id"', '"query"', '"route"', '"tool"', '"alternatives"'):
        assert field in text
    assert "tool, direct, escalate or context" in text
    assert "eval/FORMAT.md" in text
    assert "shared/" not in text


def test_the_command_line_starts_without_loading_the_runtime() -> None:
    """What lets ``mcpfleet up`` refuse a taken port at once (and ``--help`` answer fast)."""
    probe = (
        "import sys, mcpfleet.cli; heavy = {'catalog', 'runtime', 'components', 'fastapi', "
        "'mcp', 'pydantic', 'httpx', 'uvicorn', 'numpy', 'psycopg', 'pulumi'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
