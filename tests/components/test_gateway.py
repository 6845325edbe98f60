"""The gateway: replicas, LoadBalancer IP from the Cilium pool, L2 announcement, metrics."""

from __future__ import annotations

from catalog import Catalog
from catalog.naming import gateway_metrics_service_name
from components.gateway import Gateway, GatewayArgs
from components.render import Rendering
from components.workload import CatalogMount

from .conftest import render


def _render(catalog: Catalog) -> Rendering:
    mount = CatalogMount({"platform.yaml": ""}, "abc")
    return render(
        lambda: Gateway("gateway", GatewayArgs(catalog.platform, "mcp-system", mount, "db"))
    )


def test_the_pool_and_l2_policy_announce_the_catalog_range_on_its_interfaces(
    shipped: Catalog,
) -> None:
    rendering = _render(shipped)
    l2 = rendering.find("CiliumL2AnnouncementPolicy", "mcp-pool-l2").manifest["spec"]
    assert l2["interfaces"] == ["^eth[0-9]+", "^en.*"]
    assert l2["loadBalancerIPs"] is True
    pool = rendering.find("CiliumLoadBalancerIPPool", "mcp-pool").manifest["spec"]
    assert l2["serviceSelector"] == pool["serviceSelector"]


def test_metrics_are_exposed_inside_the_cluster_only(shipped: Catalog) -> None:
    rendering = _render(shipped)
    metrics = rendering.find("Service", gateway_metrics_service_name()).manifest["spec"]
    assert metrics.get("type", "ClusterIP") == "ClusterIP"
    assert metrics["ports"] == [{"name": "metrics", "port": 8081, "targetPort": "http"}]
    public = rendering.find("Service", "mcp-gateway").manifest["spec"]
    assert [p["name"] for p in public["ports"]] == ["http"]
    assert public["ports"][0]["port"] == 8080


def test_the_gateway_runs_the_catalog_replicas_with_health_probes(shipped: Catalog) -> None:
    spec = _render(shipped).find("Deployment", "mcp-gateway").manifest["spec"]
    assert spec["replicas"] == 2
    app = spec["template"]["spec"]["containers"][0]
    assert app["readinessProbe"]["httpGet"] == {"path": "/api/v1/health", "port": "http"}
    assert app["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
