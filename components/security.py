"""Namespace-wide network policy: deny by default, then each runtime service's flows.

MCP servers carry their own policies (see :mod:`components.servers`); this component
covers the namespace baseline and the fixed flows between gateway, triage, router,
discovery, Ollama, PostgreSQL and the backup job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Catalog, Egress
from catalog.naming import (
    PART_OF,
    RuntimeService,
    database_pod_selector,
    runtime_port,
    runtime_resource_name,
    selector,
)
from components.backup import backup_name
from components.meta import Manifest, child_options, object_meta
from components.policies import (
    SCRAPER_PEER,
    allow_dns,
    cilium_egress,
    default_deny,
    egress_to,
    host_egress,
    ingress_from,
    pod_peer,
    provider_hosts,
)

__all__ = [
    "CNPG_OPERATOR_NAMESPACE",
    "GITHUB_HOSTS",
    "OLLAMA_REGISTRY_HOSTS",
    "Security",
    "SecurityArgs",
]

GITHUB_HOSTS = ("api.github.com", "github.com")
OLLAMA_REGISTRY_HOSTS = ("registry.ollama.ai", "*.r2.cloudflarestorage.com")
CNPG_OPERATOR_NAMESPACE = "cnpg-system"
_CNPG_STATUS_PORT = 8000
_MCP_SERVER_PODS: tuple[Manifest, ...] = (
    {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "mcp-server"}}},
    {"podSelector": {"matchLabels": {"toolhive": "true"}}},
)
"""Every MCP server pod: ours are labelled ``mcp-server``, ToolHive's proxies ``toolhive``."""


@dataclass(frozen=True)
class SecurityArgs:
    catalog: Catalog
    namespace: pulumi.Input[str]


def _runtime(service: RuntimeService) -> dict[str, str]:
    if service == "postgres":
        raise ValueError("use the database selector for postgres")
    return selector(runtime_resource_name(service))


class Security(pulumi.ComponentResource):
    """Default deny, DNS for all, and every runtime service's ingress and egress."""

    def __init__(
        self, name: str, args: SecurityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Security", name, None, opts)
        self._name, self._ns = name, args.namespace
        catalog = args.catalog
        platform = catalog.platform
        port = {s: runtime_port(s, platform) for s in ("gateway", "triage", "router", "discovery")}
        ollama, postgres = runtime_port("ollama", platform), runtime_port("postgres", platform)
        db = database_pod_selector(platform)
        peer = {s: pod_peer(_runtime(s)) for s in ("gateway", "triage", "router", "discovery")}
        backup = pod_peer(selector(backup_name()))

        self._network("default-deny", f"{PART_OF}-default-deny", default_deny())
        self._network("allow-dns", f"{PART_OF}-allow-dns", allow_dns())
        ingress = {
            "gateway": ingress_from(_runtime("gateway"), None, [port["gateway"]]),
            "triage": ingress_from(
                _runtime("triage"), [peer["gateway"], SCRAPER_PEER], [port["triage"]]
            ),
            "router": ingress_from(
                _runtime("router"),
                [peer["gateway"], peer["triage"], SCRAPER_PEER],
                [port["router"]],
            ),
            "discovery": ingress_from(_runtime("discovery"), [SCRAPER_PEER], [port["discovery"]]),
            "ollama": ingress_from(
                _runtime("ollama"), [peer["gateway"], peer["triage"], peer["router"]], [ollama]
            ),
            "postgres": ingress_from(db, [*peer.values(), backup], [postgres]),
        }
        for service, spec in ingress.items():
            self._network(f"{service}-ingress", f"{PART_OF}-{service}-ingress", spec)
        if platform.database.engine == "cloudnative-pg":
            operator = {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": CNPG_OPERATOR_NAMESPACE}
                }
            }
            spec = ingress_from(db, [operator], [_CNPG_STATUS_PORT, postgres])
            spec["ingress"].append({"from": [{"podSelector": {"matchLabels": db}}]})
            self._network("postgres-cnpg", f"{PART_OF}-postgres-cnpg", spec)

        database = (pod_peer(db), [postgres])
        egress: dict[RuntimeService, list[tuple[Manifest, Iterable[int]]]] = {
            "gateway": [
                *((p, ()) for p in _MCP_SERVER_PODS),
                (peer["triage"], [port["triage"]]),
                (peer["router"], [port["router"]]),
                (pod_peer(_runtime("ollama")), [ollama]),  # the triage it hosts
                database,
            ],
            "triage": [
                (pod_peer(_runtime("ollama")), [ollama]),
                (peer["router"], [port["router"]]),
                (peer["gateway"], [port["gateway"]]),
                database,
            ],
            "router": [(pod_peer(_runtime("ollama")), [ollama]), database],
            "discovery": [database],
        }
        for service, peers in egress.items():
            self._network(
                f"{service}-egress",
                f"{PART_OF}-{service}-egress",
                egress_to(_runtime(service), peers),
            )
        backup_egress = egress_to(selector(backup_name()), [database])
        self._network("backup-egress", f"{backup_name()}-egress", backup_egress)

        discovery_hosts = GITHUB_HOSTS if platform.discovery.proposals == "github" else ()
        self._cilium("router", _runtime("router"), provider_hosts(catalog.models.providers))
        self._cilium(
            "discovery",
            _runtime("discovery"),
            discovery_hosts,
            entities=["kube-apiserver", "cluster"],
        )
        self._cilium("ollama", _runtime("ollama"), OLLAMA_REGISTRY_HOSTS)
        self._issuers(catalog)
        self.register_outputs({})

    def _issuers(self, catalog: Catalog) -> None:
        """The gateway fetches its issuers' metadata and signing keys (``gateway.auth``)."""
        issuers = catalog.platform.gateway.auth.issuers
        urls = [i.issuer for i in issuers] + [i.jwks_uri for i in issuers if i.jwks_uri]
        cidrs, fqdns, ports = host_egress(Egress(), urls)
        spec = cilium_egress(_runtime("gateway"), cidrs=cidrs, fqdns=fqdns, ports=ports)
        if spec is None:
            return
        k8s.apiextensions.CustomResource(
            f"{self._name}-gateway-egress-issuers",
            api_version="cilium.io/v2",
            kind="CiliumNetworkPolicy",
            metadata=object_meta(
                f"{PART_OF}-gateway-egress-issuers", component="security", namespace=self._ns
            ),
            spec=spec,
            opts=child_options(self),
        )

    def _network(self, suffix: str, name: str, spec: Manifest) -> None:
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-{suffix}",
            metadata=object_meta(name, component="security", namespace=self._ns),
            spec=spec,
            opts=child_options(self),
        )

    def _cilium(
        self,
        service: str,
        pods: dict[str, str],
        fqdns: Iterable[str],
        entities: Iterable[str] = (),
    ) -> None:
        fqdns = list(fqdns)
        spec = cilium_egress(pods, fqdns=fqdns, ports=[443] if fqdns else [], entities=entities)
        if spec is None:
            return
        k8s.apiextensions.CustomResource(
            f"{self._name}-{service}-egress-external",
            api_version="cilium.io/v2",
            kind="CiliumNetworkPolicy",
            metadata=object_meta(
                f"{PART_OF}-{service}-egress-external", component="security", namespace=self._ns
            ),
            spec=spec,
            opts=child_options(self),
        )
