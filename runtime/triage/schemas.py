"""Request and response bodies of the triage REST API (camelCase JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel

from runtime.triage.decision import Decision

__all__ = [
    "EmbedResponse",
    "FoundTool",
    "QueryRequest",
    "QueryResponse",
    "SourceOut",
    "TextRequest",
]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class TextRequest(_Model):
    text: str = Field(min_length=1, max_length=8000)


class QueryRequest(TextRequest):
    confirm: StrictBool = Field(
        default=False,
        description="Run the first candidate (or `tool`) even if triage would not by itself, "
        "including a tool that may change state.",
    )
    tool: str | None = Field(
        default=None,
        pattern=r"^[^/\s]+/[^/\s]+$",
        description="Run this tool (`server/tool`) for the question: the user's choice among "
        "the candidates. Not read-only tools still need `confirm`.",
    )
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Tool arguments to use on top of those read."
    )


class EmbedResponse(_Model):
    model: str
    dimension: int
    vector: list[float]


class SourceOut(_Model):
    kind: str
    id: int
    title: str
    text: str
    similarity: float


class QueryResponse(_Model):
    id: int | None
    route: str
    answer: str
    result: Any = None
    sources: list[SourceOut] = []
    model: str | None = None
    servers: list[str] = []
    needs: dict[str, Any] = {}
    cached: bool = False
    cached_from: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float
    decision: Decision


class FoundTool(_Model):
    """One ``find_tools`` hit: the name to call on the gateway's /mcp and its schema."""

    name: str
    server: str
    tool: str
    description: str
    input_schema: dict[str, Any]
    score: float
