"""API tokens: issued once in plaintext, stored as SHA-256, verified without a DB round trip.

A token is ``mcpf_`` + 32 random bytes (url-safe base64); 256 bits of entropy make a plain
SHA-256 the right hash (no salt or slow KDF needed: nothing to brute-force). Verified
tokens are cached in-process for ``cache_ttl`` seconds, so a gateway checks a busy client's
token against memory, and a revocation made by any replica takes effect everywhere within
that window (immediately in the replica that revoked). Expiry is checked on every call.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from psycopg import errors as pg_errors
from psycopg.rows import class_row

from runtime.db import Database

__all__ = [
    "TOKEN_PREFIX",
    "IssuedToken",
    "Principal",
    "TokenError",
    "TokenExpired",
    "TokenInfo",
    "TokenInvalid",
    "TokenMissing",
    "TokenNameTaken",
    "TokenNotFound",
    "TokenRevoked",
    "TokenStore",
    "hash_token",
]

TOKEN_PREFIX = "mcpf_"
_TOKEN_SHAPE = re.compile(r"^mcpf_[A-Za-z0-9_-]{43}$")
_NAME_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_SCOPE_SHAPE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DISPLAY_CHARS = 12


class TokenError(Exception):
    """Why a presented token does not authenticate; ``reason`` is safe to show a client."""

    reason: ClassVar[str] = "invalid"


class TokenMissing(TokenError):
    reason = "missing"


class TokenInvalid(TokenError):
    reason = "invalid"


class TokenExpired(TokenError):
    reason = "expired"


class TokenRevoked(TokenError):
    reason = "revoked"


class TokenNameTaken(ValueError):
    """A live (unrevoked) token already has this name."""


class TokenNotFound(LookupError):
    """No live token has this name."""


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for and which servers it may call."""

    name: str
    scopes: frozenset[str] | None
    expires_at: datetime | None
    admin: bool = False
    """The admin scope: may create and revoke tokens (the console's Tokens page). Separate
    from ``scopes`` (server names), and implies nothing about which servers it may call."""

    def allows(self, server: str) -> bool:
        """True if the token may call ``server`` (no scopes means every server)."""
        return self.scopes is None or server in self.scopes

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC))


@dataclass(frozen=True)
class TokenInfo:
    """A token as ``mcpfleet token list`` shows it: everything but the secret."""

    name: str
    prefix: str
    scopes: list[str] | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    admin: bool = False


