"""Bearer tokens for the standalone router, verified against the shared token store.

Inside the gateway's process the gateway's own security middleware guards the routes;
as a service of its own the router checks the same ``api_tokens`` (``mcpfleet token
create``), so a caller in another pod (triage's :class:`RouterClient`) needs a token.
"""

from __future__ import annotations

from fastapi import Request

from runtime.router.errors import Unauthorized
from runtime.store.tokens import Principal, TokenError, TokenStore

__all__ = ["require_token"]


async def require_token(request: Request) -> Principal:
    """The caller's principal; any valid token may use the router (scopes name MCP servers).

    Raises:
        Unauthorized: missing, unknown, expired or revoked token (reason safe to show).
    """
    store: TokenStore = request.app.state.token_store
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    try:
        return await store.verify(token.strip() if scheme.lower() == "bearer" else None)
    except TokenError as exc:
        raise Unauthorized(str(exc)) from exc
