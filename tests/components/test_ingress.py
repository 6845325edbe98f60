"""Traefik routes the gateway host; a Cloudflare tunnel is optional and egress-limited."""

from __future__ import annotations

from catalog import Catalog
from components.ingress import Ingress, IngressArgs
from components.render import Rendering
from components.secret_refs import SecretIndex

from .conftest import render, with_platform


def _render(catalog: Catalog) -> Rendering:
    args = IngressArgs(catalog.platform, "mcp-system", SecretIndex(catalog.platform))
    return render(lambda: Ingress("ingress", args))


def test_the_ingress_route_sends_the_catalog_host_to_the_gateway(shipped: Catalog) -> None:
    rendering = _render(shipped)
    spec = rendering.find("IngressRoute", "mcp-gateway").manifest["spec"]
    assert spec["entryPoints"] == ["websecure"]
    (route,) = spec["routes"]
    assert route["match"] == "Host(`mcp.kernow.io`)"
    assert route["services"] == [{"name": "mcp-gateway", "port": 8080}]
    assert spec["tls"] == {"certResolver": "letsencrypt"}
    # the seed's Cloudflare tunnel is on in the shipped catalog; the route needs nothing else
    assert [d.object_name for d in rendering.of_kind("Deployment")] == ["mcpfleet-cloudflared"]


def test_an_enabled_tunnel_runs_cloudflared_with_the_token_by_reference(shipped: Catalog) -> None:
    catalog = with_platform(
        shipped,
        ingress=shipped.platform.ingress.model_copy(
            update={
                "cloudflare_tunnel": shipped.platform.ingress.cloudflare_tunnel.model_copy(
                    update={"enabled": True}
                )
            }
        ),
    )
    rendering = _render(catalog)
    pod = rendering.find("Deployment", "mcpfleet-cloudflared").manifest["spec"]["template"]
    (env,) = pod["spec"]["containers"][0]["env"]
    assert env == {
        "name": "TUNNEL_TOKEN",
        "valueFrom": {
            "secretKeyRef": {"name": "mcpfleet-secrets-cloudflare", "key": "TUNNEL_TOKEN"}
        },
    }
    external = rendering.find("CiliumNetworkPolicy", "mcpfleet-cloudflared-egress-external")
    fqdns = external.manifest["spec"]["egress"][-1]["toFQDNs"]
    assert fqdns == [{"matchPattern": "*.argotunnel.com"}, {"matchPattern": "*.cloudflare.com"}]
    inside = rendering.find("NetworkPolicy", "mcpfleet-cloudflared-egress").manifest["spec"]
    assert inside["egress"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]
