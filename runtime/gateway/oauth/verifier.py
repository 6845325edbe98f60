"""Access tokens (JWTs) from the configured issuers, checked as RFC 9068 and RFC 8707 ask.

The issuer is picked by the token's ``iss`` (exact match); its signature is checked with
PyJWT against the issuer's published keys (:mod:`.keys`) with only the algorithms the
catalog allows (never ``none`` or a symmetric one); ``exp`` (required), ``nbf`` and ``iat``
with the issuer's leeway; ``aud`` must name this gateway's resource URI (or the issuer's
configured audience); ``iss`` must match. The claims become grants through the issuer's
rules. Reasons are safe to show: they never repeat the token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt

from catalog.auth import Issuer
from catalog.spec import parse_duration
from runtime.gateway.oauth.claims import grants_for
from runtime.gateway.oauth.keys import SigningKeys
from runtime.gateway.oauth.resource import ResourceServer
from runtime.store.tokens import Principal, TokenExpired, TokenInvalid

__all__ = ["JwtVerifier", "looks_like_jwt"]

logger = logging.getLogger(__name__)


def looks_like_jwt(token: str) -> bool:
    """A compact JWS has three dot-separated parts (mcpfleet's own tokens have none)."""
    return token.count(".") == 2


@dataclass(frozen=True)
class _Trusted:
    issuer: Issuer
    keys: SigningKeys
    audience: str
    leeway: float


class JwtVerifier:
    """Turns an access token into a :class:`Principal` (``TokenVerifier``), or says why not."""

    def __init__(
        self,
        server: ResourceServer,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        self._trusted = {
            issuer.issuer: _Trusted(
                issuer=issuer,
                keys=SigningKeys(
                    issuer.issuer,
                    http,
                    jwks_uri=issuer.jwks_uri,
                    keep_for=server.keep_keys(issuer),
                    retry_gap=server.key_retry_gap,
                    clock=clock,
                ),
                audience=server.audience(issuer),
                leeway=parse_duration(issuer.leeway).total_seconds(),
            )
            for issuer in server.issuers
        }

    def keys(self, issuer: str) -> SigningKeys:
        """The key cache of the issuer with this identifier (for tests and metrics)."""
        return self._trusted[issuer].keys

    async def verify(self, token: str | None) -> Principal:
        """The principal an access token speaks for.

        Raises:
            TokenInvalid, TokenExpired: the token is not acceptable (reason says why).
            IssuerUnavailable: its issuer's keys cannot be had (not the client's fault).
        """
        if not token:
            raise TokenInvalid("no bearer token")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise TokenInvalid("not a well-formed access token (JWT)") from None
        named = unverified.get("iss")
        trusted = self._trusted.get(named) if isinstance(named, str) else None
        if trusted is None:
            raise TokenInvalid(f"issuer {str(named)[:200]!r} is not trusted by this gateway")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in trusted.issuer.algorithms:
            raise TokenInvalid(f"signature algorithm {str(alg)[:20]!r} is not accepted")
        kid = header.get("kid")
        keys = await trusted.keys.candidates(kid if isinstance(kid, str) else None, alg)
        if not keys:
            raise TokenInvalid("signed with a key its issuer does not publish")
        claims = _checked(token, keys, alg, trusted)
        return _principal(claims, trusted.issuer)

    async def run(self, interval: float | None = None) -> None:
        """Refresh every issuer's keys now, then every ``key_refresh_every`` seconds."""
        every = interval if interval is not None else self.server.key_refresh_every
        while True:
            await asyncio.gather(*(t.keys.refresh() for t in self._trusted.values()))
            await asyncio.sleep(every)


def _checked(token: str, keys: list[jwt.PyJWK], alg: str, trusted: _Trusted) -> dict[str, Any]:
    """The claims, once one of ``keys`` verifies the signature and every claim holds."""
    for key in keys:
        try:
            return jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=trusted.audience,
                issuer=trusted.issuer.issuer,
                leeway=trusted.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidSignatureError:
            continue  # another key with the same id (or none) may be the one
        except jwt.ExpiredSignatureError:
            raise TokenExpired("the access token has expired") from None
        except jwt.InvalidAudienceError:
            raise TokenInvalid(
                f"the access token is not for this resource (aud must name {trusted.audience})"
            ) from None
        except jwt.ImmatureSignatureError:
            raise TokenInvalid("the access token is not valid yet (nbf or iat)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenInvalid(f"the access token has no `{exc.claim}` claim") from None
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"the access token is invalid ({type(exc).__name__})") from None
    raise TokenInvalid("the access token's signature does not verify")


def _principal(claims: dict[str, Any], issuer: Issuer) -> Principal:
    subject = _text(claims.get("sub"))
    client_id = next(
        (c for c in (_text(claims.get(k)) for k in ("client_id", "azp", "appid")) if c), None
    )
    who = subject or client_id or "unknown"
    try:
        expires_at = datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (OverflowError, OSError, ValueError):
        raise TokenInvalid("the access token's `exp` is out of range") from None
    return Principal(
        name=f"{issuer.name}:{who}"[:200],
        scopes=grants_for(claims, issuer),
        expires_at=expires_at,
        subject=subject,
        client_id=client_id,
        issuer=issuer.name,
    )


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) and value else None
