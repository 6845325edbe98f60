"""The gateway's own MCP server: the union of every healthy upstream, under one endpoint.

``tools/list`` is every healthy upstream's tools renamed ``<server>__<tool>`` (title,
description, schemas and annotations kept), sorted by name so every replica and every
call lists them in the same order, filtered to the tools the caller's grants cover (a
``:ro`` grant only the read-only ones). Prompts and resources are listed to callers whose
grants cover the whole server (for reads).
``tools/call`` is forwarded through :class:`~runtime.gateway.calls.ToolCalls`. Prompts
are federated the same way; resources keep their URIs and are routed by them.

Tools the hosting process serves itself (triage's ``find_tools``) join the listing
unprefixed, through :class:`GatewayTool`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.server import Server
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from starlette.requests import Request

from runtime.gateway.auth import ANONYMOUS, Principal
from runtime.gateway.calls import ToolCalls
from runtime.gateway.errors import (
    Forbidden,
    GatewayError,
    NotFound,
    UnknownTool,
    UpstreamFailed,
    UpstreamTimeout,
    UpstreamTooLarge,
    UpstreamUnavailable,
    to_mcp_error,
)
from runtime.gateway.naming import federated_name, split_name
from runtime.gateway.upstream.endpoint import Listing
from runtime.gateway.upstream.pool import UpstreamPool
from runtime.gateway.upstream.upstream import Upstream

__all__ = ["Federation", "GatewayTool", "principal_of"]

ToolHandler = Callable[[dict[str, Any], Principal], Awaitable[types.CallToolResult]]
Renamed = tuple[Listing, tuple[types.Tool, ...], tuple[types.Prompt, ...]]
UPSTREAM_FAILURES = (UpstreamFailed, UpstreamTimeout, UpstreamUnavailable, UpstreamTooLarge)


@dataclass(frozen=True)
class GatewayTool:
    """A tool served by the gateway process itself, listed under its own (unprefixed) name."""

    definition: types.Tool
    handler: ToolHandler

    def __post_init__(self) -> None:
        if split_name(self.definition.name) is not None:
            raise ValueError(f"gateway tool {self.definition.name!r} may not contain '__'")


def principal_of(request: Request | None) -> Principal:
    """The principal the security middleware attached to this HTTP request."""
    if request is None:
        return ANONYMOUS
    principal = request.scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else ANONYMOUS


class Federation:
    """Builds the SDK server whose handlers answer from the pool."""

    def __init__(
        self, pool: UpstreamPool, calls: ToolCalls, tools: Sequence[GatewayTool] = ()
    ) -> None:
        self.pool = pool
        self.calls = calls
        self.local_tools = {tool.definition.name: tool for tool in tools}
        self._renamed: dict[str, Renamed] = {}

    def server(self) -> Server[Any]:
        server: Server[Any] = Server(
            "mcpfleet-gateway",
            version="0.1.0",
            instructions=(
                "One endpoint in front of every MCP server in the fleet. Tools are named "
                "<server>__<tool>."
            ),
            get_tool_input_schema=self.input_schema,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt,
            on_list_resources=self._list_resources,
            on_read_resource=self._read_resource,
        )
        server.middleware.append(_translate_errors)
        return server

    # ------------------------------------------------------------------ listing

    def tools(self, principal: Principal) -> list[types.Tool]:
        """What ``principal`` sees in ``tools/list``, in the deterministic order."""
        tools = [tool.definition for tool in self.local_tools.values()]
        for upstream in self._visible(principal):
            renamed = self._renamed_for(upstream)[0]
            if principal.scopes is None:
                tools.extend(renamed)
                continue
            listing = upstream.listing  # the one _renamed_for just read (no await between)
            if listing is None:
                continue
            tools.extend(
                federated
                for own, federated in zip(listing.tools, renamed, strict=True)
                if principal.allows_tool(upstream.name, own.name, upstream.is_read_only(own.name))
            )
        return sorted(tools, key=lambda tool: tool.name)

    def input_schema(self, name: str) -> dict[str, Any] | None:
        """Lets the SDK validate ``Mcp-Param-*`` headers without running ``tools/list``."""
        if (local := self.local_tools.get(name)) is not None:
            return local.definition.input_schema
        parts = split_name(name)
        if parts is None:
            return None
        try:
            tool = self.pool.get(parts[0]).tool(parts[1])
        except GatewayError:
            return None
        return tool.input_schema if tool else None

    def _visible(self, principal: Principal) -> list[Upstream]:
        return [u for u in self.pool.upstreams() if u.up and principal.allows(u.name)]

    def _wholly_visible(self, principal: Principal) -> list[Upstream]:
        """Servers whose prompts and resources ``principal`` may see: all of it, for reads."""
        return [
            u
            for u in self._visible(principal)
            if principal.allows_every_tool(u.name, read_only=True)
        ]

    def _renamed_for(
        self, upstream: Upstream
    ) -> tuple[tuple[types.Tool, ...], tuple[types.Prompt, ...]]:
        listing = upstream.listing
        if listing is None:
            return (), ()
        cached = self._renamed.get(upstream.name)
        if cached is None or cached[0] is not listing:
            tools = tuple(
                tool.model_copy(update={"name": federated_name(upstream.name, tool.name)})
                for tool in listing.tools
            )
            prompts = tuple(
                prompt.model_copy(update={"name": federated_name(upstream.name, prompt.name)})
                for prompt in listing.prompts
            )
            cached = (listing, tools, prompts)
            self._renamed[upstream.name] = cached
        return cached[1], cached[2]

    # ------------------------------------------------------------------ handlers

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.tools(principal_of(ctx.request)))

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        principal = principal_of(ctx.request)
        arguments = dict(params.arguments or {})
        if (local := self.local_tools.get(params.name)) is not None:
            return await local.handler(arguments, principal)
        parts = split_name(params.name)
        if parts is None:
            raise UnknownTool(
                f"unknown tool {params.name!r}: fleet tools are named <server>__<tool>",
                tool=params.name,
            )
        server, tool = parts
        try:  # ToolCalls holds the call to the principal's grants (Forbidden if not)
            return await self.calls.call(
                server, tool, arguments, client=principal.name, principal=principal
            )
        except UPSTREAM_FAILURES as exc:
            # The tool ran into trouble upstream: tell the model in the result, per the spec,
            # so it can see the reason and decide; unknown tools stay protocol errors.
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=exc.reason)], is_error=True
            )

    async def _list_prompts(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        prompts: list[types.Prompt] = []
        for upstream in self._wholly_visible(principal_of(ctx.request)):
            prompts.extend(self._renamed_for(upstream)[1])
        return types.ListPromptsResult(prompts=sorted(prompts, key=lambda p: p.name))

    async def _get_prompt(
        self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        parts = split_name(params.name)
        if parts is None:
            raise NotFound(f"unknown prompt {params.name!r}")
        server, prompt = parts
        principal = principal_of(ctx.request)
        if not principal.allows_every_tool(server, read_only=True):
            raise Forbidden(
                f"token {principal.name!r} may not use the prompts of server {server!r}",
                server=server,
            )
        return await self.pool.get_prompt(server, prompt, params.arguments)

    async def _list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        resources: list[types.Resource] = []
        for upstream in self._wholly_visible(principal_of(ctx.request)):
            if upstream.listing is not None:
                resources.extend(upstream.listing.resources)
        return types.ListResourcesResult(resources=sorted(resources, key=lambda r: str(r.uri)))

    async def _read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        for upstream in self._wholly_visible(principal_of(ctx.request)):
            if upstream.listing and any(str(r.uri) == uri for r in upstream.listing.resources):
                return await self.pool.read_resource(upstream.name, uri)
        raise NotFound(f"no server in your scope lists the resource {uri!r}")


async def _translate_errors(ctx: ServerRequestContext[Any], call_next: CallNext) -> HandlerResult:
    """The JSON-RPC side of the one error translation: GatewayError → MCP error."""
    try:
        return await call_next(ctx)
    except GatewayError as exc:
        raise to_mcp_error(exc) from None
