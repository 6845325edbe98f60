"""`mcpfleet render` and `mcpfleet plan`, as a newcomer runs them with no cluster."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from mcpfleet.cli import app

from ..catalog.conftest import SHIPPED

runner = CliRunner()


def test_render_writes_every_object_grouped_by_component(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", "--out", str(out), "--catalog", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "wrote 122 objects in 22 component directories" in result.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml"))
    assert len(files) == 122
    assert "gateway/service-mcp-gateway.yaml" in files
    assert "server-opnsense/mcpserver-opnsense-mcp.yaml" in files
    assert "operators/helmrelease-toolhive-operator.yaml" in files
    gateway = (out / "gateway" / "service-mcp-gateway.yaml").read_text()
    assert "lbipam.cilium.io/ips: 10.30.0.91" in gateway


def test_render_replaces_its_own_output_but_refuses_other_directories(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["render", "--out", str(out), "--catalog", str(SHIPPED), "--no-validate"]
    assert runner.invoke(app, args).exit_code == 0
    (out / "gateway" / "stale.yaml").write_text("kind: Stale\n")
    assert runner.invoke(app, args).exit_code == 0
    assert not (out / "gateway" / "stale.yaml").exists()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    refused = runner.invoke(app, ["render", "--out", str(precious), "--catalog", str(SHIPPED)])
    assert refused.exit_code == 2
    assert "was not written by `mcpfleet render`" in " ".join(refused.output.split())
    assert (precious / "notes.txt").read_text() == "keep me"


def test_render_of_a_broken_catalog_lists_the_problems_and_writes_nothing(
    broken_catalog: Callable[[str], Path], tmp_path: Path
) -> None:
    directory = broken_catalog("many-problems-in-one-run")
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", "--out", str(out), "--catalog", str(directory)])
    assert result.exit_code == 1
    assert "unknown field `imag`" in result.output
    assert not out.exists()


def test_plan_summarises_components_and_lists_prerequisites_and_warnings() -> None:
    result = runner.invoke(app, ["plan", "--catalog", str(SHIPPED)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "122 resources in 22 components" in result.output
    assert "server-kubernetes-prod" in result.output
    assert "ClusterRole, ClusterRoleBinding, Deployment" in result.output
    assert "prerequisite: Cilium with LB-IPAM" in result.output


def test_plan_shows_warnings(catalog_copy: Path) -> None:
    models = catalog_copy / "models.yaml"
    models.write_text(
        models.read_text().replace(
            "http://ollama-triage.mcp-system.svc.cluster.local:11434",
            "http://ollama.mcp-system.svc:11434",
        )
    )
    result = runner.invoke(app, ["plan", "--catalog", str(catalog_copy)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "baseUrl host `ollama.mcp-system.svc`" in " ".join(result.output.split())


# The runtime image installs mcpfleet without the `iac` extra: a fresh interpreter with
# Pulumi made unimportable stands for it.
_WITHOUT_PULUMI = (
    "import sys; sys.modules['pulumi'] = None; sys.modules['pulumi_kubernetes'] = None; "
    "from mcpfleet.cli import main; sys.argv = ['mcpfleet', *sys.argv[1:]]; main()"
)


def _without_pulumi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_PULUMI, *args],
        cwd=SHIPPED.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_the_compiler_render_and_plan_say_how_to_install_it_from_the_checkout(
    tmp_path: Path,
) -> None:
    """mcpfleet is on no registry: the hint is this interpreter's pip, editable, this checkout."""
    python = Path(sys.executable)
    if python.is_relative_to(SHIPPED.parent):  # run from the checkout: .venv/bin/python
        python = python.relative_to(SHIPPED.parent)
    for command in (["render", "--out", str(tmp_path / "out")], ["plan"]):
        result = _without_pulumi(*command)
        assert result.returncode == 2, result.stderr
        assert f"Install it with: {python} -m pip install -e '.[iac]'" in result.stderr
        assert "pulumi is missing" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_the_runtime_commands_need_no_compiler() -> None:
    for command in (["serve", "gateway", "--help"], ["token", "--help"], ["up", "--help"]):
        result = _without_pulumi(*command)
        assert result.returncode == 0, result.stderr
