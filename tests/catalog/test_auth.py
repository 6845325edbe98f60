"""``gateway.auth``: the issuer settings the catalog accepts, and the ones it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from catalog import load_catalog
from catalog.auth import GatewayAuth, Issuer

from .conftest import SHIPPED

RULE = {"scope": "mcp:read", "allow": ["*:*:ro"]}


def issuer(**fields: Any) -> Issuer:
    return Issuer.model_validate(
        {"name": "sso", "issuer": "https://sso.example.com", "access": [RULE], **fields}
    )


def test_an_issuer_gets_safe_defaults() -> None:
    made = issuer()
    assert made.algorithms == ["RS256", "ES256", "EdDSA"]
    assert made.leeway == "30s" and made.keep_keys_for == "24h" and made.scope_claim == "scope"
    assert made.audience is None and made.jwks_uri is None
    assert made.scopes() == ["mcp:read"]


def test_the_shipped_catalog_trusts_no_issuer_until_configured() -> None:
    auth = load_catalog(SHIPPED).platform.gateway.auth
    assert auth == GatewayAuth()


def test_plain_http_is_only_for_an_issuer_on_this_machine() -> None:
    assert issuer(issuer="http://127.0.0.1:9000/realms/x").issuer.startswith("http://")
    assert issuer(issuer="http://localhost:9000").issuer == "http://localhost:9000"
    with pytest.raises(ValidationError, match="must use https"):
        issuer(issuer="http://sso.example.com")
    with pytest.raises(ValidationError, match="must use https"):
        issuer(jwks_uri="http://sso.example.com/keys")
    with pytest.raises(ValidationError, match="must use https"):
        GatewayAuth(resource="http://mcp.example.com/mcp")


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"leeway": "10m"}, "more than 5m"),
        ({"keep_keys_for": "30s"}, "at least 1m"),
        ({"algorithms": ["HS256"]}, "Input should be"),
        ({"algorithms": ["none"]}, "Input should be"),
        ({"access": []}, "at least 1 item"),
        ({"access": [{"claim": "groups", "allow": ["*"]}]}, "needs `values`"),
        ({"access": [{"scope": "a", "values": ["b"], "allow": ["*"]}]}, "belongs to a `claim`"),
        ({"access": [{"scope": "has space", "allow": ["*"]}]}, "should match pattern"),
    ],
)
def test_unsafe_or_meaningless_issuer_settings_are_refused(
    fields: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        issuer(**fields)
