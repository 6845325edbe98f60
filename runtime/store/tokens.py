"""API tokens: issued once in plaintext, stored as SHA-256, verified without a DB round trip.

A token is ``mcpf_`` + 32 random bytes (url-safe base64); 256 bits of entropy make a plain
SHA-256 the right hash (no salt or slow KDF needed: nothing to brute-force). Verified
tokens are cached in-process for ``cache_ttl`` seconds, so a gateway checks a busy client's
token against memory, and a revocation made by any replica takes effect everywhere within
that window (immediately in the replica that revoked). Expiry is checked on every call.

While the database cannot be reached, a token verified before keeps working for up to
``stale_ttl`` seconds after its last successful check (never past its own expiry): the
request is served from the cache at once and one background check per
``retry_interval`` looks for the database. Once it answers, stale entries are checked
again before use, so revocations made meanwhile apply. A token never verified by this
process still needs the database (the caller answers 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import ClassVar

from psycopg import errors as pg_errors
from psycopg.rows import class_row

from catalog.access import Grants, parse_grant
from runtime.db import Database, DatabaseUnavailable

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
_DISPLAY_CHARS = 12
log = logging.getLogger(__name__)


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
    """Who a verified token speaks for and which servers and tools it may call.

    ``scopes`` are grants in the one grammar of :mod:`catalog.access` (``grafana``,
    ``kubernetes-prod:pods_*``, ``*:*:ro``); ``None`` means everything. An mcpfleet token
    stores them as its scopes; an access token from an issuer gets them from the catalog's
    rules, and also names its ``subject``, ``client_id`` and ``issuer`` (for the audit).

    ``service``: the token belongs to a service that calls tools for its own users (triage
    on its own) and may name them; the gateway records that user in the audit log.
    """

    name: str
    scopes: frozenset[str] | None
    expires_at: datetime | None
    subject: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    service: bool = False

    @cached_property
    def _grants(self) -> Grants:
        return Grants.parse(self.scopes or ())
    admin: bool = False
    """The admin scope: may create and revoke tokens (the console's Tokens page). Separate
    from ``scopes`` (grants), and implies nothing about which servers it may call."""

    def allows(self, server: str) -> bool:
        """True if the token may call some tool of ``server`` (no scopes: every server)."""
        return self.scopes is None or self._grants.allows(server)

    def allows_tool(self, server: str, tool: str, read_only: bool = False) -> bool:
        """True if the token may call ``tool`` of ``server``; ``read_only`` is whether the
        gateway counts that tool as read-only (a ``:ro`` grant covers only those)."""
        return self.scopes is None or self._grants.allows_tool(server, tool, read_only)

    def allows_every_tool(self, server: str, read_only: bool = False) -> bool:
        """True if a grant covers all of ``server`` (for reads only, if ``read_only``):
        what seeing its prompts and resources, or its cached answers, takes."""
        return self.scopes is None or self._grants.allows_every_tool(server, read_only)

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
    service: bool = False
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


@dataclass
class _Entry:
    principal: Principal
    checked_at: float  # local clock: when the database last confirmed the token


class TokenStore:
    """Creates, verifies, lists and revokes API tokens in ``api_tokens``."""

    def __init__(
        self,
        db: Database,
        *,
        cache_ttl: float = 5.0,
        stale_ttl: float = 300.0,
        cache_size: int = 10_000,
        db_wait: float = 2.0,
        recheck_wait: float = 0.5,
        retry_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``db_wait`` bounds how long a check of an uncached token waits for the database,
        ``recheck_wait`` a re-check of a cached one (which falls back to the cache).
        ``stale_ttl`` bounds how long a cached token outlives its last successful check
        while the database is down (see the module docstring)."""
        self._db = db
        self._db_wait = db_wait
        self._recheck_wait = min(recheck_wait, db_wait)
        self._ttl = cache_ttl
        self._stale_ttl = max(stale_ttl, cache_ttl)
        self._size = cache_size
        self._clock = clock
        self._retry_interval = retry_interval
        self._cache: OrderedDict[bytes, _Entry] = OrderedDict()
        self._down_until: float | None = None  # the database failed: no waiting until then
        self._probe: asyncio.Task[None] | None = None
        self.served_stale = 0

    async def create(
        self,
        name: str,
        *,
        scopes: Iterable[str] | None = None,
        ttl: timedelta | None = None,
        service: bool = False,
        admin: bool = False,
    ) -> IssuedToken:
        """Issue a token for ``name``; ``scopes`` are grants (:mod:`catalog.access`): server
        names, or server and tool patterns such as ``kubernetes-prod:pods_*:ro`` (None: all).
        A ``service`` token may name the end user it calls for (see :class:`Principal`);
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
            for scope in scope_list:
                parse_grant(scope)  # raises ValueError saying how to write a grant
        if ttl is not None and ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, got {ttl}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = None if ttl is None else datetime.now(UTC) + ttl
        try:
            async with self._db.connection() as conn:
                cur = conn.cursor(row_factory=class_row(TokenInfo))
                await cur.execute(
                    "INSERT INTO api_tokens "
                    "(name, token_hash, prefix, scopes, expires_at, service, admin) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING " + _INFO_COLUMNS,
                    (
                        name,
                        hash_token(token),
                        token[:_DISPLAY_CHARS],
                        scope_list,
                        expires_at,
                        service,
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
        principal = await self._principal(digest)
        if principal.expired():
            raise TokenExpired(f"token {principal.name!r} has expired")
        return principal

    async def aclose(self) -> None:
        """Stop a background check still looking for the database."""
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None

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
        for digest in [d for d, e in self._cache.items() if e.principal.name == name]:
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

    async def _principal(self, digest: bytes) -> Principal:
        """From the cache while fresh; else the database, or the cache while it is down.

        Raises:
            TokenError: the database says the token is not (or no longer) good.
            DatabaseUnavailable: not cached (or stale past ``stale_ttl``) and no database.
        """
        entry = self._cache.get(digest)
        now = self._clock()
        if entry is not None:
            age = now - entry.checked_at
            if age < self._ttl:
                self._cache.move_to_end(digest)
                return entry.principal
            if age >= self._stale_ttl:
                del self._cache[digest]
            elif self._down_until is not None:  # known down: only the background check asks
                return self._stale(entry, digest)
            else:
                try:
                    principal = await self._checked(digest, self._recheck_wait)
                except DatabaseUnavailable as exc:
                    self._went_down(exc)
                    return self._stale(entry, digest)
                self._remember(digest, principal)
                return principal
        principal = await self._checked(digest, self._db_wait)
        self._remember(digest, principal)
        return principal

    async def _checked(self, digest: bytes, wait: float) -> Principal:
        """One database check; a refusal drops the cached entry.

        Raises:
            TokenError, DatabaseUnavailable: as :meth:`_principal`.
        """
        try:
            principal = await self._lookup(digest, wait)
        except TokenError:
            self._cache.pop(digest, None)
            raise
        self._down_until = None
        return principal

    def _stale(self, entry: _Entry, digest: bytes) -> Principal:
        """Serve a cached verdict during an outage; one background check looks for the DB."""
        self.served_stale += 1
        self._cache.move_to_end(digest)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._look_for_database(digest), name="token-recheck")
        return entry.principal

    async def _look_for_database(self, digest: bytes) -> None:
        """Re-check one stale token every retry interval until the database answers (a task)."""
        while self._down_until is not None:
            await asyncio.sleep(max(0.0, self._down_until - self._clock()))
            try:
                principal = await self._checked(digest, self._db_wait)
            except DatabaseUnavailable as exc:
                self._went_down(exc)
                continue
            except TokenError:
                self._down_until = None  # it answered: the token is gone from the cache
            else:
                self._remember(digest, principal)
            log.warning("token store: the database answers again")

    @property
    def database_down(self) -> bool:
        """True while the last check found no database (cached tokens are served stale)."""
        return self._down_until is not None

    def _went_down(self, exc: DatabaseUnavailable) -> None:
        if self._down_until is None:
            log.warning("token store: database unreachable, serving cached tokens (%s)", exc)
        self._down_until = self._clock() + self._retry_interval

    def _remember(self, digest: bytes, principal: Principal) -> None:
        if self._ttl <= 0:
            return
        self._cache[digest] = _Entry(principal, self._clock())
        self._cache.move_to_end(digest)
        while len(self._cache) > self._size:
            self._cache.popitem(last=False)

    async def _lookup(self, digest: bytes, wait: float) -> Principal:
        async with self._db.connection(wait=wait) as conn:
            # last_used_at is informational: do not wait for a WAL flush to record it.
            await conn.execute("SET LOCAL synchronous_commit = off")
            cur = await conn.execute(
                "UPDATE api_tokens SET last_used_at = now() "
                "WHERE token_hash = %s AND revoked_at IS NULL "
                "AND (expires_at IS NULL OR expires_at > now()) "
                "RETURNING name, scopes, expires_at, service, admin",
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
            name, scopes, expires_at, service, admin = row
            return Principal(
                name,
                None if scopes is None else frozenset(scopes),
                expires_at,
                service=service,
                admin=admin,
            )
        if known is None:
            raise TokenInvalid("unknown token")
        if known[1]:
            raise TokenRevoked(f"token {known[0]!r} was revoked")
        raise TokenExpired(f"token {known[0]!r} has expired")


_INFO_COLUMNS = (
    "name, prefix, scopes, expires_at, revoked_at, last_used_at, created_at, service, admin"
)
