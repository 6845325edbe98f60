"""One McpServer per catalog entry: the right objects for its kind, and only its own access."""

from __future__ import annotations

from catalog import Catalog
from catalog.naming import (
    KUBECONFIG_PATH,
    discovery_annotations,
    server_endpoints,
    server_pod_selector,
    server_port,
)
from components.render import Rendering
from components.secret_refs import SecretIndex
from components.servers import McpServer, McpServerArgs
from components.servers.cluster_api import READ_ONLY_RULES

from .conftest import REMOTE, render


def _render(catalog: Catalog, name: str) -> Rendering:
    server = catalog.server(name) if name != REMOTE.name else REMOTE
    args = McpServerArgs(server, catalog.platform, "mcp-system", SecretIndex(catalog.platform))
    return render(lambda: McpServer(f"server-{name}", args))


def _kinds(rendering: Rendering) -> dict[str, int]:
    return dict(rendering.counts())


def test_an_in_cluster_kubernetes_server_gets_read_only_rbac_without_secrets(
    shipped: Catalog,
) -> None:
    rendering = _render(shipped, "kubernetes-monitoring")  # the cluster the fleet runs in
    assert _kinds(rendering) == {
        "ServiceAccount": 1,
        "ClusterRole": 1,
        "ClusterRoleBinding": 1,
        "Deployment": 1,
        "Service": 1,
        "NetworkPolicy": 1,
        "CiliumNetworkPolicy": 1,
    }
    rules = rendering.find("ClusterRole", "kubernetes-monitoring-mcp").manifest["rules"]
    assert rules == list(READ_ONLY_RULES)
    verbs = {verb for rule in rules for verb in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}
    resources = {r for rule in rules for r in rule["resources"]}
    assert "pods/log" in resources
    assert "secrets" not in resources
    binding = rendering.find("ClusterRoleBinding", "kubernetes-monitoring-mcp").manifest
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "kubernetes-monitoring-mcp", "namespace": "mcp-system"}
    ]
    deployment = rendering.find("Deployment", "kubernetes-monitoring-mcp").manifest
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True
    egress = rendering.find("CiliumNetworkPolicy", "kubernetes-monitoring-mcp-egress")
    egress = egress.manifest["spec"]
    assert egress["egress"] == [{"toEntities": ["kube-apiserver"]}]


def test_a_remote_cluster_server_gets_its_kubeconfig_from_the_secret_and_no_rbac(
    shipped: Catalog,
) -> None:
    rendering = _render(shipped, "kubernetes-prod")  # 10.10.0.40:6443, another cluster
    assert rendering.of_kind("ClusterRole") == []
    pod = rendering.find("Deployment", "kubernetes-prod-mcp").manifest["spec"]["template"]
    spec = pod["spec"]
    assert spec["automountServiceAccountToken"] is False
    volume = next(v for v in spec["volumes"] if v["name"] == "kubeconfig")
    assert volume["secret"] == {
        "secretName": "mcpfleet-secrets-kubernetes",
        "items": [{"key": "PROD_KUBECONFIG", "path": "kubeconfig"}],
    }
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "kubeconfig")
    assert f"{mount['mountPath']}/kubeconfig" == KUBECONFIG_PATH
    assert mount["readOnly"] is True
    assert KUBECONFIG_PATH in spec["containers"][0]["args"]


def test_a_stdio_server_is_a_toolhive_mcpserver_behind_the_fleets_own_service(
    shipped: Catalog,
) -> None:
    server = shipped.server("opnsense")
    rendering = _render(shipped, "opnsense")
    assert _kinds(rendering) == {
        "ServiceAccount": 1,
        "MCPServer": 1,
        "Service": 1,
        "NetworkPolicy": 1,
        "CiliumNetworkPolicy": 1,
    }
    spec = rendering.find("MCPServer", "opnsense-mcp").manifest["spec"]
    assert spec["image"] == "uvx://opnsense-mcp-server@0.4.1"
    assert spec["transport"] == "stdio"
    assert spec["proxyMode"] == "streamable-http"
    assert spec["proxyPort"] == 8080
    assert spec["serviceAccount"] == "opnsense-mcp"
    assert {"name": "OPNSENSE_ALLOW_WRITES", "value": "false"} in spec["env"]
    (mcp,) = spec["podTemplateSpec"]["spec"]["containers"]
    assert mcp["name"] == "mcp"
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in mcp["env"]}
    assert refs == {
        "OPNSENSE_API_KEY": {"name": "mcpfleet-secrets-opnsense", "key": "API_KEY"},
        "OPNSENSE_API_SECRET": {"name": "mcpfleet-secrets-opnsense", "key": "API_SECRET"},
    }
    service = rendering.find("Service", "opnsense-mcp").manifest
    assert service["spec"]["selector"] == {"app": "mcpserver", "toolhive-name": "opnsense-mcp"}
    # our labels on ToolHive's proxy pods leave its own `app: mcpserver` alone
    proxy = spec["resourceOverrides"]["proxyDeployment"]["podTemplateMetadataOverrides"]
    assert "app" not in proxy["labels"]
    assert proxy["labels"]["app.kubernetes.io/component"] == "mcp-server"
    assert service["spec"]["ports"][0]["port"] == server_port(server)
    assert server_endpoints(server, shipped.platform) == [
        "http://opnsense-mcp.mcp-system.svc.cluster.local:8080/mcp"
    ]


