"""The Pulumi program itself: config in, the whole fleet out, secrets only where they belong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from catalog import load_catalog
from components.render import Rendering
from components.secret_refs import required_keys
from components.secrets import MissingSecretsError

from .conftest import REPO, Run

CANARY = "canary-5e1d-never-outside-a-secret"


def _pulumi_backend_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(REPO / "catalog", target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    platform = target / "platform.yaml"
    text = platform.read_text()
    assert "backend: infisical" in text
    platform.write_text(text.replace("backend: infisical", "backend: pulumi", 1))
    return target


def _all_secrets(catalog_dir: Path) -> dict[str, dict[str, str]]:
    keys = required_keys(load_catalog(catalog_dir))
    return {name: {key: f"{CANARY}:{name}:{key}" for key in keys} for name, keys in keys.items()}


def test_the_program_builds_the_fleet_from_the_shipped_catalog_with_no_config(
    run_stack: Run,
) -> None:
    rendering, program = run_stack()
    assert len(rendering.objects) == 122
    fleet = program["fleet"]
    assert fleet.gateway_ip == "10.30.0.91"
    assert fleet.gateway_url == "http://10.30.0.91:8080"
    assert fleet.server_endpoints["unifi"] == [
        "http://unifi-mcp.mcp-system.svc.cluster.local:3000/mcp"
    ]
    assert rendering.of_kind("InfisicalSecret")
    assert rendering.of_kind("Secret") == []


def test_secret_config_values_appear_in_secret_objects_and_nowhere_else(
    run_stack: Run, tmp_path: Path
) -> None:
    catalog_dir = _pulumi_backend_catalog(tmp_path)
    rendering, _ = run_stack(catalogDir=str(catalog_dir), secrets=_all_secrets(catalog_dir))
    holders = set()
    for record in rendering.records:
        if CANARY in json.dumps(record.inputs):
            holders.add(record.type)
            assert set(record.inputs) - {"stringData"} >= {"apiVersion", "kind", "metadata"}
            assert CANARY not in json.dumps(
                {k: v for k, v in record.inputs.items() if k != "stringData"}
            )
            assert ("stringData",) in record.secret_paths
    assert holders == {"kubernetes:core/v1:Secret"}
    secrets = {o.object_name for o in rendering.of_kind("Secret")}
    assert "mcpfleet-secrets-database" in secrets
    out = tmp_path / "out"
    rendering.write(out)
    assert not [f for f in out.rglob("*.yaml") if CANARY in f.read_text()]


def test_a_missing_secret_fails_the_program_with_the_command_to_set_it(
    run_stack: Run, tmp_path: Path
) -> None:
    catalog_dir = _pulumi_backend_catalog(tmp_path)
    secrets = _all_secrets(catalog_dir)
    del secrets["router"]["GOOGLE_API_KEY"]
    with pytest.raises(MissingSecretsError, match=r"secrets\.router\.GOOGLE_API_KEY"):
        run_stack(catalogDir=str(catalog_dir), secrets=secrets)


def test_the_program_still_renders_after_a_failed_run(run_stack: Run) -> None:
    rendering, _ = run_stack()
    assert isinstance(rendering, Rendering) and len(rendering.objects) == 122


def test_in_cluster_config_drops_the_kubectl_context_from_the_provider(run_stack: Run) -> None:
    default, _ = run_stack()
    inside, _ = run_stack(inCluster="true")

    def context(rendering: Rendering) -> object:
        (provider,) = [r for r in rendering.records if r.type == "pulumi:providers:kubernetes"]
        return provider.inputs.get("context")

    assert context(default) == "admin@monitoring"
    assert context(inside) is None
