"""Who is calling, and the ports the gateway needs from the data layer to decide it.

The principal is the token store's :class:`runtime.store.tokens.Principal`. The gateway
depends on the two small protocols below rather than on the stores' classes, so the
security middleware is a pure function of what they answer; production wires the
PostgreSQL stores (:class:`~runtime.store.tokens.TokenStore` caches verified tokens, so
a check costs no database round trip; :class:`~runtime.store.rate_limits.RateLimiter`
keeps its windows in PostgreSQL, shared by every replica).
"""

from __future__ import annotations

from typing import Protocol

from runtime.gateway.oauth.verifier import looks_like_jwt
from runtime.store.rate_limits import RateDecision
from runtime.store.tokens import TOKEN_PREFIX, Principal, TokenError

__all__ = [
    "ANONYMOUS",
    "BearerTokens",
    "Principal",
    "RateDecision",
    "RateLimiter",
    "TokenError",
    "TokenVerifier",
]

ANONYMOUS = Principal("anonymous", None, None)
"""The principal of every request when the gateway runs with authentication off."""


class TokenVerifier(Protocol):
    """Turns a bearer token into a principal (raises :class:`TokenError` with a reason)."""

    async def verify(self, token: str | None) -> Principal: ...


class RateLimiter(Protocol):
    """Counts one request for ``client``; shared by every replica of the gateway."""

    async def hit(self, client: str) -> RateDecision: ...


class BearerTokens:
    """Both kinds of bearer token: access tokens (JWTs) from the configured issuers go to
    ``access_tokens``; everything else (``mcpf_…``, or any token when no issuer is
    configured) to mcpfleet's own token store, which keeps working exactly as before."""

    def __init__(self, tokens: TokenVerifier, access_tokens: TokenVerifier | None = None) -> None:
        self.tokens = tokens
        self.access_tokens = access_tokens

    async def verify(self, token: str | None) -> Principal:
        if (
            self.access_tokens is not None
            and token
            and not token.startswith(TOKEN_PREFIX)
            and looks_like_jwt(token)
        ):
            return await self.access_tokens.verify(token)
        return await self.tokens.verify(token)
