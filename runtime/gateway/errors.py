"""The gateway's one error hierarchy, and its two translations: HTTP/JSON and JSON-RPC.

Every failure a client can see is a :class:`GatewayError` with a stable machine ``code``
and a human ``reason``. REST routes let it propagate to the app's exception handler;
the MCP endpoint turns it into a JSON-RPC error in one server middleware. Neither path
ever shows a stack trace, and reasons never carry secrets or client tokens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST

__all__ = [
    "BadRequest",
    "Forbidden",
    "GatewayError",
    "IpNotAllowed",
    "IssuerUnreachable",
    "NotFound",
    "RateLimited",
    "Starting",
    "TooLarge",
    "Unauthorized",
    "UnknownServer",
    "UnknownTool",
    "UpstreamFailed",
    "UpstreamTimeout",
    "UpstreamTooLarge",
    "UpstreamUnavailable",
    "bearer_challenge",
    "error_body",
    "to_mcp_error",
]

# JSON-RPC has no codes for these; -32000..-32099 is the implementation-defined range.
JSONRPC_UNAUTHORIZED = -32040
JSONRPC_FORBIDDEN = -32041
JSONRPC_RATE_LIMITED = -32029
JSONRPC_UPSTREAM = -32050


class GatewayError(Exception):
    """A failure the gateway reports to its client; subclasses fix status and code."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    jsonrpc_code: ClassVar[int] = INTERNAL_ERROR

    def __init__(self, reason: str, **detail: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail: dict[str, Any] = detail

    def headers(self) -> Mapping[str, str]:
        """Extra HTTP headers the answer must carry (``Retry-After``, ``WWW-Authenticate``)."""
        return {}


class BadRequest(GatewayError):
    status, code, jsonrpc_code = 400, "bad_request", INVALID_PARAMS


def bearer_challenge(**params: str | None) -> str:
    """A ``WWW-Authenticate: Bearer`` value (RFC 6750 §3) with the parameters that are set."""
    given = [
        f'{name}="{value.replace(chr(92), "").replace(chr(34), "")}"'
        for name, value in params.items()
        if value
    ]
    return "Bearer " + ", ".join(given) if given else "Bearer"


class Unauthorized(GatewayError):
    """Missing, unknown, expired or revoked bearer token."""

    status, code, jsonrpc_code = 401, "unauthorized", JSONRPC_UNAUTHORIZED

    def __init__(
        self,
        reason: str,
        *,
        resource_metadata: str | None = None,
        token_given: bool = False,
        scope: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.resource_metadata = resource_metadata
        self.token_given = token_given
        self.scope = scope

    def headers(self) -> Mapping[str, str]:
        """RFC 6750 §3: ``error="invalid_token"`` only when a token was presented; the
        metadata URL (RFC 9728 §5.1) and the scopes to ask for as the MCP spec says."""
        challenge = bearer_challenge(
            resource_metadata=self.resource_metadata,
            scope=self.scope,
            error="invalid_token" if self.token_given else None,
        )
        return {"WWW-Authenticate": challenge}


class Forbidden(GatewayError):
    """A valid token whose grants do not cover the server or tool it asked for.

    ``challenge`` (an ``insufficient_scope`` ``WWW-Authenticate`` value) tells an OAuth
    client which scopes would do, so it can ask its authorization server for them.
    """

    status, code, jsonrpc_code = 403, "forbidden", JSONRPC_FORBIDDEN

    def __init__(self, reason: str, *, challenge: str | None = None, **detail: Any) -> None:
        super().__init__(reason, **detail)
        self.challenge = challenge

    def headers(self) -> Mapping[str, str]:
        return {"WWW-Authenticate": self.challenge} if self.challenge else {}


class IpNotAllowed(Forbidden):
    code = "ip_not_allowed"


class NotFound(GatewayError):
    status, code, jsonrpc_code = 404, "not_found", INVALID_PARAMS


class UnknownServer(NotFound):
    code = "unknown_server"


class UnknownTool(NotFound):
    code = "unknown_tool"


class TooLarge(GatewayError):
    """A request body over the gateway's limit, or one the upstream refused as too large."""

    status, code, jsonrpc_code = 413, "too_large", INVALID_REQUEST


class RateLimited(GatewayError):
    status, code, jsonrpc_code = 429, "rate_limited", JSONRPC_RATE_LIMITED

    def __init__(self, reason: str, *, retry_after: float) -> None:
        super().__init__(reason, retry_after=max(1, math.ceil(retry_after)))
        self.retry_after = max(1, math.ceil(retry_after))

    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after)}


class UpstreamFailed(GatewayError):
    """The upstream answered with a protocol error, or its connection broke mid-call."""

    status, code, jsonrpc_code = 502, "upstream_failed", JSONRPC_UPSTREAM


class UpstreamUnavailable(GatewayError):
    """No endpoint of the server can take the call (all down or circuits open)."""

    status, code, jsonrpc_code = 503, "upstream_unavailable", JSONRPC_UPSTREAM


class StoreUnavailable(GatewayError):
    """The database behind tokens and rate limits cannot be reached: retry shortly."""

    status, code, jsonrpc_code = 503, "store_unavailable", INTERNAL_ERROR


class IssuerUnreachable(GatewayError):
    """The signing keys of the token's issuer cannot be had now: retry shortly."""

    status, code, jsonrpc_code = 503, "issuer_unavailable", INTERNAL_ERROR

    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": "10"}


class Starting(GatewayError):
    """The app is up but its lifespan has not finished opening what requests need."""

    status, code, jsonrpc_code = 503, "starting", INTERNAL_ERROR


class UpstreamTooLarge(TooLarge):
    """The upstream answered HTTP 413: its own limit, relayed as such rather than as 502."""


class UpstreamTimeout(GatewayError):
    status, code, jsonrpc_code = 504, "upstream_timeout", JSONRPC_UPSTREAM


def error_body(error: GatewayError) -> dict[str, Any]:
    """The JSON body every REST error has: ``{"error": {"code", "reason", ...detail}}``."""
    return {"error": {"code": error.code, "reason": error.reason, **error.detail}}


def to_mcp_error(error: GatewayError) -> MCPError:
    """The same failure as a JSON-RPC error (data keeps the machine code and status)."""
    data = {"code": error.code, "status": error.status, **error.detail}
    return MCPError(error.jsonrpc_code, error.reason, data)
