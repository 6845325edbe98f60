"""What triage decides for one question: a route, ranked tools, arguments, a probability,
and whether it would run the tool by itself.

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
    """One tool that may answer the question, best first."""

    server: str
    tool: str
    score: float = Field(ge=0, le=1, description="The scorer's share of belief in this tool.")
    description: str = ""
    read_only: bool = Field(
        default=False, description="Declared read-only (tool annotation or catalog)."
    )
    required: list[str] = Field(default_factory=list, description="Its required arguments.")

    @property
    def key(self) -> str:
        return f"{self.server}/{self.tool}"


class Decision(_Model):
    """The route and everything that led to it, with per-stage timings in milliseconds."""

    route: Route
    confidence: float = Field(
        ge=0,
        le=1,
        description="Calibrated probability that the decision is right: for `tool`, that "
        "the route is tool and the first candidate is the tool that answers.",
    )
    candidates: list[Candidate] = Field(default_factory=list)
    tool_confidence: float = Field(
        default=0.0, ge=0, le=1, description="Calibrated P(the first candidate is right)."
    )
    route_probabilities: dict[str, float] = Field(default_factory=dict)
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Arguments of the first candidate read off the query."
    )
    missing_arguments: list[str] = Field(
        default_factory=list, description="Required arguments of the first candidate not given."
    )
    asks_change: bool = Field(
        default=False, description="The question asks to change something, not to look."
    )
    would_execute: bool = Field(
        default=False,
        description="Whether /api/v1/query would call the first candidate without a confirm.",
    )
    execution: str = Field(default="", description="Why it would or would not run by itself.")
    decided_by: str = Field(default="model", description="`model` or `llm:<model>`.")
    timings: dict[str, float] = Field(default_factory=dict)

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None
