"""Every Kubernetes name, label, selector, port and annotation key, computed in one place.

The compiler writes these and the runtime (gateway, discovery) reads them, so a server's
Service name or its discovery annotations can never disagree between the two. The names
are the seed plan's (``mcp-gateway``, ``postgres-vector-db``, ``kubernetes-prod-mcp`` …),
so its ``kubectl`` and ``curl`` examples find what they name (docs/seed.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from catalog.limits import SERVER_SUFFIX
from catalog.model import (
    ClusterApiServer,
    HttpServer,
    Platform,
    RemoteServer,
    StdioServer,
)

__all__ = [
    "CATALOG_CONFIGMAP",
    "CATALOG_ENV",
    "CATALOG_MOUNT",
    "DATABASE_URL_ENV",
    "HTTP_PORT_NAME",
    "KUBECONFIG_PATH",
    "METRICS_PATH",
    "METRICS_PORT_NAME",
    "PART_OF",
    "PR_AUTOMATION_SERVICE",
    "RUNTIME_SERVICES",
    "SERVER_SUFFIX",
    "SERVICE_PORT",
    "AnnotationKeys",
    "RuntimeService",
    "database_host",
    "database_pod_selector",
    "database_resource_name",
    "discovery_annotations",
    "gateway_metrics_service_name",
    "health_path",
    "labels",
    "runtime_port",
    "runtime_resource_name",
    "runtime_url",
    "secret_resource_name",
    "selector",
    "server_endpoints",
    "server_name_of",
    "server_path",
    "server_pod_selector",
    "server_port",
    "server_resource_name",
    "server_transport",
    "service_host",
    "service_port",
]

PART_OF = "mcpfleet"
AnyServer = ClusterApiServer | StdioServer | HttpServer | RemoteServer
RuntimeService = Literal["gateway", "triage", "router", "discovery", "ollama", "postgres"]
RUNTIME_SERVICES: tuple[RuntimeService, ...] = (
    "gateway",
    "triage",
    "router",
    "discovery",
    "ollama",
    "postgres",
)


HTTP_PORT_NAME = "http"
METRICS_PORT_NAME = "metrics"
METRICS_PATH = "/metrics"
CATALOG_CONFIGMAP = f"{PART_OF}-catalog"
CATALOG_MOUNT = "/etc/mcpfleet/catalog"
CATALOG_ENV = "MCPFLEET_CATALOG"
DATABASE_URL_ENV = "DATABASE_URL"
KUBECONFIG_PATH = "/etc/kubernetes/kubeconfig"
"""Where a remote cluster's kubeconfig / talosconfig is mounted in a cluster-api server."""

PR_AUTOMATION_SERVICE = "pr-automation"
"""A second Service in front of discovery, which does the seed's "PR automation"."""
SERVICE_PORT = 8080
"""The seed's Services all answer on 8080 (``mcp-triage:8080``, ``pr-automation:8080``);
the container behind may listen elsewhere (runtime services share one host locally)."""

_TOOLHIVE_NAME_LABEL = "toolhive-name"
_OLLAMA_PORT = 11434
_POSTGRES_PORT = 5432
_RUNTIME_NAMES: dict[RuntimeService, str] = {
    "gateway": "mcp-gateway",
    "triage": "mcp-triage",
    "router": "multi-model-router",
    "discovery": "discovery-service",
    "ollama": "ollama-triage",
    "postgres": "postgres-vector-db",
}


def server_resource_name(server: AnyServer | str) -> str:
    """Name of every Kubernetes object made for an MCP server (Deployment, Service, SA …)."""
    name = server if isinstance(server, str) else server.name
    return f"{name}{SERVER_SUFFIX}"


def server_name_of(resource_name: str) -> str:
    """The catalog name behind a server's Kubernetes name (``kubernetes-prod-mcp`` →
    ``kubernetes-prod``); a name without the suffix is returned as it is."""
    return resource_name.removesuffix(SERVER_SUFFIX) or resource_name


def runtime_resource_name(service: RuntimeService) -> str:
    """Name of a runtime service's Deployment/Service: the seed's, e.g. ``mcp-gateway``."""
    return _RUNTIME_NAMES[service]


def runtime_port(service: RuntimeService, platform: Platform) -> int:
    """The port a runtime service listens on and its Service exposes."""
    ports = {
        "gateway": platform.gateway.port,
        "triage": platform.triage.port,
        "router": platform.router.port,
        "discovery": platform.discovery.port,
        "ollama": _OLLAMA_PORT,
        "postgres": _POSTGRES_PORT,
    }
    return ports[service]


def service_port(service: RuntimeService, platform: Platform) -> int:
    """The port a runtime service's Service exposes (its container port is
    :func:`runtime_port`): the gateway's own, 8080 for the other HTTP services."""
    if service in ("ollama", "postgres"):
        return runtime_port(service, platform)
    if service == "gateway":
        return platform.gateway.port
    return SERVICE_PORT


