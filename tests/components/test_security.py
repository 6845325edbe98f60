"""Deny by default; every runtime flow is named, and nothing else is open."""

from __future__ import annotations

from catalog import Catalog
from components.render import Rendering
from components.security import Security, SecurityArgs

from .conftest import render, with_platform


def _render(catalog: Catalog) -> Rendering:
    return render(lambda: Security("security", SecurityArgs(catalog, "mcp-system")))


def _instances(peers: list[dict]) -> list[str]:
    return [
        p["podSelector"]["matchLabels"].get("app.kubernetes.io/instance", "?")
        for p in peers
        if "matchLabels" in p.get("podSelector", {})
    ]


def test_the_namespace_denies_everything_and_then_allows_dns(shipped: Catalog) -> None:
    rendering = _render(shipped)
    deny = rendering.find("NetworkPolicy", "mcpfleet-default-deny").manifest["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = rendering.find("NetworkPolicy", "mcpfleet-allow-dns").manifest["spec"]
    assert dns["policyTypes"] == ["Egress"]
    assert {p["port"] for p in dns["egress"][0]["ports"]} == {53}


def test_only_runtime_services_and_the_backup_reach_postgres(shipped: Catalog) -> None:
    spec = _render(shipped).find("NetworkPolicy", "mcpfleet-postgres-ingress").manifest["spec"]
    (rule,) = spec["ingress"]
    assert _instances(rule["from"]) == [
        "mcp-gateway",
        "mcp-triage",
        "multi-model-router",
        "discovery-service",
        "postgres-vector-db-backup",
    ]
    assert rule["ports"] == [{"port": 5432, "protocol": "TCP"}]


def test_the_gateway_is_open_to_clients_and_the_rest_only_to_their_callers(
    shipped: Catalog,
) -> None:
    rendering = _render(shipped)
    gateway = rendering.find("NetworkPolicy", "mcpfleet-gateway-ingress").manifest["spec"]
    assert "from" not in gateway["ingress"][0]
    router = rendering.find("NetworkPolicy", "mcpfleet-router-ingress").manifest["spec"]
    assert _instances(router["ingress"][0]["from"]) == ["mcp-gateway", "mcp-triage"]
    ollama = rendering.find("NetworkPolicy", "mcpfleet-ollama-ingress").manifest["spec"]
    assert _instances(ollama["ingress"][0]["from"]) == [
        "mcp-gateway",
        "mcp-triage",
        "multi-model-router",
    ]


def test_the_router_may_reach_only_the_model_provider_apis_outside(shipped: Catalog) -> None:
    spec = _render(shipped).find("CiliumNetworkPolicy", "mcpfleet-router-egress-external")
    fqdns = spec.manifest["spec"]["egress"][-1]
    assert fqdns == {
        "toFQDNs": [
            {"matchName": "api.anthropic.com"},
            {"matchName": "generativelanguage.googleapis.com"},
        ],
        "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
    }


def test_discovery_watches_the_api_and_probes_the_cluster_and_opens_github_prs(
    shipped: Catalog,
) -> None:
    spec = _render(shipped).find("CiliumNetworkPolicy", "mcpfleet-discovery-egress-external")
    rules = spec.manifest["spec"]["egress"]
    assert {"toEntities": ["cluster", "kube-apiserver"]} in rules
    assert rules[1]["toFQDNs"] == [{"matchName": "api.github.com"}, {"matchName": "github.com"}]
    offline = with_platform(shipped, discovery={"proposals": "local"})
    rules = (
        _render(offline)
        .find("CiliumNetworkPolicy", "mcpfleet-discovery-egress-external")
        .manifest["spec"]["egress"]
    )
    assert rules == [{"toEntities": ["cluster", "kube-apiserver"]}]


def test_cloudnative_pg_pods_also_admit_their_operator_and_each_other(shipped: Catalog) -> None:
    rendering = _render(with_platform(shipped, database={"engine": "cloudnative-pg"}))
    spec = rendering.find("NetworkPolicy", "mcpfleet-postgres-cnpg").manifest["spec"]
    assert spec["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "postgres-vector-db"}}
    operator = spec["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
    assert operator == {"kubernetes.io/metadata.name": "cnpg-system"}
