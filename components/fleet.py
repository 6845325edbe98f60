"""The whole deployment from one catalog: every component, wired in dependency order.

The stack (``stack/__main__.py``) and ``mcpfleet render`` both build exactly this, so
what a newcomer renders without a cluster is what ``pulumi up`` applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Catalog, RemoteServer
from catalog.naming import (
    PR_AUTOMATION_SERVICE,
    RUNTIME_SERVICES,
    runtime_resource_name,
    server_resource_name,
)
from components.catalog_config import CatalogConfig, CatalogConfigArgs
from components.database import VectorDatabase, VectorDatabaseArgs
from components.gateway import Gateway, GatewayArgs
from components.gitops import GitOps, GitOpsArgs, namespace_labels
from components.ingress import Ingress, IngressArgs
from components.meta import Manifest
from components.namespace import Namespace, NamespaceArgs
from components.observability import Observability, ObservabilityArgs
from components.operators import Operators, OperatorsArgs
from components.pods import env_from_secret
from components.secret_refs import (
    GITHUB_TOKEN_KEY,
    SecretIndex,
    database_derived_keys,
    provider_key_envs,
    required_keys,
    secret_types,
)
from components.secrets import Secrets, SecretsArgs, SecretValues
from components.security import Security, SecurityArgs
from components.servers import McpServer, McpServerArgs
from components.services import DISCOVERY_RULES, RuntimeService, RuntimeServiceArgs
from components.triage import DISCOVERY_RESOURCES, ROUTER_RESOURCES, Triage, TriageArgs
from components.workload import CatalogMount, RuntimeWorkload

__all__ = ["FLEET_NAME", "Fleet", "FleetArgs"]

FLEET_NAME = "mcpfleet"
"""The Fleet component's name in the stack and in ``mcpfleet render``, so names match."""


@dataclass(frozen=True)
class FleetArgs:
    catalog: Catalog
    secrets: SecretValues = field(default_factory=SecretValues)
    """Values for ``secrets.backend: pulumi``; ignored with Infisical."""
    in_cluster: bool = False
    """Deploy with the pod's own credentials (the Pulumi operator), not the catalog's
    kubectl context."""


