"""The gateway as an OAuth 2.1 resource server: its resource URI, its trusted issuers.

Resolved once from the catalog's ``gateway.auth`` and the gateway's public URL; the
security middleware, the RFC 9728 metadata route and the token verifier all read it, so
the audience a token must carry, the metadata a client discovers and the scopes a
challenge asks for can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from catalog.access import parse_grant
from catalog.auth import GatewayAuth, Issuer
from catalog.spec import parse_duration

__all__ = ["METADATA_PATH", "ResourceServer", "metadata_url", "resource_uri"]

METADATA_PATH = "/.well-known/oauth-protected-resource"
MCP_PATH = "/mcp"


def resource_uri(base_url: str) -> str:
    """The MCP endpoint's URI, the resource a token is requested for (RFC 8707)."""
    return base_url.rstrip("/") + MCP_PATH


def metadata_url(resource: str) -> str:
    """Where RFC 9728 §3.1 puts a resource's metadata: the well-known path goes between
    the host and the resource's path (``https://h/mcp`` → ``https://h/.well-known/…/mcp``)."""
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}{METADATA_PATH}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class ResourceServer:
    """What the gateway accepts besides its own tokens, and how it tells clients so.

    ``key_refresh_every`` re-reads every issuer's keys in the background; an unknown key id
    re-reads them at once, but at most once per ``key_retry_gap`` seconds per issuer (a flood
    of made-up key ids cannot turn into a flood of requests at the issuer).
    ``keep_keys_for`` overrides each issuer's ``keepKeysFor`` (tests).
    """

    resource: str
    issuers: tuple[Issuer, ...]
    key_refresh_every: float = 600.0
    key_retry_gap: float = 10.0
    keep_keys_for: float | None = None

    @classmethod
    def from_catalog(cls, auth: GatewayAuth, public_url: str | None) -> ResourceServer | None:
        """``None`` when no issuer is configured (only mcpfleet tokens are accepted).

        Raises:
            ValueError: issuers are configured but there is no resource URI to bind them to.
        """
        if not auth.issuers:
            return None
        resource = auth.resource or (resource_uri(public_url) if public_url else None)
        if resource is None:
            raise ValueError(
                "gateway.auth.issuers needs the gateway's resource URI: set "
                "gateway.auth.resource in platform.yaml or start the gateway with --public-url"
            )
        return cls(resource=resource, issuers=tuple(auth.issuers))

    @property
    def metadata_url(self) -> str:
        return metadata_url(self.resource)

    def audience(self, issuer: Issuer) -> str:
        """What ``aud`` must name for this issuer's tokens: the resource URI by default."""
        return issuer.audience or self.resource

    def keep_keys(self, issuer: Issuer) -> float:
        if self.keep_keys_for is not None:
            return self.keep_keys_for
        return parse_duration(issuer.keep_keys_for).total_seconds()

    def scopes_supported(self) -> list[str]:
        """Every scope an access rule looks for: what a client should ask for by default."""
        return sorted({scope for issuer in self.issuers for scope in issuer.scopes()})

    def scopes_granting(self, server: str, tool: str, read_only: bool) -> list[str]:
        """The scopes whose rules would let a token call ``tool`` of ``server``."""
        found = set()
        for issuer in self.issuers:
            for rule in issuer.access:
                if rule.scope is None:
                    continue
                if any(parse_grant(g).covers(server, tool, read_only) for g in rule.allow):
                    found.add(rule.scope)
        return sorted(found)

    def metadata(self) -> dict[str, Any]:
        """The RFC 9728 document: where to get a token for this resource, and how to send it."""
        document: dict[str, Any] = {
            "resource": self.resource,
            "authorization_servers": [issuer.issuer for issuer in self.issuers],
            "bearer_methods_supported": ["header"],
            "resource_name": "mcpfleet gateway",
        }
        scopes = self.scopes_supported()
        if scopes:
            document["scopes_supported"] = scopes
        return document