def test_an_http_server_is_a_deployment_with_catalog_env_and_secret_references(
    shipped: Catalog,
) -> None:
    rendering = _render(shipped, "unifi")
    container = rendering.find("Deployment", "unifi-mcp").manifest["spec"]["template"]["spec"][
        "containers"
    ][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["UNIFI_HOST"] == {"name": "UNIFI_HOST", "value": "10.30.0.2"}
    assert env["UNIFI_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "mcpfleet-secrets-unifi",
        "key": "PASSWORD",
    }
    assert container["ports"][0]["containerPort"] == 3000


def test_every_server_service_carries_the_discovery_annotations(shipped: Catalog) -> None:
    prefix = shipped.platform.discovery.annotation_prefix
    for name in ("kubernetes-prod", "opnsense", "unifi", "talos-prod"):
        server = shipped.server(name)
        service = _render(shipped, name).find("Service", f"{name}-mcp").manifest
        assert service["metadata"]["annotations"] == discovery_annotations(server, prefix)


def test_servers_accept_only_the_gateway_and_discovery_on_their_port(shipped: Catalog) -> None:
    for name in ("adguard", "unifi", "talos-prod"):
        server = shipped.server(name)
        spec = _render(shipped, name).find("NetworkPolicy", f"{name}-mcp").manifest["spec"]
        assert spec["podSelector"] == {"matchLabels": server_pod_selector(server)}
        (rule,) = spec["ingress"]
        callers = [
            p["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] for p in rule["from"]
        ]
        assert callers == ["mcp-gateway", "discovery-service"]
        assert rule["ports"] == [{"port": server_port(server), "protocol": "TCP"}]


def test_servers_may_reach_exactly_the_hosts_and_ports_their_entry_names(
    shipped: Catalog,
) -> None:
    spec = _render(shipped, "talos-prod").find("CiliumNetworkPolicy", "talos-prod-mcp-egress")
    assert spec.manifest["spec"]["egress"] == [
        {
            "toCIDR": ["10.10.0.41/32", "10.10.0.42/32", "10.10.0.43/32"],
            "toPorts": [{"ports": [{"port": "50000", "protocol": "TCP"}]}],
        }
    ]
    # stdio: the ToolHive proxy also needs the API server to attach to the server's stdio
    adguard = _render(shipped, "adguard").find("CiliumNetworkPolicy", "adguard-mcp-egress")
    assert adguard.manifest["spec"]["egress"][-1] == {"toEntities": ["kube-apiserver"]}
    assert adguard.manifest["spec"]["endpointSelector"] == {
        "matchLabels": {"toolhive-name": "adguard-mcp"}
    }


def test_a_remote_server_runs_nothing_and_only_opens_the_gateways_egress_to_it(
    shipped: Catalog,
) -> None:
    rendering = _render(shipped, REMOTE.name)
    assert _kinds(rendering) == {"CiliumNetworkPolicy": 1}
    spec = rendering.find("CiliumNetworkPolicy", "docs-search-mcp-egress").manifest["spec"]
    assert spec["endpointSelector"]["matchLabels"]["app.kubernetes.io/instance"] == (
        "mcp-gateway"
    )
    rules = spec["egress"]
    assert rules[0] == {
        "toCIDR": ["203.0.113.7/32"],
        "toPorts": [
            {"ports": [{"port": "443", "protocol": "TCP"}, {"port": "8443", "protocol": "TCP"}]}
        ],
    }
    assert rules[2]["toFQDNs"] == [{"matchName": "mcp.docs.example.com"}]
    assert rules[1]["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}