class Fleet(pulumi.ComponentResource):
    """Namespace, operators, secrets, database, triage, gateway, router, discovery, servers,
    security, ingress, observability and GitOps for one catalog."""

    def __init__(
        self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Fleet", name, None, opts)
        catalog = args.catalog
        platform = catalog.platform
        provider = k8s.Provider(
            f"{name}-kubernetes",
            context=None if args.in_cluster else platform.cluster.context,
            opts=pulumi.ResourceOptions(parent=self),
        )

        def child(*depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self, providers=[provider], depends_on=list(depends_on) or None
            )

        operators = Operators(f"{name}-operators", OperatorsArgs(catalog), child())
        namespace = Namespace(
            f"{name}-namespace",
            NamespaceArgs(
                platform.namespace,
                platform.cluster.kubernetes_version,
                namespace_labels(platform),
            ),
            child(),
        )
        ns = namespace.name
        index = SecretIndex(platform)
        required = required_keys(catalog)
        database_path = index.path_name(platform.database.credentials_path)
        secrets = Secrets(
            f"{name}-secrets",
            SecretsArgs(
                secrets=platform.secrets,
                namespace=ns,
                required=required,
                derived={database_path: database_derived_keys(platform)},
                types=secret_types(platform),
                values=args.secrets,
            ),
            child(*operators.ready("infisical")),
        )
        config = CatalogConfig(f"{name}-catalog", CatalogConfigArgs(catalog, ns), child())
        mount = CatalogMount(config.files, config.checksum)
        database_secret = index.secret_for_path(platform.database.credentials_path)
        database = VectorDatabase(
            f"{name}-database",
            VectorDatabaseArgs(platform, ns, database_secret),
            child(secrets, *operators.ready("cloudnative_pg")),
        )
        Security(f"{name}-security", SecurityArgs(catalog, ns), child())
        runtime = child(secrets, config, database)
        gateway_secret = (
            index.secret_for_name("gateway") if "gateway" in platform.secrets.paths else None
        )
        triage = Triage(
            f"{name}-triage",
            TriageArgs(catalog, ns, mount, database_secret, gateway_secret),
            runtime,
        )
        gateway = Gateway(
            f"{name}-gateway",
            GatewayArgs(
                platform, ns, mount, database_secret, gateway_secret, _remote_env(catalog, index)
            ),
            runtime,
        )
        router_secret = index.secret_for_name("router") if provider_key_envs(catalog) else None
        RuntimeService(
            f"{name}-router",
            RuntimeServiceArgs(
                platform=platform,
                namespace=ns,
                workload=RuntimeWorkload(
                    service="router",
                    replicas=platform.router.replicas,
                    resources=ROUTER_RESOURCES,
                    catalog=mount,
                    database_secret=database_secret,
                    env=[
                        env_from_secret(env, router_secret, env)
                        for env in provider_key_envs(catalog)
                        if router_secret
                    ],
                ),
            ),
            runtime,
        )
        discovery_env = (
            [
                env_from_secret(
                    GITHUB_TOKEN_KEY, index.secret_for_name("discovery"), GITHUB_TOKEN_KEY
                )
            ]
            if platform.discovery.proposals == "github"
            else []
        )
        RuntimeService(
            f"{name}-discovery",
            RuntimeServiceArgs(
                platform=platform,
                namespace=ns,
                workload=RuntimeWorkload(
                    service="discovery",
                    replicas=1,
                    resources=DISCOVERY_RESOURCES,
                    catalog=mount,
                    database_secret=database_secret,
                    env=discovery_env,
                ),
                cluster_rules=DISCOVERY_RULES,
                alias_services=(PR_AUTOMATION_SERVICE,),  # the seed's pr-automation:8080
            ),
            runtime,
        )
        toolhive = operators.ready("toolhive")
        servers = {
            server.name: McpServer(
                f"{name}-server-{server.name}",
                McpServerArgs(server, platform, ns, index),
                child(secrets, *(toolhive if server.kind == "stdio" else ())),
            )
            for server in catalog.servers
        }
        ingress = Ingress(f"{name}-ingress", IngressArgs(platform, ns, index), child(secrets))
        Observability(f"{name}-observability", ObservabilityArgs(catalog, ns), child())
        GitOps(
            f"{name}-gitops",
            GitOpsArgs(platform, ns),
            child(*operators.ready("pulumi_operator")),
        )
        self._warn_about(catalog)
        self.namespace = ns
        self.gateway_ip = gateway.ip
        self.gateway_url = gateway.url
        self.public_url = ingress.url
        self.database_host = database.host
        self.ollama_url = triage.ollama_url
        self.server_endpoints = {n: s.endpoints for n, s in servers.items()}
        self.prerequisites = operators.prerequisites
        self.register_outputs(
            {
                "namespace": ns,
                "gatewayIp": self.gateway_ip,
                "gatewayUrl": self.gateway_url,
                "servers": self.server_endpoints,
                "prerequisites": self.prerequisites,
            }
        )

    def _warn_about(self, catalog: Catalog) -> None:
        """Catalog settings that deploy fine but would not work; shown by preview and plan."""
        platform = catalog.platform
        services = {runtime_resource_name(s) for s in RUNTIME_SERVICES}
        services |= {server_resource_name(s) for s in catalog.servers}
        for provider in catalog.models.providers:
            host = urlsplit(provider.base_url or "").hostname or ""
            in_namespace = host.split(".")[1:2] == [platform.namespace.name]
            if in_namespace and host.split(".")[0] not in services:
                pulumi.log.warn(
                    f"models.yaml provider `{provider.name}` baseUrl host `{host}` is not a "
                    f"Service this stack creates (Ollama is `{runtime_resource_name('ollama')}`)",
                    resource=self,
                )


def _remote_env(catalog: Catalog, index: SecretIndex) -> tuple[Manifest, ...]:
    """Env vars the gateway needs to call remote servers: each one's secret references."""
    return tuple(
        env_from_secret(ref.env, *index.ref(ref))
        for server in catalog.servers
        if isinstance(server, RemoteServer)
        for ref in server.secrets
    )
