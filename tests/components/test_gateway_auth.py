"""``gateway.auth`` compiled: the issuers reach the gateway pod, and the pod reaches them.

The gateway reads its issuers from the catalog ConfigMap and its resource URI from
``--public-url``; this follows both through the rendered objects back into the runtime's
own configuration, the way the pod will build it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import Catalog, load_catalog
from catalog.auth import GatewayAuth
from catalog.naming import CATALOG_CONFIGMAP
from components.catalog_config import catalog_volume
from components.checks import SchemaValidator, check_objects
from components.render import Rendering, render_catalog
from runtime.gateway.config import GatewayConfig

from .conftest import with_platform

AUTH = GatewayAuth.model_validate(
    {
        "issuers": [
            {
                "name": "keycloak",
                "issuer": "https://sso.shreck.io/realms/homelab",
                "access": [
                    {"scope": "mcp:read", "allow": ["*:*:ro"]},
                    {"claim": "realm_access.roles", "values": ["mcp-admin"], "allow": ["*"]},
                ],
            },
            {
                "name": "entra",
                "issuer": "https://login.microsoftonline.com/tenant-id/v2.0",
                "jwksUri": "https://login.microsoftonline.com/tenant-id/discovery/v2.0/keys",
                "audience": "api://mcpfleet",
                "scopeClaim": "scp",
                "access": [
                    {
                        "claim": "roles",
                        "values": ["Mcp.Kubernetes"],
                        "allow": ["kubernetes-prod:pods_*:ro"],
                    }
                ],
            },
        ]
    }
)


def _with_auth(catalog: Catalog) -> Catalog:
    return with_platform(catalog, gateway={"auth": AUTH})


@pytest.fixture(scope="module")
def with_issuers(shipped: Catalog) -> Rendering:
    """The whole stack for the shipped catalog plus two issuers, rendered once."""
    return render_catalog(_with_auth(shipped))


def _gateway_args(rendering: Rendering) -> list[str]:
    spec = rendering.find("Deployment", "mcp-gateway").manifest["spec"]
    return list(spec["template"]["spec"]["containers"][0]["args"])


def test_the_deployed_gateway_builds_its_resource_server_from_the_rendered_objects(
    with_issuers: Rendering, tmp_path: Path
) -> None:
    rendering = with_issuers
    files = rendering.find("ConfigMap", CATALOG_CONFIGMAP).manifest["data"]
    for item in catalog_volume(files)["configMap"]["items"]:  # as the kubelet mounts it
        (tmp_path / item["path"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / item["path"]).write_text(files[item["key"]])
    args = _gateway_args(rendering)
    public_url = args[args.index("--public-url") + 1]
    config = GatewayConfig.from_catalog(load_catalog(tmp_path), local=False, public_url=public_url)
    assert config.oauth is not None
    assert config.oauth.resource == "https://mcp.kernow.io/mcp"
    assert [i.issuer for i in config.oauth.issuers] == [
        "https://sso.shreck.io/realms/homelab",
        "https://login.microsoftonline.com/tenant-id/v2.0",
    ]
    assert config.oauth.audience(config.oauth.issuers[1]) == "api://mcpfleet"
    assert config.oauth.scopes_supported() == ["mcp:read"]


def test_an_explicit_resource_wins_over_the_ingress_host(shipped: Catalog) -> None:
    auth = AUTH.model_copy(update={"resource": "https://mcp.example.net/mcp"})
    catalog = with_platform(shipped, gateway={"auth": auth})
    config = GatewayConfig.from_catalog(catalog, local=False, public_url="https://mcp.kernow.io")
    assert config.oauth is not None and config.oauth.resource == "https://mcp.example.net/mcp"


def test_the_gateway_may_reach_its_issuers_and_their_key_endpoints(
    with_issuers: Rendering, validator: SchemaValidator
) -> None:
    rendering = with_issuers
    policy = rendering.find("CiliumNetworkPolicy", "mcpfleet-gateway-egress-issuers").manifest
    spec = policy["spec"]
    assert spec["endpointSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "mcp-gateway"
    assert spec["egress"][-1] == {
        "toFQDNs": [
            {"matchName": "login.microsoftonline.com"},
            {"matchName": "sso.shreck.io"},
        ],
        "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
    }
    manifests = [o.manifest for o in rendering.kubernetes_objects]
    assert [str(f) for f in check_objects(manifests, validator)] == []


def test_without_issuers_the_gateway_gets_no_egress_beyond_the_cluster(
    fleet: Rendering,
) -> None:
    names = {
        o.manifest["metadata"]["name"]
        for o in fleet.kubernetes_objects
        if o.manifest["kind"] == "CiliumNetworkPolicy"
    }
    assert "mcpfleet-router-egress-external" in names
    assert "mcpfleet-gateway-egress-issuers" not in names
