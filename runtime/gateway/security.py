"""The gate in front of ``/mcp``, ``/api`` and the registry: IP allowlist, bearer token,
rate limit.

A pure ASGI middleware, so one check covers the SDK's MCP app, the REST routes and any
router another service mounts on the gateway. Probes (``/api/v1/health``, ``/metrics``)
and the RFC 9728 metadata document stay open. Refusals are JSON — a JSON-RPC error
object on ``/mcp``, the REST error shape elsewhere — with ``WWW-Authenticate`` on 401
and ``Retry-After`` on 429. The client's token is only ever read here; nothing forwards
it upstream.

Bearer tokens are mcpfleet's own or, with ``gateway.auth.issuers``, access tokens from an
identity provider; the 401 challenge then names the RFC 9728 metadata (which lists the
authorization servers) and the scopes to ask for, as the MCP authorization spec wants.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from runtime.db.errors import DatabaseUnavailable
from runtime.gateway.access import check_tool
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
    IssuerUnreachable,
    RateLimited,
    Starting,
    StoreUnavailable,
    Unauthorized,
    bearer_challenge,
    error_body,
    to_mcp_error,
)
from runtime.gateway.naming import split_name
from runtime.gateway.oauth import (
    METADATA_PATH,
    IssuerUnavailable,
    ResourceServer,
    metadata_url,
    resource_uri,
)

__all__ = [
    "METADATA_PATH",
    "Guard",
    "IpAllowlist",
    "ReadOnly",
    "SecurityMiddleware",
    "refuse",
    "resource_metadata_url",
]

MCP_PATH = "/mcp"
OPEN_PATHS = frozenset({"/api/v1/health", "/metrics", "/api/v1/metrics"})
PROTECTED_PREFIXES = ("/api/", "/v0/", "/v0.1/")  # REST, and the registry (endpoints, errors)
ReadOnly = Callable[[str, str], bool]
"""Whether a server's tool is read-only (what a ``:ro`` grant covers)."""


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
    limited by address): only for a fleet on one laptop behind loopback. ``oauth`` is the
    resource server the challenges describe (``None``: mcpfleet tokens only);
    ``read_only`` tells the routed ``Mcp-Name`` check which tools ``:ro`` grants cover.
    """

    verifier: TokenVerifier | None
    limiter: RateLimiter | None
    allowlist: IpAllowlist
    public_url: str | None = None
    oauth: ResourceServer | None = None
    read_only: ReadOnly | None = None

    async def admit(self, scope: Scope) -> Principal:
        """The principal for this request.

        Raises:
            IpNotAllowed, Unauthorized, Forbidden, RateLimited, StoreUnavailable,
            IssuerUnreachable.
        """
        client = scope.get("client")
        host = client[0] if client else None
        if not self.allowlist.allows(host):
            raise IpNotAllowed(f"address {host} is not in the gateway's allowlist")
        headers = _headers(scope)
        principal = await self._authenticate(scope, headers.get("authorization"))
        if principal.issuer is not None and not principal.scopes:
            raise self._no_access(principal)
        if scope["path"] == MCP_PATH:
            self._check_routed_tool(principal, headers)
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
        metadata = self._metadata_url(scope)
        wanted = self._wanted_scopes()
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "a bearer token is required", resource_metadata=metadata, scope=wanted
            )
        try:
            return await self.verifier.verify(token.strip())
        except TokenError as exc:
            raise Unauthorized(
                f"token rejected ({exc.reason}): {exc}",
                resource_metadata=metadata,
                token_given=True,
                scope=wanted,
            ) from None
        except DatabaseUnavailable:
            # a token not in the cache cannot be checked now; that is not the client's fault
            raise StoreUnavailable("the token store is unreachable; try again shortly") from None
        except IssuerUnavailable as exc:
            # nor is an identity provider away for longer than its keys may be trusted
            raise IssuerUnreachable(f"cannot check the access token now: {exc}") from None

    def _metadata_url(self, scope: Scope) -> str:
        if self.oauth is not None:
            return self.oauth.metadata_url
        return resource_metadata_url(self.public_url or _base_url(scope))

    def _wanted_scopes(self) -> str | None:
        """The scopes a client should request (MCP: ``scope`` in the 401 challenge)."""
        return (" ".join(self.oauth.scopes_supported()) or None) if self.oauth else None

    def _no_access(self, principal: Principal) -> Forbidden:
        """An access token that none of its issuer's rules grants anything: ask for scopes."""
        reason = f"token {principal.name!r} grants no access to any server or tool"
        challenge = bearer_challenge(
            error="insufficient_scope",
            scope=self._wanted_scopes(),
            resource_metadata=self.oauth.metadata_url if self.oauth else None,
            error_description=reason,
        )
        return Forbidden(reason, challenge=challenge)

    def _check_routed_tool(self, principal: Principal, headers: dict[str, str]) -> None:
        """2026-07-28 clients name the tool in ``Mcp-Name``: refuse out-of-scope calls unread."""
        if headers.get("mcp-method") != "tools/call":
            return
        parts = split_name(headers.get("mcp-name", ""))
        if parts is None:
            return
        server, tool = parts
        read_only = self.read_only(server, tool) if self.read_only is not None else False
        check_tool(principal, server, tool, read_only=read_only, oauth=self.oauth)


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
            await refuse(exc, scope, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def resource_metadata_url(base_url: str) -> str:
    """Where the RFC 9728 document of the ``/mcp`` resource at ``base_url`` lives, for the
    ``WWW-Authenticate`` challenge (the well-known path goes before the resource's path)."""
    return metadata_url(resource_uri(base_url))


def _protected(path: str) -> bool:
    if path in OPEN_PATHS:
        return False
    return path == MCP_PATH or path.startswith(PROTECTED_PREFIXES)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _base_url(scope: Scope) -> str:
    host = _headers(scope).get("host")
    if host is None:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


async def refuse(error: GatewayError, scope: Scope, send: Send) -> None:
    """Answer ``error`` before any route runs: a JSON-RPC error object on ``/mcp``, the
    REST error body elsewhere, with the error's headers."""
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
