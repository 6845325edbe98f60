"""The REST API's response bodies (camelCase on the wire, like MCP itself)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "EndpointInfo",
    "ErrorDetail",
    "ErrorResponse",
    "HealthResponse",
    "ServerInfo",
    "ServersResponse",
    "ToolCallResponse",
    "ToolInfo",
]


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ErrorDetail(Wire):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")
    code: str = Field(description="Stable machine code, e.g. unauthorized, rate_limited.")
    reason: str = Field(description="What went wrong, for a human.")


class ErrorResponse(Wire):
    """Every error the API returns has this shape; never a stack trace."""

    error: ErrorDetail


class ToolCallResponse(Wire):
    """The upstream's tool result, relayed; ``isError`` is the tool's own verdict."""

    server: str
    tool: str
    content: list[dict[str, Any]]
    structured_content: Any = None
    is_error: bool = False
    latency_ms: float


class ToolInfo(Wire):
    name: str
    federated_name: str = Field(description="The name on the gateway's /mcp endpoint.")
    description: str | None = None
    read_only: bool


class EndpointInfo(Wire):
    endpoint: str
    transport: str
    healthy: bool | None
    circuit: Literal["closed", "open", "half_open"]
    in_flight: int
    calls: int
    protocol_version: str | None
    last_error: str | None


class ServerInfo(Wire):
    name: str
    kind: str
    source: str
    description: str
    health: Literal["healthy", "degraded", "unhealthy", "unknown"]
    endpoints: list[EndpointInfo]
    tools: list[ToolInfo]


class ServersResponse(Wire):
    servers: list[ServerInfo]


class HealthResponse(Wire):
    status: Literal["ok", "degraded"]
    servers_up: int
    servers_total: int
