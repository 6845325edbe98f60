"""The full stack on the shipped catalog, under Pulumi's mock runtime."""

from __future__ import annotations

from catalog import Catalog, SecretRef
from catalog.naming import (
    CATALOG_ENV,
    CATALOG_MOUNT,
    DATABASE_URL_ENV,
    health_path,
    runtime_resource_name,
    secret_resource_name,
    server_resource_name,
)
from components.checks import SchemaValidator, check_objects, pod_specs
from components.render import Rendering, render_catalog

from .conftest import REMOTE, with_platform, with_servers

SHIPPED_COUNTS = {
    "CiliumL2AnnouncementPolicy": 1,
    "CiliumLoadBalancerIPPool": 1,
    "CiliumNetworkPolicy": 14,
    "ClusterRole": 2,
    "ClusterRoleBinding": 2,
    "ConfigMap": 2,
    "CronJob": 1,
    "Deployment": 11,
    "HelmRelease": 3,
    "InfisicalSecret": 12,
    "IngressRoute": 1,
    "MCPServer": 5,
    "Namespace": 1,
    "NetworkPolicy": 24,
    "PersistentVolume": 1,
    "PersistentVolumeClaim": 2,
    "PrometheusRule": 1,
    "Service": 19,
    "ServiceAccount": 14,
    "ServiceMonitor": 4,
    "StatefulSet": 1,
}


def test_the_shipped_catalog_compiles_to_these_objects_by_kind(fleet: Rendering) -> None:
    assert dict(fleet.counts()) == SHIPPED_COUNTS


def test_every_object_is_a_child_of_a_component_under_the_one_fleet(fleet: Rendering) -> None:
    fleets = fleet.component("mcpfleet:index:Fleet")
    assert len(fleets) == 1
    for obj in fleet.objects:
        chain = fleet.ancestors(obj.record)
        assert chain[-1] == fleets[0], obj.record.urn
        assert len(chain) >= 2, f"{obj.record.urn} is not inside a component"
        assert all(c.type.startswith("mcpfleet:index:") for c in chain)


def test_components_are_the_documented_parts(fleet: Rendering) -> None:
    types = {c.type.removeprefix("mcpfleet:index:") for c in fleet.components}
    assert types == {
        "Fleet",
        "Operators",
        "Namespace",
        "Secrets",
        "CatalogConfig",
        "VectorDatabase",
        "Security",
        "Triage",
        "Gateway",
        "RuntimeService",
        "McpServer",
        "Ingress",
        "Observability",
        "GitOps",
    }
    services = {c.name for c in fleet.component("mcpfleet:index:RuntimeService")}
    assert services == {  # Pulumi's names (URNs), not the Kubernetes objects' names
        "mcpfleet-router",
        "mcpfleet-discovery",
        "mcpfleet-gateway-runtime",
        "mcpfleet-triage-api",
    }


def test_each_catalog_server_is_one_component_named_after_it(
    fleet: Rendering, shipped: Catalog
) -> None:
    components = {c.name: c for c in fleet.component("mcpfleet:index:McpServer")}
    assert set(components) == {f"mcpfleet-server-{s.name}" for s in shipped.servers}
    for server in shipped.servers:
        children = [r for r in fleet.descendants(components[f"mcpfleet-server-{server.name}"])]
        names = {r.inputs.get("metadata", {}).get("name") for r in children}
        assert server_resource_name(server) in names


def test_every_object_is_valid_against_the_kubernetes_schema_or_its_crd(
    fleet: Rendering, validator: SchemaValidator
) -> None:
    manifests = [o.manifest for o in fleet.kubernetes_objects]
    kinds = {m["kind"] for m in manifests}
    assert {"MCPServer", "InfisicalSecret", "CiliumNetworkPolicy", "Deployment"} <= kinds
    assert [str(f) for f in check_objects(manifests, validator)] == []


def test_every_pod_spec_passes_the_restricted_pod_security_standard(fleet: Rendering) -> None:
    checked = 0
    for obj in fleet.kubernetes_objects:
        for _where, _spec in pod_specs(obj.manifest):
            checked += 1
    assert checked == 11 + 1 + 1 + 5  # Deployments, StatefulSet, CronJob, MCPServer templates
    assert check_objects([o.manifest for o in fleet.kubernetes_objects], None) == []


def test_every_in_cluster_server_has_its_network_policy_and_service_account(
    fleet: Rendering, shipped: Catalog
) -> None:
    for server in shipped.servers:
        name = server_resource_name(server)
        assert fleet.find("ServiceAccount", name).group == f"server-{server.name}"
        policy = fleet.find("NetworkPolicy", name).manifest["spec"]
        assert policy["policyTypes"] == ["Ingress"]
        assert fleet.find("CiliumNetworkPolicy", f"{name}-egress")


def test_the_gateway_service_asks_cilium_for_the_catalog_ip(
    fleet: Rendering, shipped: Catalog
) -> None:
    service = fleet.find("Service", "mcp-gateway").manifest
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"]["lbipam.cilium.io/ips"] == "10.30.0.91"
    pool = fleet.find("CiliumLoadBalancerIPPool", "mcp-pool").manifest["spec"]
    assert pool["blocks"] == [{"start": "10.30.0.90", "stop": "10.30.0.99"}]
    selected = pool["serviceSelector"]["matchLabels"]
    assert selected.items() <= service["metadata"]["labels"].items()
    assert str(shipped.platform.load_balancer.gateway_ip) == "10.30.0.91"


