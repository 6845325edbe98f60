"""The gateway's one per-tool access decision, and the refusal a client gets from it.

Every entry point asks here — the security middleware (a 2026-07-28 ``Mcp-Name``), the
REST call route, the MCP ``tools/call`` handler, the fast path and
:class:`~runtime.gateway.calls.ToolCalls` itself (so triage's calls are held to it too).
What a principal may do is :meth:`Principal.allows_tool`; whether a tool is read-only is
the pool's word (the catalog's ``readOnlyTools`` or the tool's ``readOnlyHint``).
"""

from __future__ import annotations

from runtime.gateway.errors import Forbidden, GatewayError, bearer_challenge
from runtime.gateway.oauth.resource import ResourceServer
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.store.tokens import Principal

__all__ = ["check_tool", "is_read_only"]


def is_read_only(pool: UpstreamPool, server: str, tool: str) -> bool:
    """Read-only as the pool sees it; an unknown server or tool is not."""
    try:
        return pool.get(server).is_read_only(tool)
    except GatewayError:
        return False


def check_tool(
    principal: Principal,
    server: str,
    tool: str,
    *,
    read_only: bool,
    oauth: ResourceServer | None = None,
) -> None:
    """Pass, or refuse the call of ``tool`` on ``server`` for ``principal``.

    With ``oauth`` and a principal from one of its issuers, the refusal carries the
    ``insufficient_scope`` challenge naming the scopes that would allow the call.

    Raises:
        Forbidden: the principal's grants do not cover this tool.
    """
    if principal.allows_tool(server, tool, read_only):
        return
    name = principal.name
    if not principal.allows(server):
        reason, detail = f"token {name!r} may not use server {server!r}", {"server": server}
    elif principal.allows_tool(server, tool, True):
        reason = f"token {name!r} may use only read-only tools of {server!r}; {tool!r} is not one"
        detail = {"server": server, "tool": tool}
    else:
        reason = f"token {name!r} may not use tool {tool!r} of server {server!r}"
        detail = {"server": server, "tool": tool}
    raise Forbidden(
        reason, challenge=_challenge(oauth, principal, server, tool, read_only, reason), **detail
    )


def _challenge(
    oauth: ResourceServer | None,
    principal: Principal,
    server: str,
    tool: str,
    read_only: bool,
    reason: str,
) -> str | None:
    if oauth is None or principal.issuer is None:
        return None  # an mcpfleet token cannot gain scopes by asking
    scopes = oauth.scopes_granting(server, tool, read_only)
    return bearer_challenge(
        error="insufficient_scope",
        scope=" ".join(scopes) or None,
        resource_metadata=oauth.metadata_url,
        error_description=reason,
    )
