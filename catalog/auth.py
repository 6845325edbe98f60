"""``gateway.auth``: which authorization servers the gateway trusts, and what their tokens allow.

The gateway is an OAuth 2.1 resource server (the MCP authorization specification): a
client brings an access token from the organisation's identity provider; the gateway
checks issuer, signature, expiry and audience, then turns the token's scopes or claims
into grants (:mod:`catalog.access`) through the ``access`` rules here. mcpfleet's own
opaque tokens keep working beside them.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, model_validator

from catalog.access import GRANT_PATTERN, parse_grant
from catalog.spec import Duration, Name, Spec, parse_duration

__all__ = ["AccessRule", "Algorithm", "GatewayAuth", "Issuer", "loopback_url"]

Algorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"
]
"""Asymmetric JWS algorithms only: a resource server holds no shared secret, and never ``none``."""
DEFAULT_ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256", "EdDSA")

HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")]
GrantText = Annotated[str, StringConstraints(pattern=GRANT_PATTERN)]
ScopeToken = Annotated[str, StringConstraints(pattern=r"^[!#-\[\]-~]+$")]
"""An OAuth scope token (RFC 6749 §3.3: printable ASCII without space, ``"`` or ``\\``)."""
ClaimPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_:/.#-]+$")]
"""A claim name, or a dotted path into nested claims (a name holding dots, such as an Auth0
namespaced ``https://example.com/roles``, is looked up whole first)."""

MAX_LEEWAY = timedelta(minutes=5)


def loopback_url(url: str) -> bool:
    """Whether ``url`` names this machine (plain HTTP is acceptable only there)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _require_https(url: str | None, field: str) -> None:
    if url is not None and not url.startswith("https://") and not loopback_url(url):
        raise ValueError(f"`{field}` must use https (plain http only on localhost): {url}")


class AccessRule(Spec):
    """Grants for tokens that carry ``scope``, or whose ``claim`` holds one of ``values``.

    A token's grants are the union of every rule it matches; a token matching none is
    refused with ``insufficient_scope``.
    """

    scope: ScopeToken | None = Field(
        default=None, description="A scope the token must carry (in the issuer's scope claim)."
    )
    claim: ClaimPath | None = Field(
        default=None,
        description="A claim to look at; dotted for nested ones (e.g. realm_access.roles).",
    )
    values: list[str] = Field(
        default_factory=list,
        description="The claim must equal one of these, or be a list holding one of them.",
    )
    allow: list[GrantText] = Field(
        min_length=1,
        description="Grants SERVER[:TOOL[:ro]], e.g. grafana, kubernetes-prod:pods_*, *:*:ro.",
    )

    @model_validator(mode="after")
    def _one_condition(self) -> AccessRule:
        if (self.scope is None) == (self.claim is None):
            raise ValueError("an access rule needs exactly one of `scope` or `claim`")
        if self.claim is not None and not self.values:
            raise ValueError(f"rule on claim `{self.claim}` needs `values` to match")
        if self.scope is not None and self.values:
            raise ValueError("`values` belongs to a `claim` rule, not a `scope` rule")
        for grant in self.allow:
            parse_grant(grant)  # the grammar's own message for ambiguous grants
        return self


class Issuer(Spec):
    """One authorization server whose access tokens (JWTs) the gateway accepts."""

    name: Name = Field(description="Short name; tokens show as `<name>:<subject>` in the audit.")
    issuer: HttpUrl = Field(
        description="The issuer identifier, exactly as the tokens' `iss` and its metadata say."
    )
    audience: str | None = Field(
        default=None,
        min_length=1,
        description="What `aud` must contain; default: the gateway's resource URI (RFC 8707).",
    )
    jwks_uri: HttpUrl | None = Field(
        default=None, description="Skip metadata discovery and read the signing keys here."
    )
    algorithms: list[Algorithm] = Field(
        default_factory=lambda: list(DEFAULT_ALGORITHMS),
        min_length=1,
        description="Signature algorithms accepted.",
    )
    leeway: Duration = Field(
        default="30s", description="Clock skew allowed on exp/nbf/iat (at most 5m)."
    )
    keep_keys_for: Duration = Field(
        default="24h",
        description="How long the last signing keys stay trusted while the issuer is unreachable.",
    )
    scope_claim: str = Field(
        default="scope",
        min_length=1,
        description="Where the token lists its scopes (`scp` in Entra ID).",
    )
    access: list[AccessRule] = Field(
        min_length=1,
        description="How scopes and claims map to servers and tools (a token matching none "
        "is refused).",
    )

    @model_validator(mode="after")
    def _sane(self) -> Issuer:
        _require_https(self.issuer, "issuer")
        _require_https(self.jwks_uri, "jwksUri")
        if parse_duration(self.leeway) > MAX_LEEWAY:
            raise ValueError(f"`leeway` {self.leeway} is more than 5m; fix the clocks instead")
        if parse_duration(self.keep_keys_for) < timedelta(minutes=1):
            raise ValueError("`keepKeysFor` must be at least 1m")
        return self

    def scopes(self) -> list[str]:
        """The scopes its rules look for (what a client should ask this issuer for)."""
        return [rule.scope for rule in self.access if rule.scope is not None]


class GatewayAuth(Spec):
    """OAuth 2.1 resource-server settings of the gateway."""

    resource: HttpUrl | None = Field(
        default=None,
        description=(
            "The gateway's resource URI (RFC 8707/9728); default: https://<ingress host>/mcp "
            "in the cluster, the local URL + /mcp for `mcpfleet up`."
        ),
    )
    issuers: list[Issuer] = Field(
        default_factory=list, description="Authorization servers whose tokens are accepted."
    )

    @model_validator(mode="after")
    def _https_resource(self) -> GatewayAuth:
        _require_https(self.resource, "resource")
        return self
