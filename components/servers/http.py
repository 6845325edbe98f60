"""HTTP MCP servers: a container that serves streamable HTTP or SSE itself."""

from __future__ import annotations

from catalog.model import HttpServer
from catalog.naming import labels, selector, server_resource_name
from components.meta import Manifest
from components.pods import container, pod_spec, scratch_volume
from components.secret_refs import SecretIndex
from components.servers.common import server_env, tcp_probes

__all__ = ["http_deployment"]


def http_deployment(server: HttpServer, index: SecretIndex) -> Manifest:
    name = server_resource_name(server)
    app = container(
        "server",
        server.image,
        args=server.args,
        env=[*server_env(server, index), {"name": "HOME", "value": "/tmp"}],
        ports={"mcp": server.port},
        resources=server.resources,
        volume_mounts=[{"name": "tmp", "mountPath": "/tmp"}],
    )
    app.update(tcp_probes(server.port))
    return {
        "replicas": server.replicas,
        "selector": {"matchLabels": selector(name)},
        "template": {
            "metadata": {"labels": labels("mcp-server", name)},
            "spec": pod_spec([app], service_account=name, volumes=[scratch_volume()]),
        },
    }