def runtime_url(service: RuntimeService, platform: Platform) -> str:
    """In-cluster base URL of a runtime service, e.g. ``http://mcp-triage.mcp-system…:8080``."""
    host = service_host(runtime_resource_name(service), platform.namespace.name)
    if service == "postgres":
        host = service_host(database_host(platform), platform.namespace.name)
        return f"postgresql://{host}:{_POSTGRES_PORT}/{platform.database.name}"
    return f"http://{host}:{service_port(service, platform)}"


def health_path(service: RuntimeService) -> str:
    """Where a runtime service answers the kubelet's probes, unauthenticated."""
    return "/healthz" if service == "discovery" else "/api/v1/health"


def gateway_metrics_service_name() -> str:
    """ClusterIP Service that exposes the gateway's metrics port inside the cluster only."""
    return f"{runtime_resource_name('gateway')}-metrics"


def database_resource_name() -> str:
    """The StatefulSet or CloudNativePG ``Cluster`` that holds PostgreSQL."""
    return runtime_resource_name("postgres")


def database_host(platform: Platform) -> str:
    """Service name clients connect to: the StatefulSet's Service or CloudNativePG's ``-rw``."""
    name = database_resource_name()
    return f"{name}-rw" if platform.database.engine == "cloudnative-pg" else name


def database_pod_selector(platform: Platform) -> dict[str, str]:
    """Labels of the PostgreSQL pods (CloudNativePG labels its pods ``cnpg.io/cluster``)."""
    if platform.database.engine == "cloudnative-pg":
        return {"cnpg.io/cluster": database_resource_name()}
    return selector(database_resource_name())


def secret_resource_name(path_name: str) -> str:
    """Kubernetes Secret holding one secrets-backend path (a key of ``secrets.paths``)."""
    return f"{PART_OF}-secrets-{path_name}"


def labels(component: str, instance: str) -> dict[str, str]:
    """Recommended Kubernetes labels plus the seed's ``app`` (``kubectl -l app=mcp-gateway``);
    ``component`` is ``mcp-server`` or a runtime service."""
    return {
        "app": instance,
        "app.kubernetes.io/name": instance,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector(instance: str) -> dict[str, str]:
    """The stable subset of :func:`labels` that Services and policies select on."""
    return {"app.kubernetes.io/instance": instance, "app.kubernetes.io/part-of": PART_OF}


def server_pod_selector(server: AnyServer) -> dict[str, str]:
    """Labels of every pod that runs ``server``; network policies select on these.

    A stdio server's pods are made by ToolHive (its proxy and the server it attaches to),
    which labels both with ``toolhive-name: <MCPServer name>``.
    """
    name = server_resource_name(server)
    if isinstance(server, StdioServer):
        return {_TOOLHIVE_NAME_LABEL: name}
    return selector(name)


def server_port(server: AnyServer) -> int:
    """The port the server's Service exposes (ToolHive's proxy port for stdio servers)."""
    if isinstance(server, StdioServer):
        return server.proxy_port
    if isinstance(server, RemoteServer):
        return 443
    return server.port


def server_transport(server: AnyServer) -> Literal["streamable-http", "sse"]:
    """How the gateway speaks to the server in the cluster (ToolHive proxies stdio)."""
    return "streamable-http" if isinstance(server, StdioServer) else server.transport


def server_path(server: AnyServer) -> str:
    if isinstance(server, StdioServer):
        return "/mcp"
    if isinstance(server, RemoteServer):
        return ""
    return server.path


def service_host(name: str, namespace: str) -> str:
    return f"{name}.{namespace}.svc.cluster.local"


def server_endpoints(server: AnyServer, platform: Platform) -> list[str]:
    """URLs the gateway uses for the server inside the cluster."""
    if isinstance(server, RemoteServer):
        return list(server.urls)
    host = service_host(server_resource_name(server), platform.namespace.name)
    return [f"http://{host}:{server_port(server)}{server_path(server)}"]


@dataclass(frozen=True)
class AnnotationKeys:
    """The discovery annotation keys under the catalog's prefix (``mcp.shreck.io/...``)."""

    prefix: str

    @property
    def enabled(self) -> str:
        return f"{self.prefix}/enabled"

    @property
    def type(self) -> str:
        return f"{self.prefix}/type"

    @property
    def capabilities(self) -> str:
        return f"{self.prefix}/capabilities"

    @property
    def port(self) -> str:
        return f"{self.prefix}/port"

    @property
    def path(self) -> str:
        return f"{self.prefix}/path"

    @property
    def transport(self) -> str:
        return f"{self.prefix}/transport"

    @property
    def server(self) -> str:
        """The catalog server name, so discovery can match a Service to its entry."""
        return f"{self.prefix}/server"


def discovery_annotations(server: AnyServer, prefix: str) -> dict[str, str]:
    """Annotations the compiler puts on a server's Service for discovery to read back."""
    keys = AnnotationKeys(prefix)
    return {
        keys.enabled: "true",
        keys.type: server.kind,
        keys.capabilities: ",".join(server.tags) or "tools",
        keys.port: str(server_port(server)),
        keys.path: server_path(server) or "/",
        keys.transport: server_transport(server),
        keys.server: server.name,
    }
