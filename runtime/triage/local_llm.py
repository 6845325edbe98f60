"""The local LLM (Ollama, e.g. llama3.1:8b): decides among retrieved tools and answers.

Deciding uses structured output (``format`` = a JSON schema whose ``tool`` is an enum of
the retrieved candidates), so the model can only pick a tool that exists and that the
caller may use; the prompt carries those candidates and their input schemas, never the
whole fleet. Any failure — unreachable, refused, malformed — returns None and the
deterministic decision stands: the LLM improves triage, it is never required.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import ollama
from pydantic import BaseModel, ValidationError

from runtime.telemetry import ollama_timer
from runtime.triage.decision import Candidate, Decision, Route

__all__ = ["LocalAnswer", "OllamaLlm"]

_SYSTEM_DECIDE = """You route an operator's question in a homelab. Routes:
- tool: needs live data or an action from exactly one of the listed tools
- direct: a general question you can answer yourself (definitions, syntax, basic how-to)
- escalate: complex reasoning, design, code or config generation, long analysis
- context: about the user's own past questions/answers or stored application notes
If the route is tool, pick the tool and fill only arguments the question states clearly.
Answer with JSON only."""


class _Choice(BaseModel):
    route: Route
    tool: str | None = None
    arguments: dict[str, Any] = {}
    confidence: float = 0.5


@dataclass(frozen=True)
class LocalAnswer:
    text: str
    model: str
    input_tokens: int
    output_tokens: int


@dataclass
class OllamaLlm:
    """One Ollama chat model; ``available`` is re-probed at most every ``retry_after`` s."""

    client: ollama.AsyncClient
    model: str
    retry_after: float = 60.0
    _down_until: float = field(default=0.0, init=False)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def mark_down(self) -> None:
        self._down_until = time.monotonic() + self.retry_after

    async def aclose(self) -> None:
        await self.client.close()

    async def probe(self) -> bool:
        """True if the server answers and has the model; marks it down for a while if not."""
        try:
            listed = await self.client.list()
        except (httpx.HTTPError, ollama.ResponseError, ConnectionError):
            self.mark_down()
            return False
        names = {m.model for m in listed.models}
        if self.model not in names and f"{self.model}:latest" not in names:
            self.mark_down()
            return False
        self._down_until = 0.0
        return True

    async def _chat(
        self, messages: list[dict[str, str]], format: dict[str, Any] | None = None
    ) -> ollama.ChatResponse | None:
        if not self.available:
            return None
        try:
            with ollama_timer("triage", self.model):
                return await self.client.chat(
                    model=self.model, messages=messages, format=format, options={"temperature": 0}
                )
        except (httpx.HTTPError, ollama.ResponseError, ConnectionError):
            self.mark_down()
            return None

    async def decide(
        self, text: str, candidates: Sequence[Candidate], schemas: Mapping[str, object]
    ) -> Decision | None:
        """The LLM's route and tool among ``candidates``; None when it cannot say."""
        keys = [c.key for c in candidates]
        tools = [
            {"tool": c.key, "description": c.description, "inputSchema": schemas.get(c.key, {})}
            for c in candidates
        ]
        schema = {
            "type": "object",
            "properties": {
                "route": {"type": "string", "enum": [r.value for r in Route]},
                "tool": {"type": ["string", "null"], "enum": [*keys, None]},
                "arguments": {"type": "object"},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "required": ["route", "tool", "arguments", "confidence"],
        }
        prompt = f"Question: {text}\n\nTools:\n{json.dumps(tools, ensure_ascii=False)}"
        response = await self._chat(
            [{"role": "system", "content": _SYSTEM_DECIDE}, {"role": "user", "content": prompt}],
            format=schema,
        )
        if response is None:
            return None
        try:
            choice = _Choice.model_validate_json(response.message.content or "")
        except ValidationError:
            return None
        if choice.route is Route.TOOL and choice.tool not in keys:
            return None
        ordered = list(candidates)
        if choice.tool in keys:
            ordered.sort(key=lambda c: c.key != choice.tool)  # the chosen tool first
        required = schemas.get(choice.tool or "", {})
        required_names = required.get("required", []) if isinstance(required, dict) else []
        return Decision(
            route=choice.route,
            confidence=max(0.0, min(1.0, choice.confidence)),
            candidates=ordered,
            arguments=choice.arguments if choice.route is Route.TOOL else {},
            missing_arguments=[str(r) for r in required_names if r not in choice.arguments]
            if choice.route is Route.TOOL
            else [],
            decided_by=f"llm:{self.model}",
        )

    async def answer(self, prompt: str, system: str | None = None) -> LocalAnswer | None:
        """A plain answer (direct route, summaries); None when the model cannot be reached."""
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        response = await self._chat(messages)
        if response is None:
            return None
        return LocalAnswer(
            text=response.message.content or "",
            model=self.model,
            input_tokens=response.prompt_eval_count or 0,
            output_tokens=response.eval_count or 0,
        )
