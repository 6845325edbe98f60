"""The ``McpServer`` component: ServiceAccount, workload, Service, and its own policies."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import ClusterApiServer, HttpServer, Platform, RemoteServer, StdioServer
from catalog.naming import selector, server_endpoints, server_resource_name
from components.meta import Manifest, child_options, object_meta
from components.secret_refs import SecretIndex
from components.servers.cluster_api import READ_ONLY_RULES, cluster_api_deployment
from components.servers.common import (
    InClusterServer,
    server_egress,
    server_ingress,
    server_service,
    service_annotations,
)
from components.servers.http import http_deployment
from components.servers.remote import remote_egress
from components.servers.stdio import TOOLHIVE_API, mcpserver_spec, toolhive_proxy_selector

__all__ = ["McpServer", "McpServerArgs"]

_COMPONENT = "mcp-server"
_CILIUM_API = "cilium.io/v2"


@dataclass(frozen=True)
class McpServerArgs:
    server: ClusterApiServer | StdioServer | HttpServer | RemoteServer
    platform: Platform
    namespace: pulumi.Input[str]
    secrets: SecretIndex


class McpServer(pulumi.ComponentResource):
    """Everything one catalog entry needs in the cluster; ``endpoints`` is what the gateway uses."""

    def __init__(
        self, name: str, args: McpServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:McpServer", name, None, opts)
        self._name, self._args = name, args
        server = args.server
        self.resource_name = server_resource_name(server)
        if isinstance(server, RemoteServer):
            self._cilium(remote_egress(server))
        else:
            self._in_cluster(server)
        self.endpoints = server_endpoints(server, args.platform)
        self.register_outputs({"endpoints": self.endpoints, "kind": server.kind})

    def _meta(self, name: str | None = None, annotations: dict[str, str] | None = None) -> Manifest:
        return object_meta(
            name or self.resource_name,
            component=_COMPONENT,
            instance=self.resource_name,
            namespace=self._args.namespace,
            annotations=annotations,
        )

    def _in_cluster(self, server: InClusterServer) -> None:
        name, args = self._name, self._args
        account = k8s.core.v1.ServiceAccount(
            f"{name}-serviceaccount",
            metadata=self._meta(),
            automount_service_account_token=False,
            opts=child_options(self),
        )
        after = [account]
        pods = selector(self.resource_name)
        entities: list[str] = []
        if isinstance(server, ClusterApiServer):
            if server.cluster == "in-cluster" and server.api == "kubernetes":
                self._read_only_rbac()
            k8s.apps.v1.Deployment(
                f"{name}-deployment",
                metadata=self._meta(),
                spec=cluster_api_deployment(server, args.secrets),
                opts=child_options(self, depends_on=after),
            )
        elif isinstance(server, HttpServer):
            k8s.apps.v1.Deployment(
                f"{name}-deployment",
                metadata=self._meta(),
                spec=http_deployment(server, args.secrets),
                opts=child_options(self, depends_on=after),
            )
        else:
            k8s.apiextensions.CustomResource(
                f"{name}-mcpserver",
                api_version=TOOLHIVE_API,
                kind="MCPServer",
                metadata=self._meta(),
                spec=mcpserver_spec(server, args.secrets),
                opts=child_options(self, depends_on=after),
            )
            pods = toolhive_proxy_selector(server)
            entities.append("kube-apiserver")  # the proxy attaches to the server's stdio
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=self._meta(
                annotations=service_annotations(server, args.platform.discovery.annotation_prefix)
            ),
            spec=server_service(server, pods),
            opts=child_options(self),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-networkpolicy",
            metadata=self._meta(),
            spec=server_ingress(server),
            opts=child_options(self),
        )
        self._cilium(server_egress(server, entities))

    def _read_only_rbac(self) -> None:
        name = self._name
        meta = object_meta(self.resource_name, component=_COMPONENT)
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-clusterrole",
            metadata=meta,
            rules=list(READ_ONLY_RULES),
            opts=child_options(self),
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-clusterrolebinding",
            metadata=meta,
            role_ref={
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role.metadata.name,
            },
            subjects=[
                {
                    "kind": "ServiceAccount",
                    "name": self.resource_name,
                    "namespace": self._args.namespace,
                }
            ],
            opts=child_options(self),
        )

    def _cilium(self, spec: Manifest | None) -> None:
        if spec is None:
            return
        k8s.apiextensions.CustomResource(
            f"{self._name}-egress",
            api_version=_CILIUM_API,
            kind="CiliumNetworkPolicy",
            metadata=self._meta(f"{self.resource_name}-egress"),
            spec=spec,
            opts=child_options(self),
        )
