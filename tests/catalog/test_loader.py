"""The loader accepts the shipped fleet and reports every problem of a broken one precisely."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from catalog import CatalogError, check_catalog, load_catalog
from catalog.model import ClusterApiServer, HttpServer, StdioServer

from .conftest import BROKEN, SHIPPED

CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())


def test_the_shipped_catalog_describes_the_seed_fleet() -> None:
    catalog = load_catalog(SHIPPED)
    names = [s.name for s in catalog.servers]
    assert names == sorted(
        [
            "kubernetes-prod",
            "kubernetes-monitoring",
            "talos-prod",
            "talos-monitoring",
            "proxmox-ruapehu",
            "proxmox-carrick",
            "opnsense",
            "unifi",
            "adguard",
            "caddy",
        ]
    )
    platform = catalog.platform
    assert platform.namespace.name == "mcp-system"
    assert platform.namespace.pod_security == "restricted"
    assert platform.load_balancer.start == IPv4Address("10.30.0.90")
    assert platform.load_balancer.stop == IPv4Address("10.30.0.99")
    assert platform.load_balancer.gateway_ip == IPv4Address("10.30.0.91")
    assert platform.secrets.infisical is not None
    assert platform.secrets.infisical.project_slug == "monit-homelab"
    assert platform.gateway.rate_limit.requests_per_minute == 100
    assert platform.discovery.annotation_prefix == "mcp.shreck.io"
    assert platform.database.size == "100Gi"
    assert catalog.models.budget.daily_usd == 10


def test_every_server_kind_is_represented_by_the_right_servers() -> None:
    catalog = load_catalog(SHIPPED)
    assert isinstance(catalog.server("kubernetes-prod"), ClusterApiServer)
    assert isinstance(catalog.server("talos-prod"), ClusterApiServer)
    assert isinstance(catalog.server("opnsense"), StdioServer)
    assert isinstance(catalog.server("unifi"), HttpServer)
    with pytest.raises(KeyError):
        catalog.server("nope")


def test_model_rules_follow_the_seed_policy() -> None:
    models = load_catalog(SHIPPED).models
    by_task = {t: r.model for r in models.rules for t in r.task_types}
    assert by_task["summarization"] == "gemini-flash"
    assert {by_task[t] for t in ("reasoning", "code", "analysis")} == {"claude-sonnet"}
    assert by_task["classification"] == "claude-haiku"
    long_context = [r for r in models.rules if r.min_context_tokens]
    assert long_context[0].min_context_tokens == 100_000
    assert long_context[0].model == "gemini-flash"
    assert models.default_model == "gemini-flash"


def test_no_secret_value_is_in_the_catalog() -> None:
    """Secrets appear only as references: an env name, a backend path and a key."""
    catalog = load_catalog(SHIPPED)
    secretish = ("_PASSWORD", "_SECRET", "_API_KEY", "_TOKEN_VALUE", "KUBECONFIG")
    for server in catalog.servers:
        referenced = {ref.env for ref in server.secrets}
        assert not referenced & set(server.env), server.name
        for name in server.env:
            assert not name.endswith(secretish), f"{server.name}: {name} belongs in secrets"


@pytest.mark.parametrize("case", CASES)
def test_each_broken_fixture_reports_exactly_its_expected_problems(
    case: str, broken_catalog: Callable[[str], Path]
) -> None:
    directory = broken_catalog(case)
    expected = YAML(typ="safe").load((BROKEN / case / "expected.yaml").read_text())
    catalog, problems = check_catalog(directory)
    assert catalog is None
    found = [(str(p.file.relative_to(directory)), p.line, p.field, p.rule) for p in problems]
    assert found == [(e["file"], e["line"], e["field"], e["rule"]) for e in expected]
    for problem, want in zip(problems, expected, strict=True):
        assert want["message"] in problem.message


def test_load_catalog_raises_with_every_problem_listed(
    broken_catalog: Callable[[str], Path],
) -> None:
    directory = broken_catalog("many-problems-in-one-run")
    with pytest.raises(CatalogError) as raised:
        load_catalog(directory)
    assert len(raised.value.problems) == 5
    text = str(raised.value)
    assert f"{directory}/platform.yaml:18:" in text
    assert "servers/unifi.yaml:18:" in text


def test_every_check_has_a_broken_fixture() -> None:
    """Each rule the loader can raise is exercised by at least one fixture."""
    rules = {
        e["rule"]
        for case in CASES
        for e in YAML(typ="safe").load((BROKEN / case / "expected.yaml").read_text())
    }
    assert rules >= {
        "yaml.syntax",
        "file.missing",
        "schema.required",
        "schema.unknown-field",
        "schema.type",
        "schema.enum",
        "schema.pattern",
        "schema.format",
        "schema.oneOf",
        "model.value_error",
        "cross.unique-name",
        "cross.file-name",
        "cross.secret-path",
        "cross.model-ref",
        "cross.model-purpose",
        "cross.provider-ref",
        "cross.unique-model",
        "cross.gateway-ip",
        "cross.pool-range",
        "cross.port-collision",
        "cross.unique-issuer",
        "cross.grant-server",
        "cross.auth-resource",
        "yaml.too-many-values",
        "yaml.too-deep",
        "yaml.recursive-alias",
        "schema.maxLength",
        "schema.maxItems",
    }


def test_a_local_overlay_directory_adds_servers(tmp_path: Path, catalog_copy: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "everything.yaml").write_text(
        "server:\n  name: everything\n  kind: stdio\n  description: reference server\n"
        "  package: npx://@modelcontextprotocol/server-everything\n"
        "  image: npx://@modelcontextprotocol/server-everything\n"
        "  local: {command: npx, args: [mcp-server-everything, stdio]}\n"
    )
    catalog = load_catalog(catalog_copy, server_dirs=[overlay])
    assert catalog.server("everything").kind == "stdio"
    assert len(catalog.servers) == 11