def test_namespaced_objects_live_in_the_catalog_namespace(fleet: Rendering) -> None:
    cluster_scoped = {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "PersistentVolume",
        "CiliumLoadBalancerIPPool",
        "CiliumL2AnnouncementPolicy",
    }
    for obj in fleet.kubernetes_objects:
        if obj.kind in cluster_scoped:
            assert obj.namespace is None, obj.object_name
        else:
            assert obj.namespace == "mcp-system", f"{obj.kind}/{obj.object_name}"


def test_runtime_pods_read_the_database_url_from_its_secret_and_mount_the_catalog(
    fleet: Rendering,
) -> None:
    for service in ("gateway", "triage", "router", "discovery"):
        name = runtime_resource_name(service)
        pod = fleet.find("Deployment", name).manifest["spec"]["template"]["spec"]
        app = pod["containers"][0]
        assert app["args"][:4] == ["serve", service, "--host", "0.0.0.0"]
        env = {e["name"]: e for e in app["env"]}
        assert env[DATABASE_URL_ENV]["valueFrom"]["secretKeyRef"] == {
            "name": secret_resource_name("database"),
            "key": "DATABASE_URL",
        }
        assert env[CATALOG_ENV]["value"] == CATALOG_MOUNT
        mounts = {m["mountPath"] for m in app["volumeMounts"]}
        assert CATALOG_MOUNT in mounts
        assert app["readinessProbe"]["httpGet"]["path"] == health_path(service)
    gateway = fleet.find("Deployment", "mcp-gateway").manifest["spec"]["template"]["spec"]
    assert gateway["containers"][0]["args"][4:] == [
        "--public-url",
        "https://mcp.kernow.io",
        "--router-url",
        "http://multi-model-router.mcp-system.svc.cluster.local:8080",
    ]
    # the gateway hosts triage: Ollama for its local LLM, a token for the router
    env = {e["name"]: e for e in gateway["containers"][0]["env"]}
    assert env["MCPFLEET_OLLAMA_URL"]["value"].startswith("http://ollama-triage.")
    assert env["MCPFLEET_TRIAGE_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "TRIAGE_TOKEN"


def test_workload_resources_are_the_catalogs(fleet: Rendering, shipped: Catalog) -> None:
    gateway = fleet.find("Deployment", "mcp-gateway").manifest["spec"]
    resources = gateway["template"]["spec"]["containers"][0]["resources"]
    assert resources == {  # the seed's "MCP Gateway" allocation
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert gateway["replicas"] == shipped.platform.gateway.replicas == 2
    unifi = fleet.find("Deployment", "unifi-mcp").manifest["spec"]["template"]["spec"]
    assert unifi["containers"][0]["resources"] == {  # the seed's per-server default
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }


def test_the_shipped_catalog_compiles_without_warnings(fleet: Rendering) -> None:
    assert fleet.warnings == []


def test_a_provider_url_naming_a_service_the_stack_does_not_create_is_a_warning(
    shipped: Catalog,
) -> None:
    providers = [
        p.model_copy(update={"base_url": "http://ollama.mcp-system.svc:11434"})
        if p.type == "ollama"
        else p
        for p in shipped.models.providers
    ]
    catalog = shipped.model_copy(
        update={"models": shipped.models.model_copy(update={"providers": providers})}
    )
    rendering = render_catalog(catalog)
    assert any("ollama.mcp-system.svc" in w and "ollama-triage" in w for w in rendering.warnings)


def _every_switch_flipped(shipped: Catalog) -> Catalog:
    platform = shipped.platform
    catalog = with_platform(
        shipped,
        database={
            "engine": "cloudnative-pg",
            "instances": 3,
            "image": "ghcr.io/cloudnative-pg/postgresql:17-standard-bookworm",
        },
        observability={"flavour": "victoriametrics"},
        gitops={"reconciler": "pulumi-operator"},
        operators={"cloudnative_pg": "helm", "pulumi_operator": "helm"},
        secrets={"backend": "pulumi"},
        triage={"gpu": True},
        ingress=platform.ingress.model_copy(
            update={
                "traefik": platform.ingress.traefik.model_copy(update={"enabled": False}),
                "cloudflare_tunnel": platform.ingress.cloudflare_tunnel.model_copy(
                    update={"enabled": True}
                ),
            }
        ),
    )
    return with_servers(catalog, REMOTE)


def test_every_platform_switch_still_compiles_to_valid_restricted_objects(
    shipped: Catalog, validator: SchemaValidator
) -> None:
    for catalog in (
        _every_switch_flipped(shipped),
        with_platform(shipped, gitops={"reconciler": "argocd"}),
    ):
        rendering = render_catalog(catalog)
        manifests = [o.manifest for o in rendering.kubernetes_objects]
        assert [str(f) for f in check_objects(manifests, validator)] == []
    kinds = set(render_catalog(_every_switch_flipped(shipped)).counts())
    assert {"Cluster", "VMServiceScrape", "VMRule", "Stack", "Secret"} <= kinds
    assert "IngressRoute" not in kinds and "InfisicalSecret" not in kinds


def test_the_gateway_reads_a_remote_servers_credentials_from_its_secret(
    shipped: Catalog,
) -> None:
    remote = REMOTE.model_copy(
        update={
            "secrets": [SecretRef(env="DOCS_TOKEN", path="/mcp-system/gateway", key="DOCS_TOKEN")],
        }
    )
    rendering = render_catalog(with_servers(shipped, remote))
    spec = rendering.find("Deployment", "mcp-gateway").manifest["spec"]["template"]["spec"]
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    assert env["DOCS_TOKEN"] == {
        "name": "DOCS_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "mcpfleet-secrets-gateway", "key": "DOCS_TOKEN"}},
    }
