"""The gate in front of ``/mcp`` and ``/api``: IP allowlist, bearer token, rate limit.

A pure ASGI middleware, so one check covers the SDK's MCP app, the REST routes and any
router another service mounts on the gateway. Probes (``/api/v1/health``, ``/metrics``)
and the RFC 9728 metadata document stay open. Refusals are JSON — a JSON-RPC error
object on ``/mcp``, the REST error shape elsewhere — with ``WWW-Authenticate`` on 401
and ``Retry-After`` on 429. The client's token is only ever read here; nothing forwards
it upstream.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from runtime.db.errors import DatabaseUnavailable
from runtime.gateway.auth import (
    ANONYMOUS,
    Principal,
    RateLimiter,
    TokenError,
    TokenVerifier,
)
from runtime.gateway.errors import (
    Forbidden,
    GatewayError,
    IpNotAllowed,
    RateLimited,
    Starting,
    StoreUnavailable,
    Unauthorized,
    error_body,
    to_mcp_error,
)
from runtime.gateway.naming import split_name

__all__ = ["Guard", "IpAllowlist", "SecurityMiddleware", "resource_metadata_url"]

MCP_PATH = "/mcp"
OPEN_PATHS = frozenset({"/api/v1/health", "/metrics", "/api/v1/metrics"})
PROTECTED_PREFIXES = ("/api/",)
METADATA_PATH = "/.well-known/oauth-protected-resource"


class IpAllowlist:
    """CIDRs allowed to use the API; loopback is always allowed, an empty list allows all."""

    def __init__(self, cidrs: Iterable[str]) -> None:
        self.networks = tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)

    def allows(self, host: str | None) -> bool:
        if not self.networks:
            return True
        if host is None:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if address.is_loopback:
            return True
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class Guard:
    """What the middleware checks, with the ports it checks against.

    ``verifier=None`` turns authentication off (every caller is ``anonymous``, rate
    limited by address): only for a fleet on one laptop behind loopback.
    """

    verifier: TokenVerifier | None
    limiter: RateLimiter | None
    allowlist: IpAllowlist
    public_url: str | None = None

    async def admit(self, scope: Scope) -> Principal:
        """The principal for this request.

        Raises:
            IpNotAllowed, Unauthorized, Forbidden, RateLimited.
        """
        client = scope.get("client")
        host = client[0] if client else None
        if not self.allowlist.allows(host):
            raise IpNotAllowed(f"address {host} is not in the gateway's allowlist")
        headers = _headers(scope)
        principal = await self._authenticate(scope, headers.get("authorization"))
        if scope["path"] == MCP_PATH:
            _check_routed_scope(principal, headers)
        if self.limiter is not None:
            key = principal.name if principal is not ANONYMOUS else f"ip:{host}"
            decision = await self.limiter.hit(key)
            if not decision.allowed:
                raise RateLimited(
                    f"rate limit exceeded for {key!r}", retry_after=decision.retry_after
                )
        return principal

    async def _authenticate(self, scope: Scope, authorization: str | None) -> Principal:
        if self.verifier is None:
            return ANONYMOUS
        metadata = resource_metadata_url(self.public_url or _base_url(scope))
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required", resource_metadata=metadata)
        try:
            return await self.verifier.verify(token.strip())
        except TokenError as exc:
            raise Unauthorized(
                f"token rejected ({exc.reason}): {exc}",
                resource_metadata=metadata,
                token_given=True,
            ) from None
        except DatabaseUnavailable:
            # a token not in the cache cannot be checked now; that is not the client's fault
            raise StoreUnavailable("the token store is unreachable; try again shortly") from None


class SecurityMiddleware:
    """ASGI middleware applying the app's :class:`Guard` (``app.state.guard``) to the
    protected paths; until the lifespan has installed one, they answer 503."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        guard: Guard | None = getattr(scope["app"].state, "guard", None)
        try:
            if guard is None:
                raise Starting("the gateway is starting; try again shortly")
            principal = await guard.admit(scope)
        except GatewayError as exc:
            await _refuse(exc, scope, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def resource_metadata_url(base_url: str) -> str:
    """Where the RFC 9728 document lives, for the ``WWW-Authenticate`` challenge."""
    return base_url.rstrip("/") + METADATA_PATH


def _protected(path: str) -> bool:
    if path in OPEN_PATHS:
        return False
    return path == MCP_PATH or path.startswith(PROTECTED_PREFIXES)


def _check_routed_scope(principal: Principal, headers: dict[str, str]) -> None:
    """2026-07-28 clients name the tool in ``Mcp-Name``: refuse out-of-scope calls unread."""
    if headers.get("mcp-method") != "tools/call":
        return
    parts = split_name(headers.get("mcp-name", ""))
    if parts is not None and not principal.allows(parts[0]):
        raise Forbidden(
            f"token {principal.name!r} may not use server {parts[0]!r}", server=parts[0]
        )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _base_url(scope: Scope) -> str:
    host = _headers(scope).get("host")
    if host is None:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


async def _refuse(error: GatewayError, scope: Scope, send: Send) -> None:
    if scope["path"] == MCP_PATH:
        mcp = to_mcp_error(error)
        body: dict[str, object] = {
            "jsonrpc": "2.0",
            "id": None,
            "error": mcp.error.model_dump(mode="json", exclude_none=True),
        }
    else:
        body = error_body(error)
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers().items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
