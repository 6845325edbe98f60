"""Reading a Service's discovery annotations (the keys the compiler writes)."""

from __future__ import annotations

from typing import Any

from catalog import load_catalog
from catalog.naming import AnnotationKeys, discovery_annotations
from runtime.discovery.annotations import endpoint_from_service
from runtime.endpoints.endpoint import tags_from_capabilities
from tests.runtime.discovery.harness import SHIPPED_CATALOG

KEYS = AnnotationKeys("mcp.shreck.io")


def svc(annotations: dict[str, str], ports: list[dict[str, Any]] | None = None) -> dict:
    return {
        "metadata": {"name": "notes-mcp", "namespace": "tools", "annotations": annotations},
        "spec": {"clusterIP": "10.43.0.9", "ports": ports or [{"name": "http", "port": 8080}]},
    }


def test_a_service_without_the_enabled_annotation_is_not_an_endpoint() -> None:
    assert endpoint_from_service(svc({KEYS.type: "http"}), KEYS) is None
    assert endpoint_from_service(svc({KEYS.enabled: "false"}), KEYS) is None


def test_defaults_give_a_streamable_http_endpoint_at_the_dns_name() -> None:
    endpoint = endpoint_from_service(svc({KEYS.enabled: "true"}), KEYS)
    assert endpoint is not None
    assert endpoint.name == "notes"
    assert endpoint.url == "http://notes-mcp.tools.svc.cluster.local:8080/mcp"
    assert (endpoint.kind, endpoint.transport) == ("http", "streamable-http")
    assert endpoint.problem is None


def test_cluster_ip_addressing_uses_the_services_ip() -> None:
    endpoint = endpoint_from_service(svc({KEYS.enabled: "true"}), KEYS, addressing="cluster-ip")
    assert endpoint is not None and endpoint.url == "http://10.43.0.9:8080/mcp"


def test_the_port_annotation_may_name_a_port() -> None:
    ports = [{"name": "metrics", "port": 9090}, {"name": "api", "port": 3000}]
    endpoint = endpoint_from_service(svc({KEYS.enabled: "true", KEYS.port: "api"}, ports), KEYS)
    assert endpoint is not None and endpoint.port == 3000


def test_several_ports_and_no_port_annotation_is_a_problem_that_says_so() -> None:
    ports = [{"name": "metrics", "port": 9090}, {"name": "api", "port": 3000}]
    endpoint = endpoint_from_service(svc({KEYS.enabled: "true"}, ports), KEYS)
    assert endpoint is not None
    assert endpoint.problem == "mcp.shreck.io/port is missing and the Service has 2 ports"


def test_every_bad_annotation_is_reported_at_once() -> None:
    annotations = {
        KEYS.enabled: "true",
        KEYS.type: "lambda",
        KEYS.transport: "websocket",
        KEYS.path: "mcp",
        KEYS.server: "Not_A_Label",
    }
    endpoint = endpoint_from_service(svc(annotations), KEYS)
    assert endpoint is not None and endpoint.problem is not None
    for fragment in ("'lambda' is not one of", "'websocket': use", "must start with '/'",
                     "'Not_A_Label' is not a DNS label"):
        assert fragment in endpoint.problem


def test_what_the_compiler_writes_discovery_reads_back_for_every_shipped_server() -> None:
    catalog = load_catalog(SHIPPED_CATALOG)
    for server in catalog.servers:
        annotations = discovery_annotations(server, "mcp.shreck.io")
        port = int(annotations[KEYS.port])
        endpoint = endpoint_from_service(svc(annotations, [{"name": "mcp", "port": port}]), KEYS)
        assert endpoint is not None and endpoint.problem is None, server.name
        assert (endpoint.name, endpoint.kind) == (server.name, server.kind)


def test_capabilities_become_tags_without_mcps_own_words() -> None:
    assert tags_from_capabilities(("tools", "network", "dns", "Bad Tag")) == ["network", "dns"]


def test_the_seeds_grafana_example_is_an_http_endpoint_named_as_the_seed_names_it() -> None:
    """The Service annotated exactly as the seed plan's Phase 5 example."""
    grafana = {
        "metadata": {
            "name": "grafana",
            "namespace": "monitoring",
            "annotations": {
                "mcp.shreck.io/enabled": "true",
                "mcp.shreck.io/type": "standard",
                "mcp.shreck.io/capabilities": "dashboards,alerts,datasources",
                "mcp.shreck.io/port": "3000",
            },
        },
        "spec": {"clusterIP": "10.43.0.10", "ports": [{"name": "http", "port": 3000}]},
    }
    endpoint = endpoint_from_service(grafana, KEYS)
    assert endpoint is not None and endpoint.problem is None
    assert (endpoint.name, endpoint.kind) == ("grafana", "http")
    assert endpoint.qualified_name == "monitoring/grafana"
    assert endpoint.url == "http://grafana.monitoring.svc.cluster.local:3000/mcp"
    assert tags_from_capabilities(endpoint.capabilities) == ["dashboards", "alerts", "datasources"]


def test_the_seeds_type_words_map_to_catalog_kinds_and_kinds_still_work() -> None:
    kinds = {}
    for word in ("standard", "kmcp", "toolhive", "Standard", "http", "cluster-api", "remote"):
        endpoint = endpoint_from_service(svc({KEYS.enabled: "true", KEYS.type: word}), KEYS)
        assert endpoint is not None and endpoint.problem is None, word
        kinds[word] = endpoint.kind
    assert kinds == {
        "standard": "http",
        "kmcp": "cluster-api",
        "toolhive": "stdio",
        "Standard": "http",
        "http": "http",
        "cluster-api": "cluster-api",
        "remote": "remote",
    }
    unknown = endpoint_from_service(svc({KEYS.enabled: "true", KEYS.type: "docker"}), KEYS)
    assert unknown is not None and unknown.problem is not None
    assert "'docker' is not one of standard, kmcp, toolhive" in unknown.problem


def test_kubectl_annotate_enabled_alone_is_enough_as_in_the_seeds_discovery_test() -> None:
    """``kubectl annotate svc/test-service mcp.shreck.io/enabled=true -n default``."""
    service = {
        "metadata": {
            "name": "test-service",
            "namespace": "default",
            "annotations": {"mcp.shreck.io/enabled": "true"},
        },
        "spec": {"ports": [{"port": 8080}]},
    }
    endpoint = endpoint_from_service(service, KEYS)
    assert endpoint is not None and endpoint.problem is None
    assert (endpoint.name, endpoint.kind, endpoint.qualified_name) == (
        "test-service",
        "http",
        "default/test-service",
    )
    assert endpoint.url == "http://test-service.default.svc.cluster.local:8080/mcp"
