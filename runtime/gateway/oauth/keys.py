"""One issuer's signing keys: fetched on first use, refreshed, rotated, kept through outages.

* First use (or the background refresh) reads the JWKS from ``jwks_uri`` (configured, or
  from the issuer's metadata).
* A token naming a key id the cache does not hold makes one refresh at once — rotation at
  the issuer is picked up without a restart — but at most one per ``retry_gap`` seconds, so
  tokens with made-up key ids cannot hammer the issuer; concurrent requests share it.
* A successful refresh replaces the key set: keys the issuer withdrew stop verifying.
* A failed refresh keeps the last keys, for ``keep_for`` seconds after they were fetched;
  past that, :class:`IssuerUnavailable` (the gateway answers 503 for that issuer's tokens).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from runtime.gateway.oauth.errors import IssuerUnavailable
from runtime.gateway.oauth.metadata import discover_jwks_uri

__all__ = ["SigningKeys"]

logger = logging.getLogger(__name__)

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_KTY_FOR = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_CURVE_FOR = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "EdDSA": "Ed25519"}


class SigningKeys:
    """The cached JWKS of one issuer; see the module docstring for the refresh rules."""

    def __init__(
        self,
        issuer: str,
        http: httpx.AsyncClient,
        *,
        jwks_uri: str | None = None,
        keep_for: float = 86_400.0,
        retry_gap: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self._http = http
        self._configured_uri = jwks_uri
        self._jwks_uri = jwks_uri
        self._keep_for = keep_for
        self._retry_gap = retry_gap
        self._clock = clock
        self._keys: list[dict[str, Any]] | None = None
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_error = "its signing keys have not been fetched yet"
        self._parsed: dict[tuple[str, str | None, int], jwt.PyJWK] = {}
        self._lock = asyncio.Lock()
        self.fetches = 0

    @property
    def key_ids(self) -> list[str | None]:
        return [key.get("kid") for key in self._keys or ()]

    def age(self) -> float | None:
        """Seconds since the keys were last fetched (``None``: never)."""
        return None if self._fetched_at is None else self._clock() - self._fetched_at

    async def candidates(self, kid: str | None, alg: str) -> list[jwt.PyJWK]:
        """The keys that may have signed a token with this header (empty: unknown key).

        Raises:
            IssuerUnavailable: no keys fetched within ``keep_for`` and none to be had now.
        """
        if not self._usable():
            await self.refresh(force=False)
            if not self._usable():
                raise IssuerUnavailable(self._last_error)
        found = self._matching(kid, alg)
        if not found and kid is not None and kid not in self.key_ids:
            await self.refresh(force=False)  # rotation: one look, rate-limited
            found = self._matching(kid, alg)
        return found

    async def refresh(self, *, force: bool = True) -> bool:
        """Re-read the JWKS; ``force=False`` skips it within ``retry_gap`` of the last try.

        Returns whether the keys are now fresh from the issuer. Never raises for the
        issuer's failures: they are logged and the last keys stay.
        """
        async with self._lock:
            now = self._clock()
            if (
                not force
                and self._attempted_at is not None
                and now - self._attempted_at < self._retry_gap
            ):
                return False  # someone just tried (maybe the request we waited behind)
            self._attempted_at = now
            try:
                keys = await self._fetch()
            except IssuerUnavailable as exc:
                self._last_error = str(exc)
                self._jwks_uri = self._configured_uri  # rediscover next time
                logger.warning(
                    "issuer keys not refreshed; keeping the last ones",
                    extra={"issuer": self.issuer, "error": str(exc), "age_s": self.age()},
                )
                return False
            self._keys = keys
            self._parsed.clear()
            self._fetched_at = self._clock()
            return True

    def _usable(self) -> bool:
        age = self.age()
        return self._keys is not None and age is not None and age < self._keep_for

    async def _fetch(self) -> list[dict[str, Any]]:
        self.fetches += 1
        if self._jwks_uri is None:
            self._jwks_uri = await discover_jwks_uri(self.issuer, self._http)
        try:
            response = await self._http.get(self._jwks_uri, headers={"Accept": "application/json"})
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise IssuerUnavailable(
                f"issuer {self.issuer} is unreachable ({type(exc).__name__})"
            ) from exc
        if response.status_code != 200:
            raise IssuerUnavailable(
                f"issuer {self.issuer} answered HTTP {response.status_code} for its keys"
            )
        try:
            document = response.json()
        except ValueError as exc:
            raise IssuerUnavailable(f"the keys of issuer {self.issuer} are not JSON") from exc
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise IssuerUnavailable(f"the keys of issuer {self.issuer} are not a JWK set")
        return [_public(key) for key in keys if _signing_key(key)]

    def _matching(self, kid: str | None, alg: str) -> list[jwt.PyJWK]:
        found = []
        for index, key in enumerate(self._keys or ()):
            if kid is not None and key.get("kid") != kid:
                continue
            if not _fits(key, alg):
                continue
            cache_key = (alg, key.get("kid"), index)
            parsed = self._parsed.get(cache_key)
            if parsed is None:
                try:
                    parsed = jwt.PyJWK(key, algorithm=alg)
                except (jwt.PyJWKError, jwt.InvalidKeyError):
                    continue
                self._parsed[cache_key] = parsed
            found.append(parsed)
        return found


def _signing_key(key: object) -> bool:
    """Public keys meant for signatures; symmetric keys never verify here."""
    return (
        isinstance(key, dict)
        and key.get("kty") in ("RSA", "EC", "OKP")
        and key.get("use", "sig") == "sig"
    )


def _public(key: dict[str, Any]) -> dict[str, Any]:
    """The key without private members, should an issuer ever publish them."""
    return {name: value for name, value in key.items() if name not in _PRIVATE_MEMBERS}


def _fits(key: dict[str, Any], alg: str) -> bool:
    """Whether ``key`` can verify ``alg``: its own ``alg`` if it names one, else its type."""
    if "alg" in key:
        return bool(key["alg"] == alg or (key["alg"] == "Ed25519" and alg == "EdDSA"))
    if key.get("kty") != _KTY_FOR.get(alg[:2]):
        return False
    curve = _CURVE_FOR.get(alg)
    return curve is None or key.get("crv") == curve
