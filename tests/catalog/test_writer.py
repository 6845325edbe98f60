"""The round-trip writer keeps an operator's comments and key order (discovery relies on it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import (
    CatalogError,
    ClusterApiServer,
    HttpServer,
    SecretRef,
    StdioServer,
    load_catalog,
    write_server,
)
from catalog.model import Egress


def test_adding_a_server_writes_a_valid_file_the_loader_picks_up(catalog_copy: Path) -> None:
    server = HttpServer(
        kind="http",
        name="grafana",
        description="Grafana dashboards, Loki logs and alerting.",
        image="grafana/mcp-grafana:0.7.0",
        port=8000,
        tools=["search_dashboards", "query_loki_logs"],
    )
    path = write_server(catalog_copy, server)
    assert path == catalog_copy / "servers" / "grafana.yaml"
    text = path.read_text()
    assert text.startswith("# Proposed by mcpfleet discovery")
    assert "kind: http" in text
    assert load_catalog(catalog_copy).server("grafana") == server


def test_updating_a_server_keeps_comments_order_and_untouched_fields(catalog_copy: Path) -> None:
    file = catalog_copy / "servers" / "opnsense.yaml"
    before = file.read_text()
    update = StdioServer(
        kind="stdio",
        name="opnsense",
        description="OPNsense firewall (updated by discovery).",
        package="uvx://opnsense-mcp-server",
        image="uvx://opnsense-mcp-server@0.5.0",
        tools=["get_dhcp_leases", "list_firewall_rules"],
    )
    write_server(catalog_copy, update)
    after = file.read_text()
    # the operator's comments survive, including end-of-line ones
    assert "# The edge firewall." in after
    assert "# write tools refuse until this is true" in after
    # key order is the operator's: the first keys are unchanged, new keys come last
    keys = [
        line.split(":")[0].strip()
        for line in after.splitlines()
        if line.startswith("  ") and not line.startswith("    ")
    ]
    assert keys[:4] == ["name", "kind", "description", "package"]
    assert keys[-1] == "tools"
    # changed values replaced in place, fields not mentioned left alone
    assert "uvx://opnsense-mcp-server@0.5.0" in after
    assert "OPNSENSE_API_SECRET" in after and "OPNSENSE_API_SECRET" in before
    loaded = load_catalog(catalog_copy).server("opnsense")
    assert loaded.tools == ["get_dhcp_leases", "list_firewall_rules"]
    assert loaded.egress.cidrs == ["10.10.0.1/32"]


def test_updating_a_nested_field_merges_into_the_existing_mapping(catalog_copy: Path) -> None:
    update = StdioServer(
        kind="stdio",
        name="adguard",
        description="AdGuard Home DNS filter.",
        package="uvx://adguard-home-mcp",
        image="uvx://adguard-home-mcp@0.2.0",
        egress=Egress(ports=[3000, 443]),
    )
    write_server(catalog_copy, update)
    loaded = load_catalog(catalog_copy).server("adguard")
    assert loaded.egress.ports == [3000, 443]
    assert loaded.egress.cidrs == ["10.30.0.53/32"]


def test_an_update_that_would_break_the_file_is_refused_and_nothing_is_written(
    catalog_copy: Path,
) -> None:
    file = catalog_copy / "servers" / "caddy.yaml"
    before = file.read_text()
    # a stdio update aimed at an http file: `package` is not a field of kind http
    file.write_text(
        before.replace("kind: stdio", "kind: http\n  port: 9000").replace(
            "  package: uvx://mcp-caddy\n", ""
        )
    )
    edited = file.read_text()
    update = StdioServer(
        kind="stdio", name="caddy", description="Caddy.", package="uvx://x", image="img"
    )
    with pytest.raises(CatalogError) as raised:
        write_server(catalog_copy, update)
    assert any(p.rule.startswith("schema.") for p in raised.value.problems)
    assert file.read_text() == edited
    assert not list(file.parent.glob(".*.tmp"))


def test_an_update_keeps_quoting_and_long_lines_so_the_diff_is_only_the_change(
    catalog_copy: Path,
) -> None:
    file = catalog_copy / "servers" / "talos-prod.yaml"
    before = file.read_text()
    update = ClusterApiServer(
        kind="cluster-api",
        name="talos-prod",
        api="talos",
        description="Talos Linux on the production nodes (services, etcd, dmesg, upgrades), "
        "read-only.",
        image="ghcr.io/charlieshreck/talos-mcp-server:0.3.2",
        kubeconfig=SecretRef(
            env="TALOSCONFIG_DATA", path="/infrastructure/talos", key="PROD_TALOSCONFIG"
        ),
    )
    write_server(catalog_copy, update)
    changed = [
        (old, new)
        for old, new in zip(before.splitlines(), file.read_text().splitlines(), strict=False)
        if old != new
    ]
    assert changed == [
        (
            "  image: ghcr.io/charlieshreck/talos-mcp-server:0.3.1",
            "  image: ghcr.io/charlieshreck/talos-mcp-server:0.3.2",
        )
    ]
