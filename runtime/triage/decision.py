"""What triage decides for one question: a route, ranked tools, arguments and a confidence.

These are the shapes ``POST /api/v1/triage`` returns and the eval command scores, so they
are plain pydantic models with camelCase JSON like the rest of the API.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = ["Candidate", "Decision", "Route"]


class Route(StrEnum):
    DIRECT = "direct"  # a small local LLM answers: definitions, syntax, basic how-to
    TOOL = "tool"  # needs live data or an action from one tool of the fleet
    ESCALATE = "escalate"  # reasoning, design or generation for a frontier model
    CONTEXT = "context"  # about the user's past queries or stored application context


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Candidate(_Model):
    """One tool that may answer the question, best first; ``score`` is in [0, 1]."""

    server: str
    tool: str
    score: float
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.server}/{self.tool}"


class Decision(_Model):
    """The route and everything that led to it, with per-stage timings in milliseconds."""

    route: Route
    confidence: float = Field(ge=0, le=1)
    candidates: list[Candidate] = Field(default_factory=list)
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Arguments of the first candidate read off the query."
    )
    missing_arguments: list[str] = Field(
        default_factory=list, description="Required arguments of the first candidate not given."
    )
    route_scores: dict[str, float] = Field(default_factory=dict)
    decided_by: str = Field(default="classifier", description="`classifier` or `llm:<model>`.")
    timings: dict[str, float] = Field(default_factory=dict)
