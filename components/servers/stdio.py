"""Stdio servers, run by the ToolHive operator from an ``MCPServer`` resource.

ToolHive starts the server in its own pod and attaches to its stdin/stdout through the
Kubernetes API, then serves it as streamable HTTP from a proxy pod (a sidecar could not
reach another container's stdio). The compiler adds its own Service ``mcp-<name>`` in
front of the proxy so the gateway's address and the discovery annotations follow
:mod:`catalog.naming` like every other server.
"""

from __future__ import annotations

from catalog.model import StdioServer
from catalog.naming import labels, server_resource_name
from components.meta import Manifest
from components.pods import (
    container_security,
    env_from_secret,
    env_values,
    pod_security,
    resource_requirements,
)
from components.secret_refs import SecretIndex

__all__ = ["TOOLHIVE_API", "mcpserver_spec", "toolhive_proxy_selector"]

TOOLHIVE_API = "toolhive.stacklok.dev/v1beta1"
_MCP_CONTAINER = "mcp"
"""ToolHive merges the pod template's container of this name into the server container."""


def toolhive_proxy_selector(server: StdioServer) -> dict[str, str]:
    """The labels ToolHive puts on the proxy pods it runs for an ``MCPServer``."""
    return {"app": "mcpserver", "toolhive-name": server_resource_name(server)}


def _proxy_labels(name: str) -> dict[str, str]:
    """Our labels for ToolHive's proxy pods, without ``app``: ToolHive selects its proxy
    by ``app: mcpserver`` (:func:`toolhive_proxy_selector`), which must stay as it is."""
    return {k: v for k, v in labels("mcp-server", name).items() if k != "app"}


def mcpserver_spec(server: StdioServer, index: SecretIndex) -> Manifest:
    """The ``MCPServer`` spec: image, proxy, env, resources, and a restricted pod template.

    Secret references go through the pod template rather than ``spec.secrets``, which
    allows one key per Secret while a path often holds several (key and secret).
    The root filesystem stays writable: ``uvx://`` images install the package at start.
    """
    name = server_resource_name(server)
    secret_env = []
    for ref in server.secrets:
        secret, key = index.ref(ref)
        secret_env.append(env_from_secret(ref.env, secret, key))
    mcp: Manifest = {
        "name": _MCP_CONTAINER,
        "securityContext": container_security(read_only_root=False),
    }
    if secret_env:
        mcp["env"] = secret_env
    spec: Manifest = {
        "image": server.image,
        "transport": "stdio",
        "proxyMode": "streamable-http",
        "proxyPort": server.proxy_port,
        "serviceAccount": name,
        "permissionProfile": {"type": "builtin", "name": "network"},
        "resources": resource_requirements(server.resources),
        "resourceOverrides": {
            "proxyDeployment": {
                "podTemplateMetadataOverrides": {"labels": _proxy_labels(name)},
            },
        },
        "podTemplateSpec": {
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": pod_security(),
                "containers": [mcp],
            }
        },
    }
    if server.args:
        spec["args"] = list(server.args)
    if server.env:
        spec["env"] = env_values(server.env)
    return spec
