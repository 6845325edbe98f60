"""The gateway as an OAuth 2.1 resource server (the MCP authorization specification).

* :class:`ResourceServer` — the resource URI and trusted issuers, from ``gateway.auth``;
  its RFC 9728 metadata and the scopes a challenge names.
* :class:`JwtVerifier` — access tokens (JWTs) checked against their issuer's keys, then
  mapped to grants by the issuer's ``access`` rules.
* :class:`SigningKeys` — one issuer's JWKS: discovery (RFC 8414 / OpenID), rotation,
  rate-limited refresh, bounded life while the issuer is unreachable.
"""

from runtime.gateway.oauth.errors import IssuerUnavailable
from runtime.gateway.oauth.keys import SigningKeys
from runtime.gateway.oauth.metadata import discover_jwks_uri, metadata_urls
from runtime.gateway.oauth.resource import METADATA_PATH, ResourceServer, metadata_url, resource_uri
from runtime.gateway.oauth.verifier import JwtVerifier, looks_like_jwt

__all__ = [
    "METADATA_PATH",
    "IssuerUnavailable",
    "JwtVerifier",
    "ResourceServer",
    "SigningKeys",
    "discover_jwks_uri",
    "looks_like_jwt",
    "metadata_url",
    "metadata_urls",
    "resource_uri",
]