@dataclass(frozen=True)
class IssuedToken:
    """The plaintext token, returned once at creation; it is never stored or logged."""

    token: str
    info: TokenInfo

    def __repr__(self) -> str:
        return f"IssuedToken(token='{self.info.prefix}…', info={self.info!r})"


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenStore:
    """Creates, verifies, lists and revokes API tokens in ``api_tokens``."""

    def __init__(
        self,
        db: Database,
        *,
        cache_ttl: float = 5.0,
        cache_size: int = 10_000,
        db_wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``db_wait`` bounds how long a check of an uncached token waits for the database
        (cached tokens never wait: they keep working while the database is down)."""
        self._db = db
        self._db_wait = db_wait
        self._ttl = cache_ttl
        self._size = cache_size
        self._clock = clock
        self._cache: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    async def create(
        self,
        name: str,
        *,
        scopes: Iterable[str] | None = None,
        ttl: timedelta | None = None,
        admin: bool = False,
    ) -> IssuedToken:
        """Issue a token for ``name``; ``scopes`` are server names (None: all servers);
        ``admin`` grants the admin scope (managing tokens), see :attr:`Principal.admin`.

        Raises:
            ValueError: a malformed name, scope or ttl.
            TokenNameTaken: a live token already has that name (revoke it first).
        """
        if not _NAME_SHAPE.match(name):
            raise ValueError(
                f"token name {name!r} must be 1-100 characters of letters, digits, '.', '_', "
                "'@' or '-', starting with a letter or digit"
            )
        scope_list = None if scopes is None else sorted(set(scopes))
        if scope_list is not None:
            if not scope_list:
                raise ValueError("an empty scope list allows no server; omit scopes for all")
            bad = [s for s in scope_list if not _SCOPE_SHAPE.match(s)]
            if bad:
                raise ValueError(f"scopes must be server names; not valid: {', '.join(bad)}")
        if ttl is not None and ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, got {ttl}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = None if ttl is None else datetime.now(UTC) + ttl
        try:
            async with self._db.connection() as conn:
                cur = conn.cursor(row_factory=class_row(TokenInfo))
                await cur.execute(
                    "INSERT INTO api_tokens (name, token_hash, prefix, scopes, expires_at, admin) "
                    "VALUES (%s, %s, %s, %s, %s, %s) RETURNING " + _INFO_COLUMNS,
                    (
                        name,
                        hash_token(token),
                        token[:_DISPLAY_CHARS],
                        scope_list,
                        expires_at,
                        admin,
                    ),
                )
                info = await cur.fetchone()
        except pg_errors.UniqueViolation as exc:
            raise TokenNameTaken(
                f"a live token named {name!r} exists; revoke it first or pick another name"
            ) from exc
        assert info is not None
        return IssuedToken(token, info)

    async def verify(self, token: str | None) -> Principal:
        """The principal ``token`` speaks for.

        Raises:
            TokenMissing, TokenInvalid, TokenExpired, TokenRevoked: with a client-safe reason.
            DatabaseUnavailable: the token is not cached and the database cannot be reached.
        """
        if not token:
            raise TokenMissing("no bearer token")
        if not _TOKEN_SHAPE.match(token):
            raise TokenInvalid("not an mcpfleet token")
        digest = hash_token(token)
        cached = self._cached(digest)
        if cached is None:
            cached = await self._lookup(digest)
            self._remember(digest, cached)
        if cached.expired():
            raise TokenExpired(f"token {cached.name!r} has expired")
        return cached

    async def revoke(self, name: str) -> TokenInfo:
        """Revoke the live token called ``name``.

        Raises:
            TokenNotFound: no live token has that name.
        """
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=class_row(TokenInfo))
            await cur.execute(
                "UPDATE api_tokens SET revoked_at = now() "
                "WHERE name = %s AND revoked_at IS NULL RETURNING " + _INFO_COLUMNS,
                (name,),
            )
            info = await cur.fetchone()
        if info is None:
            raise TokenNotFound(f"no live token named {name!r}")
        for digest in [d for d, (p, _) in self._cache.items() if p.name == name]:
            del self._cache[digest]
        return info

    async def list_tokens(self, *, include_revoked: bool = False) -> list[TokenInfo]:
        """Live tokens (and revoked ones if asked), by name; never the secrets."""
        where = "" if include_revoked else "WHERE revoked_at IS NULL "
        async with self._db.connection() as conn:
            cur = conn.cursor(row_factory=class_row(TokenInfo))
            await cur.execute(f"SELECT {_INFO_COLUMNS} FROM api_tokens {where}ORDER BY name, id")
            return await cur.fetchall()

    def forget(self) -> None:
        """Drop every cached verification (tests, or after a bulk revocation)."""
        self._cache.clear()

    # ------------------------------------------------------------------ cache

    def _cached(self, digest: bytes) -> Principal | None:
        entry = self._cache.get(digest)
        if entry is None:
            return None
        principal, at = entry
        if self._clock() - at >= self._ttl:
            del self._cache[digest]
            return None
        self._cache.move_to_end(digest)
        return principal

    def _remember(self, digest: bytes, principal: Principal) -> None:
        if self._ttl <= 0:
            return
        self._cache[digest] = (principal, self._clock())
        self._cache.move_to_end(digest)
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)

    async def _lookup(self, digest: bytes) -> Principal:
        async with self._db.connection(wait=self._db_wait) as conn:
            # last_used_at is informational: do not wait for a WAL flush to record it.
            await conn.execute("SET LOCAL synchronous_commit = off")
            cur = await conn.execute(
                "UPDATE api_tokens SET last_used_at = now() "
                "WHERE token_hash = %s AND revoked_at IS NULL "
                "AND (expires_at IS NULL OR expires_at > now()) "
                "RETURNING name, scopes, expires_at, admin",
                (digest,),
            )
            row = await cur.fetchone()
            if row is None:
                cur = await conn.execute(
                    "SELECT name, revoked_at IS NOT NULL FROM api_tokens WHERE token_hash = %s",
                    (digest,),
                )
                known = await cur.fetchone()
        if row is not None:
            name, scopes, expires_at, admin = row
            return Principal(
                name, None if scopes is None else frozenset(scopes), expires_at, admin=admin
            )
        if known is None:
            raise TokenInvalid("unknown token")
        if known[1]:
            raise TokenRevoked(f"token {known[0]!r} was revoked")
        raise TokenExpired(f"token {known[0]!r} has expired")


_INFO_COLUMNS = "name, prefix, scopes, expires_at, revoked_at, last_used_at, created_at, admin"
