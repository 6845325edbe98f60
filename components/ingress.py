"""The way in from outside: a Traefik IngressRoute for the gateway host, optionally a tunnel."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Platform, Resources
from catalog.naming import (
    labels,
    runtime_port,
    runtime_resource_name,
    runtime_url,
    selector,
)
from components.meta import Manifest, child_options, object_meta
from components.pods import container, env_from_secret, pod_spec
from components.policies import cilium_egress, egress_to, pod_peer
from components.secret_refs import SecretIndex

__all__ = ["CLOUDFLARE_HOSTS", "Ingress", "IngressArgs", "cloudflared_deployment", "ingress_route"]

CLOUDFLARE_HOSTS = ("*.argotunnel.com", "*.cloudflare.com")
_TUNNEL_PORTS = (443, 7844)
_CLOUDFLARED_UID = 65532
_CLOUDFLARED_RESOURCES = Resources(
    requests={"cpu": "10m", "memory": "32Mi"}, limits={"cpu": "500m", "memory": "128Mi"}
)


def ingress_route(platform: Platform) -> Manifest:
    traefik = platform.ingress.traefik
    tls: Manifest = {"certResolver": traefik.cert_resolver} if traefik.cert_resolver else {}
    return {
        "entryPoints": list(traefik.entry_points),
        "routes": [
            {
                "match": f"Host(`{traefik.host}`)",
                "kind": "Rule",
                "services": [
                    {
                        "name": runtime_resource_name("gateway"),
                        "port": runtime_port("gateway", platform),
                    }
                ],
            }
        ],
        "tls": tls,
    }


def cloudflared_name() -> str:
    return "mcpfleet-cloudflared"


def cloudflared_deployment(platform: Platform, index: SecretIndex) -> Manifest:
    """``cloudflared tunnel run`` with the token from the secrets backend (never in the spec)."""
    tunnel = platform.ingress.cloudflare_tunnel
    if tunnel.token is None:
        raise ValueError("ingress.cloudflareTunnel is enabled but has no `token`")
    secret, key = index.ref(tunnel.token)
    name = cloudflared_name()
    app = container(
        "cloudflared",
        tunnel.image,
        args=["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"],
        env=[env_from_secret("TUNNEL_TOKEN", secret, key)],
        ports={"metrics": 2000},
        resources=_CLOUDFLARED_RESOURCES,
        probe_path="/ready",
        probe_port="metrics",
    )
    return {
        "replicas": 2,
        "selector": {"matchLabels": selector(name)},
        "template": {
            "metadata": {"labels": labels("cloudflared", name)},
            "spec": pod_spec([app], uid=_CLOUDFLARED_UID),
        },
    }


@dataclass(frozen=True)
class IngressArgs:
    platform: Platform
    namespace: pulumi.Input[str]
    secrets: SecretIndex


class Ingress(pulumi.ComponentResource):
    """IngressRoute ``Host(<host>)`` → gateway; cloudflared and its egress when enabled."""

    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Ingress", name, None, opts)
        platform, ns = args.platform, args.namespace
        outputs: dict[str, object] = {}
        if platform.ingress.traefik.enabled:
            k8s.apiextensions.CustomResource(
                f"{name}-route",
                api_version="traefik.io/v1alpha1",
                kind="IngressRoute",
                metadata=object_meta(
                    runtime_resource_name("gateway"), component="ingress", namespace=ns
                ),
                spec=ingress_route(platform),
                opts=child_options(self),
            )
            outputs["url"] = f"https://{platform.ingress.traefik.host}"
        if platform.ingress.cloudflare_tunnel.enabled:
            self._tunnel(name, args)
            outputs["tunnelService"] = runtime_url("gateway", platform)
        self.url = outputs.get("url")
        self.register_outputs(outputs)

    def _tunnel(self, name: str, args: IngressArgs) -> None:
        platform, ns = args.platform, args.namespace
        tunnel = cloudflared_name()
        k8s.apps.v1.Deployment(
            f"{name}-cloudflared",
            metadata=object_meta(tunnel, component="cloudflared", namespace=ns),
            spec=cloudflared_deployment(platform, args.secrets),
            opts=child_options(self),
        )
        gateway = pod_peer(selector(runtime_resource_name("gateway")))
        k8s.networking.v1.NetworkPolicy(
            f"{name}-cloudflared-egress",
            metadata=object_meta(f"{tunnel}-egress", component="cloudflared", namespace=ns),
            spec=egress_to(selector(tunnel), [(gateway, [runtime_port("gateway", platform)])]),
            opts=child_options(self),
        )
        external = cilium_egress(selector(tunnel), fqdns=CLOUDFLARE_HOSTS, ports=_TUNNEL_PORTS)
        k8s.apiextensions.CustomResource(
            f"{name}-cloudflared-egress-external",
            api_version="cilium.io/v2",
            kind="CiliumNetworkPolicy",
            metadata=object_meta(
                f"{tunnel}-egress-external", component="cloudflared", namespace=ns
            ),
            spec=external,
            opts=child_options(self),
        )
