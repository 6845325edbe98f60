"""The MCP gateway: the fleet's one endpoint, on a fixed LoadBalancer IP from the Cilium pool."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Platform
from catalog.naming import (
    HTTP_PORT_NAME,
    METRICS_PORT_NAME,
    gateway_metrics_service_name,
    runtime_resource_name,
    runtime_url,
    selector,
)
from components.meta import Manifest, child_options, object_meta
from components.pods import env_from_secret
from components.services import RuntimeService, RuntimeServiceArgs
from components.triage import TRIAGE_TOKEN_ENV, TRIAGE_TOKEN_KEY
from components.workload import CatalogMount, RuntimeWorkload

__all__ = [
    "LB_IPS_ANNOTATION",
    "LB_POOL_LABEL",
    "Gateway",
    "GatewayArgs",
    "l2_announcement_policy",
    "load_balancer_pool",
]

LB_POOL_LABEL = "mcpfleet.io/lb-pool"
"""Services carrying this label take their IP from the pool and are announced on L2."""
LB_IPS_ANNOTATION = "lbipam.cilium.io/ips"
"""Cilium LB-IPAM's way to request a specific IP (``spec.loadBalancerIP`` is deprecated)."""
_CILIUM_V2 = "cilium.io/v2"
_CILIUM_V2ALPHA1 = "cilium.io/v2alpha1"


def load_balancer_pool(platform: Platform) -> Manifest:
    lb = platform.load_balancer
    return {
        "blocks": [{"start": str(lb.start), "stop": str(lb.stop)}],
        "serviceSelector": {"matchLabels": {LB_POOL_LABEL: lb.pool_name}},
    }


def l2_announcement_policy(platform: Platform) -> Manifest:
    """Answer ARP for the pool's IPs on the nodes' LAN interfaces (no BGP in a homelab)."""
    lb = platform.load_balancer
    return {
        "serviceSelector": {"matchLabels": {LB_POOL_LABEL: lb.pool_name}},
        "interfaces": list(lb.interfaces),
        "loadBalancerIPs": True,
    }


def _triage_env(platform: Platform, gateway_secret: str | None) -> list[Manifest]:
    """The gateway hosts triage (``/api/v1/query``, ``find_tools``): its Ollama and router token."""
    env: list[Manifest] = [
        {"name": "MCPFLEET_OLLAMA_URL", "value": runtime_url("ollama", platform)}
    ]
    if gateway_secret:
        env.append(
            env_from_secret(TRIAGE_TOKEN_ENV, gateway_secret, TRIAGE_TOKEN_KEY, optional=True)
        )
    return env


def _public_url(platform: Platform) -> tuple[str, ...]:
    """The external URL the gateway advertises (OAuth resource metadata) when it has one."""
    traefik = platform.ingress.traefik
    return ("--public-url", f"https://{traefik.host}") if traefik.enabled else ()


@dataclass(frozen=True)
class GatewayArgs:
    platform: Platform
    namespace: pulumi.Input[str]
    catalog_mount: CatalogMount
    database_secret: str
    gateway_secret: str | None = None
    """The gateway path's Secret: ``TRIAGE_TOKEN`` there lets its triage call the router."""
    upstream_env: tuple[Manifest, ...] = ()
    """Credentials of remote servers, read from their Secrets (the gateway calls them)."""


class Gateway(pulumi.ComponentResource):
    """Deployment, LoadBalancer Service at ``gatewayIp``, metrics Service, IP pool, L2 policy."""

    def __init__(
        self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Gateway", name, None, opts)
        platform, ns = args.platform, args.namespace
        lb = platform.load_balancer
        pool = k8s.apiextensions.CustomResource(
            f"{name}-ip-pool",
            api_version=_CILIUM_V2,
            kind="CiliumLoadBalancerIPPool",
            metadata=object_meta(lb.pool_name, component="gateway"),
            spec=load_balancer_pool(platform),
            opts=child_options(self),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-l2-announcement",
            api_version=_CILIUM_V2ALPHA1,
            kind="CiliumL2AnnouncementPolicy",
            metadata=object_meta(f"{lb.pool_name}-l2", component="gateway"),
            spec=l2_announcement_policy(platform),
            opts=child_options(self),
        )
        gateway = platform.gateway
        RuntimeService(
            f"{name}-runtime",
            RuntimeServiceArgs(
                platform=platform,
                namespace=ns,
                workload=RuntimeWorkload(
                    service="gateway",
                    replicas=gateway.replicas,
                    resources=gateway.resources,
                    catalog=args.catalog_mount,
                    database_secret=args.database_secret,
                    env=[*_triage_env(platform, args.gateway_secret), *args.upstream_env],
                    extra_args=(
                        *_public_url(platform),
                        "--router-url",
                        runtime_url("router", platform),
                    ),
                ),
                service_type="LoadBalancer",
                service_annotations={LB_IPS_ANNOTATION: str(lb.gateway_ip)},
                service_labels={LB_POOL_LABEL: lb.pool_name},
            ),
            opts=child_options(self, depends_on=[pool]),
        )
        resource_name = runtime_resource_name("gateway")
        k8s.core.v1.Service(
            f"{name}-metrics",
            metadata=object_meta(
                gateway_metrics_service_name(),
                component="gateway",
                instance=resource_name,
                namespace=ns,
            ),
            spec={
                "selector": selector(resource_name),
                "ports": [
                    {
                        "name": METRICS_PORT_NAME,
                        "port": gateway.metrics_port,
                        "targetPort": HTTP_PORT_NAME,
                    }
                ],
            },
            opts=child_options(self),
        )
        self.ip = str(lb.gateway_ip)
        self.url = f"http://{self.ip}:{gateway.port}"
        self.register_outputs({"ip": self.ip, "url": self.url})
