"""Names, endpoints and annotations are computed once, identically for compiler and runtime."""

from __future__ import annotations

from catalog import load_catalog
from catalog.naming import (
    AnnotationKeys,
    discovery_annotations,
    labels,
    selector,
    server_endpoints,
    server_resource_name,
)

from .conftest import SHIPPED


def test_server_endpoints_point_at_the_in_cluster_service() -> None:
    catalog = load_catalog(SHIPPED)
    assert server_endpoints(catalog.server("unifi"), catalog.platform) == [
        "http://unifi-mcp.mcp-system.svc.cluster.local:3000/mcp"
    ]
    # stdio servers are reached through ToolHive's streamable-HTTP proxy
    assert server_endpoints(catalog.server("opnsense"), catalog.platform) == [
        "http://opnsense-mcp.mcp-system.svc.cluster.local:8080/mcp"
    ]


def test_discovery_annotations_round_trip_through_the_annotation_keys() -> None:
    catalog = load_catalog(SHIPPED)
    keys = AnnotationKeys("mcp.shreck.io")
    annotations = discovery_annotations(catalog.server("kubernetes-prod"), "mcp.shreck.io")
    assert annotations[keys.enabled] == "true"
    assert annotations[keys.type] == "cluster-api"
    assert annotations[keys.port] == "8080"
    assert annotations[keys.transport] == "streamable-http"
    assert annotations[keys.server] == "kubernetes-prod"
    assert all(k.startswith("mcp.shreck.io/") for k in annotations)


def test_selector_is_a_subset_of_the_labels() -> None:
    name = server_resource_name("adguard")
    assert name == "adguard-mcp"
    assert selector(name).items() <= labels("mcp-server", name).items()
