"""From a verified access token's claims to grants, through the issuer's ``access`` rules.

A rule matches a token that carries its ``scope`` (in the issuer's scope claim: a
space-separated string as RFC 9068 has it, or a list as some providers send), or whose
``claim`` holds one of its ``values`` (the claim a string, or a list holding one). A token's
grants are the union of what every matching rule allows; no match, no grants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog.auth import Issuer

__all__ = ["claim_values", "grants_for", "token_scopes"]


def token_scopes(claims: Mapping[str, Any], scope_claim: str) -> set[str]:
    value = claim_value(claims, scope_claim)
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def claim_value(claims: Mapping[str, Any], path: str) -> Any:
    """The claim named ``path``, or reached by its dots (``realm_access.roles``) when no
    claim has that whole name (namespaced claims such as ``https://example.com/roles``)."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def claim_values(claims: Mapping[str, Any], path: str) -> set[str]:
    """The claim's value(s) as strings; objects and nulls count as nothing."""
    value = claim_value(claims, path)
    items = value if isinstance(value, list) else [value]
    out = set()
    for item in items:
        if isinstance(item, bool):
            out.add("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.add(str(item))
    return out


def grants_for(claims: Mapping[str, Any], issuer: Issuer) -> frozenset[str]:
    """The grants ``issuer``'s rules give a token with these claims."""
    scopes = token_scopes(claims, issuer.scope_claim)
    grants: set[str] = set()
    for rule in issuer.access:
        if rule.scope is not None:
            matched = rule.scope in scopes
        else:
            assert rule.claim is not None  # the catalog model guarantees one of the two
            matched = bool(claim_values(claims, rule.claim) & set(rule.values))
        if matched:
            grants.update(rule.allow)
    return frozenset(grants)
