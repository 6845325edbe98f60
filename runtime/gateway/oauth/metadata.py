"""Finding an issuer's signing keys: authorization server metadata (RFC 8414, OpenID Discovery).

The well-known locations are tried in the order the MCP authorization specification
gives clients: for an issuer with a path, the RFC 8414 form with the well-known segment
inserted before the path, then the OpenID Connect form inserted the same way, then
OpenID Connect's own form appended to the path; for an issuer without a path, the RFC
8414 and OpenID documents at the root. The document found must name exactly the
configured issuer (RFC 8414 §3.3), or it is not used.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from catalog.auth import loopback_url
from runtime.gateway.oauth.errors import IssuerUnavailable

__all__ = ["discover_jwks_uri", "metadata_urls"]

OAUTH = "/.well-known/oauth-authorization-server"
OPENID = "/.well-known/openid-configuration"
NOT_HERE = frozenset({400, 403, 404, 405, 406, 410})
"""Statuses that mean "no metadata at this location": try the next one."""


def metadata_urls(issuer: str) -> list[str]:
    """The locations of ``issuer``'s metadata, in the order they are tried."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if not path:
        return [origin + OAUTH, origin + OPENID]
    return [origin + OAUTH + path, origin + OPENID + path, origin + path + OPENID]


async def discover_jwks_uri(issuer: str, http: httpx.AsyncClient) -> str:
    """The ``jwks_uri`` from ``issuer``'s own metadata.

    Raises:
        IssuerUnavailable: unreachable, erroring, or no document names this issuer.
    """
    tried = []
    for url in metadata_urls(issuer):
        try:
            response = await http.get(url, headers={"Accept": "application/json"})
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise IssuerUnavailable(
                f"issuer {issuer} is unreachable ({type(exc).__name__})"
            ) from exc
        if response.status_code in NOT_HERE:
            tried.append(url)
            continue
        if response.status_code != 200:
            raise IssuerUnavailable(
                f"issuer {issuer} answered HTTP {response.status_code} at {url}"
            )
        try:
            document = response.json()
        except ValueError:
            tried.append(url)
            continue
        if not isinstance(document, dict):
            tried.append(url)
            continue
        named = document.get("issuer")
        if named != issuer:
            raise IssuerUnavailable(
                f"the metadata at {url} names issuer {str(named)[:200]!r}, not {issuer!r} "
                "(configure the issuer exactly as its tokens' `iss` spells it)"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not _secure(jwks_uri):
            raise IssuerUnavailable(f"the metadata of issuer {issuer} has no usable https jwks_uri")
        return jwks_uri
    raise IssuerUnavailable(f"issuer {issuer} publishes no metadata (tried {', '.join(tried)})")


def _secure(url: str) -> bool:
    """Keys come over TLS, or from this very machine."""
    return url.startswith("https://") or (url.startswith("http://") and loopback_url(url))
