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

from runtime.store.rate_limits import RateDecision
from runtime.store.tokens import Principal, TokenError

__all__ = ["ANONYMOUS", "Principal", "RateDecision", "RateLimiter", "TokenError", "TokenVerifier"]

ANONYMOUS = Principal("anonymous", None, None)
"""The principal of every request when the gateway runs with authentication off."""


class TokenVerifier(Protocol):
    """Turns a bearer token into a principal (raises :class:`TokenError` with a reason)."""

    async def verify(self, token: str | None) -> Principal: ...


class RateLimiter(Protocol):
    """Counts one request for ``client``; shared by every replica of the gateway."""

    async def hit(self, client: str) -> RateDecision: ...
