"""The few seams between runtime services, so gateway, triage, router and discovery never
import each other: each depends on these protocols, and the process that hosts them wires
the real implementations together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from runtime.store.tokens import Principal

__all__ = [
    "CallObserver",
    "Completer",
    "Completion",
    "CompletionFailed",
    "ToolCaller",
    "ToolOutcome",
]


@dataclass(frozen=True)
class ToolOutcome:
    """What an upstream tool call returned, already in plain JSON-able form."""

    server: str
    tool: str
    content: list[dict[str, Any]]
    is_error: bool = False
    structured: dict[str, Any] | None = None
    latency_ms: float = 0.0


class ToolCaller(Protocol):
    """Calls a tool on an upstream MCP server (implemented by the gateway's upstream layer).

    ``principal``, when given, is who the call is made for: the gateway holds the call to
    its grants and audits its subject and client id.
    """

    async def call_tool(
        self,
        server: str,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        client: str,
        principal: Principal | None = None,
    ) -> ToolOutcome: ...


class CallObserver(Protocol):
    """Told of each successful tool call the gateway made (triage learns from the calls that
    follow its ``find_tools`` answers). Called inline: it must return at once and not raise;
    slow work goes to a task of its own.
    """

    def tool_called(self, server: str, tool: str, *, client: str) -> None: ...


@dataclass(frozen=True)
class Completion:
    """A model's answer with the accounting the router recorded for it."""

    text: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    fallbacks_tried: list[str] = field(default_factory=list)


class CompletionFailed(Exception):
    """No model could answer (every model failed, or the router is unreachable).

    Callers such as triage catch this without importing the router; ``str(exc)`` is safe to
    show (no keys, no stack).
    """


class Completer(Protocol):
    """Answers a prompt with a model chosen by policy (implemented by the router)."""

    async def complete(
        self,
        prompt: str,
        *,
        task_type: str = "chat",
        system: str | None = None,
        max_tokens: int = 1024,
    ) -> Completion:
        """Raises: CompletionFailed when no model could answer."""
        ...
