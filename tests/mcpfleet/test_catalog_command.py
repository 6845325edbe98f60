"""`mcpfleet catalog validate` as an operator and CI run it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from mcpfleet.cli import app

from ..catalog.conftest import SHIPPED

runner = CliRunner()


def test_validate_passes_on_the_shipped_catalog_and_summarises_it() -> None:
    result = runner.invoke(app, ["catalog", "validate", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "10 servers" in result.output
    assert "opnsense" in result.output


def test_a_schema_pattern_in_a_problem_prints_as_written(catalog_copy: Path) -> None:
    """``[a-z]`` in a JSON Schema pattern is data, not rich markup: it must not vanish."""
    caddy = catalog_copy / "servers" / "caddy.yaml"
    caddy.write_text(caddy.read_text().replace("name: caddy", "name: Caddy_Server", 1))
    result = runner.invoke(app, ["catalog", "validate", str(catalog_copy)])
    assert result.exit_code == 1
    assert (
        f"{caddy}:2:3: server.name: 'Caddy_Server' does not match "
        "'^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$' (schema.pattern)"
    ) in result.output


def test_validate_fails_naming_file_line_and_field(
    broken_catalog: Callable[[str], Path],
) -> None:
    directory = broken_catalog("many-problems-in-one-run")
    result = runner.invoke(app, ["catalog", "validate", str(directory)])
    assert result.exit_code == 1
    assert f"{directory}/servers/adguard.yaml:6:3: server.imag: unknown field `imag`" in (
        " ".join(result.output.split())
    )
    assert "5 problem(s) in 4 file(s)" in result.output


def test_schema_write_requires_the_explicit_flag() -> None:
    result = runner.invoke(app, ["catalog", "schema"])
    assert result.exit_code == 2


def test_up_refuses_a_yaml_bomb_with_the_same_problem_line_as_validate(
    broken_catalog: Callable[[str], Path], tmp_path: Path
) -> None:
    """`mcpfleet up` loads the catalog the same way: one clear line, nothing started."""
    directory = broken_catalog("yaml-bomb")
    validated = runner.invoke(app, ["catalog", "validate", str(directory)])
    data_dir = tmp_path / "state"
    started = runner.invoke(
        app,
        [
            "up",
            "--port",
            "0",
            "--catalog",
            str(directory),
            "--data-dir",
            str(data_dir),
            "--local-servers",
            str(tmp_path / "none"),
        ],
    )
    assert validated.exit_code == started.exit_code == 1
    line = f"{directory}/servers/bomb.yaml:6:8: e[0]: alias *d brings the file past 10000 values"
    for result in (validated, started):
        assert line in " ".join(result.output.split()), result.output
        assert "yaml.too-many-values" in result.output
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)  # a clean exit, not an exception
    assert not data_dir.exists()  # nothing was started, not even the database
