"""From claims to grants, in the shapes the providers of docs/operations.md send them."""

from __future__ import annotations

from typing import Any

from catalog.auth import Issuer
from runtime.gateway.oauth.claims import grants_for, token_scopes


def issuer(rules: list[dict[str, Any]], **fields: Any) -> Issuer:
    return Issuer.model_validate(
        {"name": "idp", "issuer": "https://idp.example.com", "access": rules, **fields}
    )


def test_scopes_come_as_one_string_or_as_a_list() -> None:
    assert token_scopes({"scope": "mcp:read  mcp:dns"}, "scope") == {"mcp:read", "mcp:dns"}
    assert token_scopes({"scp": ["Mcp.Read", 3]}, "scp") == {"Mcp.Read"}
    assert token_scopes({}, "scope") == set()


def test_keycloak_realm_roles_are_reached_by_a_dotted_path() -> None:
    rules = [
        {"claim": "realm_access.roles", "values": ["mcp-admin"], "allow": ["*"]},
        {"scope": "mcp:read", "allow": ["*:*:ro"]},
    ]
    claims = {"realm_access": {"roles": ["offline_access", "mcp-admin"]}, "scope": "profile"}
    assert grants_for(claims, issuer(rules)) == frozenset({"*"})


def test_an_auth0_namespaced_claim_is_looked_up_whole() -> None:
    rules = [{"claim": "https://mcp.example.com/groups", "values": ["sre"], "allow": ["grafana"]}]
    claims = {"https://mcp.example.com/groups": ["sre"]}
    assert grants_for(claims, issuer(rules)) == frozenset({"grafana"})


def test_entra_scopes_are_read_from_scp_and_app_roles_from_roles() -> None:
    rules = [
        {"scope": "Mcp.Read", "allow": ["*:*:ro"]},
        {"claim": "roles", "values": ["Mcp.Admin"], "allow": ["*"]},
    ]
    delegated = {"scp": "Mcp.Read User.Read"}
    app_only = {"roles": ["Mcp.Admin"]}
    entra = issuer(rules, scope_claim="scp")
    assert grants_for(delegated, entra) == frozenset({"*:*:ro"})
    assert grants_for(app_only, entra) == frozenset({"*"})


def test_every_matching_rule_adds_its_grants_and_none_matching_grants_nothing() -> None:
    rules = [
        {"scope": "a", "allow": ["grafana"]},
        {"scope": "b", "allow": ["caddy:*:ro"]},
        {"claim": "tier", "values": ["true"], "allow": ["adguard"]},
    ]
    assert grants_for({"scope": "a b", "tier": True}, issuer(rules)) == frozenset(
        {"grafana", "caddy:*:ro", "adguard"}
    )
    assert grants_for({"scope": "c", "tier": {"nested": "object"}}, issuer(rules)) == frozenset()
