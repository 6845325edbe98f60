"""Drift between a catalog entry and what runs, and its metric."""

from __future__ import annotations

from dataclasses import replace

from catalog import load_catalog
from runtime.discovery.metrics import DiscoveryMetrics
from runtime.endpoints.drift import compare, missing
from runtime.endpoints.endpoint import Endpoint
from runtime.proposals.entry import updated_entry
from tests.runtime.discovery.harness import SHIPPED_CATALOG

CATALOG = load_catalog(SHIPPED_CATALOG)
SERVER = CATALOG.server("kubernetes-prod")
AS_DEPLOYED = Endpoint(
    name="kubernetes-prod",
    source="kubernetes",
    origin="service mcp-system/mcp-kubernetes-prod",
    url="http://10.43.0.5:8080/mcp",
    namespace="mcp-system",
    service="kubernetes-prod-mcp",
    port=8080,
    path="/mcp",
    image="ghcr.io/containers/kubernetes-mcp-server:v0.0.54",
)


def test_a_server_as_the_compiler_deployed_it_does_not_drift() -> None:
    report = compare(SERVER, AS_DEPLOYED, ["pods_list"], CATALOG.platform)
    assert report.reasons == ()


def test_tools_drift_only_once_the_catalog_recorded_tools() -> None:
    recorded = updated_entry(SERVER, tools=["pods_list"])
    report = compare(recorded, AS_DEPLOYED, ["pods_list", "events_list"], CATALOG.platform)
    assert report.reasons == ("tools",)
    assert report.tools_added == ("events_list",)
    assert report.proposable


def test_a_new_image_a_moved_service_and_another_transport_are_each_named() -> None:
    moved = replace(AS_DEPLOYED, image="ghcr.io/x/k8s:v9", namespace="other", transport="sse")
    report = compare(SERVER, moved, [], CATALOG.platform)
    assert report.reasons == ("image", "transport", "endpoint")
    assert report.describe()[0] == (
        "image is ghcr.io/x/k8s:v9, the catalog says "
        "ghcr.io/containers/kubernetes-mcp-server:v0.0.54"
    )


def test_the_gauge_follows_the_reasons_and_forgets_resolved_ones() -> None:
    metrics = DiscoveryMetrics()
    metrics.set_drift(missing(SERVER))
    assert metrics.registry.get_sample_value(
        "mcpfleet_catalog_drift", {"server": "kubernetes-prod", "reason": "missing"}
    ) == 1
    metrics.set_drift(compare(SERVER, AS_DEPLOYED, [], CATALOG.platform))
    assert metrics.registry.get_sample_value(
        "mcpfleet_catalog_drift", {"server": "kubernetes-prod", "reason": "missing"}
    ) is None
