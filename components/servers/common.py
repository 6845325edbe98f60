"""What every in-cluster MCP server gets: environment, Service, ingress and egress policy."""

from __future__ import annotations

from collections.abc import Sequence

from catalog.model import ClusterApiServer, HttpServer, StdioServer
from catalog.naming import (
    HTTP_PORT_NAME,
    RuntimeService,
    discovery_annotations,
    runtime_resource_name,
    selector,
    server_pod_selector,
    server_port,
)
from components.meta import Manifest
from components.pods import env_from_secret, env_values
from components.policies import cilium_egress, ingress_from, pod_peer
from components.secret_refs import SecretIndex

__all__ = [
    "InClusterServer",
    "server_egress",
    "server_env",
    "server_ingress",
    "server_service",
    "service_annotations",
    "tcp_probes",
]

InClusterServer = ClusterApiServer | StdioServer | HttpServer
_CALLERS: tuple[RuntimeService, ...] = ("gateway", "discovery")
"""The gateway calls tools; discovery probes ``initialize`` and ``tools/list``."""


def server_env(server: InClusterServer, index: SecretIndex) -> list[Manifest]:
    """Catalog ``env`` values, then each secret reference read from its path's Secret."""
    env = env_values(server.env)
    for ref in server.secrets:
        secret, key = index.ref(ref)
        env.append(env_from_secret(ref.env, secret, key))
    return env


def server_service(server: InClusterServer, pods: dict[str, str]) -> Manifest:
    """The Service the gateway reaches (see :func:`catalog.naming.server_endpoints`)."""
    port = server_port(server)
    return {
        "selector": pods,
        "ports": [{"name": HTTP_PORT_NAME, "port": port, "targetPort": port, "protocol": "TCP"}],
    }


def service_annotations(server: InClusterServer, prefix: str) -> dict[str, str]:
    return discovery_annotations(server, prefix)


def server_ingress(server: InClusterServer) -> Manifest:
    """Only the gateway and discovery may connect, and only on the server's port."""
    callers = [pod_peer(selector(runtime_resource_name(s))) for s in _CALLERS]
    return ingress_from(server_pod_selector(server), callers, [server_port(server)])


def server_egress(server: InClusterServer, entities: Sequence[str] = ()) -> Manifest | None:
    """Egress to exactly the CIDRs, FQDNs and ports the entry names (and the API if asked)."""
    egress = server.egress
    wanted = list(entities)
    if egress.kube_api_server:
        wanted.append("kube-apiserver")
    return cilium_egress(
        server_pod_selector(server),
        cidrs=egress.cidrs,
        fqdns=egress.fqdns,
        ports=egress.ports,
        entities=wanted,
    )


def tcp_probes(port: int) -> Manifest:
    """MCP has no health route; a server accepting connections on its port is ready."""
    probe = {"tcpSocket": {"port": port}, "periodSeconds": 10}
    return {
        "readinessProbe": {**probe, "failureThreshold": 3},
        "livenessProbe": {**probe, "failureThreshold": 6, "initialDelaySeconds": 15},
    }
