"""The deterministic route classifier used when no local LLM is reachable.

Three kinds of evidence, weighed together:

* similarity to hand-written example questions per route (``exemplars.yaml``; nearest
  few, not the centroid, so one route can hold several styles of question),
* cue phrases that mark a route in any wording ("what did I ask", "write a ...",
  "what is a ..."), and
* how well the best tool fits: a question some tool answers closely is a tool question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from ruamel.yaml import YAML

from runtime.triage.decision import Route
from runtime.triage.embedding import Embedder

__all__ = ["EXEMPLARS_PATH", "RouteClassifier", "RouteWeights", "exemplars"]

EXEMPLARS_PATH = Path(__file__).with_name("exemplars.yaml")

# Cue phrases; each match adds the route's cue weight. Kept general on purpose.
_CUES: dict[Route, list[re.Pattern[str]]] = {
    Route.CONTEXT: [
        re.compile(p, re.I)
        for p in (
            r"\b(i|we) (asked|asked about|discussed|decided|talked|said|saved|noted|told)\b",
            r"\b(you|u) (told|said|answered|gave|suggested|recommended)\b",
            r"\bmy (previous|past|last|earlier|recent|old) "
            r"(question|query|queries|answer|chat|conversation)s?\b",
            r"\b(query|question|chat|conversation|search) history\b",
            r"\b(saved|stored) (notes?|context|runbooks?|answers?)\b",
            r"\b(notes?|context) (saved|stored) (for|about)\b",
            r"\b(app|application)('s)? (notes|context)\b",
            r"\b(notes|context) for the \S+ (app|application)\b",
            r"\bremind me\b",
            r"\b(earlier|previous|last) (answer|conversation|question)\b",
            r"\b(your|the) (answer|conclusion|advice|recommendation|suggestion|verdict)s? "
            r"(on|about|to|for|from|regarding)\b",
            r"\b(did|have) (you|u|we) (already )?(tell|told|say|said|answer|answered|give|gave|"
            r"show|showed|discuss|discussed|figure|figured|decide|decided)\b",
            r"\b(last|earlier|previous|yesterday'?s?|last week'?s?|our) (chat|conversation|"
            r"discussion|session|thread)\b",
            r"\b(habe ich|hab ich).*(gefragt|gespeichert)\b",
            r"\b(pregunt[eé]|guard[eé])\b",
        )
    ],
    Route.ESCALATE: [
        re.compile(p, re.I)
        for p in (
            r"^(please )?(write|generate|design|draft|create a (plan|design|strategy|script|"
            r"dashboard json|runbook|manifest|chart|module|playbook))\b",
            r"^(please )?(plan|propose|architect|refactor|review|evaluate|compare|analy[sz]e|"
            r"summari[sz]e|translate|convert|debug|troubleshoot|migrate|explain step by step)\b",
            r"\b(trade-?offs?|pros and cons|recommend(ation)?s?|best practices?|architecture|"
            r"strategy|post-?mortem|root cause|step by step|in detail)\b",
            r"\b(script|terraform|ansible|helm chart|operator|manifests?|playbook|unit tests?|"
            r"dockerfile|pipeline)\b.*\b(for|that|which|to)\b",
            r"^(schreibe|entwirf|erstelle ein|diseña|escribe|genera)\b",
            r"^(please )?(rewrite|port|restructure|optimi[sz]e) (this|my|the|our)\b",
            r"\b(walk me through|guide me through|with examples|in depth|thoroughly|end to end)\b",
            r"\b(ausführlich|ausfuehrlich|im detail|schritt für schritt|en detalle|"
            r"detalladamente|paso a paso)\b",
        )
    ],
    Route.DIRECT: [
        re.compile(p, re.I)
        for p in (
            r"^(what|whats|what's) (is|are) (an?|the)? ?\w+( \w+)?\??$",
            r"^what does .* mean\??$",
            r"^(explain|define) (what|the|an?) ",
            r"\b(difference|differences) between\b",
            r"^how (do|can) (i|you|one) (write|use|convert|list|check|exit|undo|make)\b",
            r"\b(syntax|command|flag|option) (of|for|to)\b",
            r"\bwhat (command|flag)\b",
            r"^(was ist|was sind|qué es|que es|qu'est-ce)\b",
            r"^(was bedeutet|was heißt|was heisst|qué significa|que significa)\b",
            r"^¿?(cómo|como) (veo|puedo|hago|se hace|se usa|uso)\b",
            r"^(wie kann ich|wie mache ich|wie zeige ich)\b",
            r"^[\w./-]+( [\w./-]+)? (vs\.?|versus) [\w./-]+( [\w./-]+)?\??$",
            r"\b(quick|short|brief|one-line) answer\b|\b(in short|briefly|tl;?dr)\b",
        )
    ],
}


#: "what is a/an ...", "what are ...s": asking what a kind of thing is, not about an instance.
_DEFINITION = re.compile(
    r"^(what|whats|what's) (is|are) an? |^what does .+ (mean|stand for)|^(define|explain) "
    r"(what )?an? |^was (ist|sind) (ein|eine)\b|^qu[eé] (es|son) (un|una)\b"
    r"|^was (bedeutet|heißt|heisst)\b|^qu[eé] significa\b",
    re.I,
)


@dataclass(frozen=True)
class RouteWeights:
    """Defaults measured on our own operator queries (docs/triage.md)."""

    neighbours: int = 3
    cue: float = 0.15
    # Context and escalation cues ("my previous questions", "write a script that") are
    # specific phrases: they outweigh a tool that merely shares the topic's words.
    cue_scale: Mapping[str, float] = field(
        default_factory=lambda: {"context": 1.7, "escalate": 1.5, "direct": 1.0}
    )
    definition: float = 0.15
    tool_evidence: float = 0.5
    tool_floor: float = 0.35  # tool evidence below this counts as none
    entity: float = 0.05  # the query names a concrete value (IP, MAC, VM id, ...)
    temperature: float = 0.05


@cache
def exemplars(path: Path = EXEMPLARS_PATH) -> dict[Route, tuple[str, ...]]:
    """Example questions per route, loaded once per process."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    return {Route(name): tuple(str(q) for q in questions) for name, questions in data.items()}


@dataclass
class RouteClassifier:
    """Scores the four routes for a query vector; see the module docstring."""

    vectors: Mapping[Route, np.ndarray]
    weights: RouteWeights = field(default_factory=RouteWeights)

    @classmethod
    async def build(
        cls, embedder: Embedder, weights: RouteWeights | None = None
    ) -> RouteClassifier:
        examples = exemplars()
        routes = list(examples)
        texts = [q for r in routes for q in examples[r]]
        matrix = await embedder.embed(texts)
        vectors: dict[Route, np.ndarray] = {}
        start = 0
        for route in routes:
            vectors[route] = matrix[start : start + len(examples[route])]
            start += len(examples[route])
        return cls(vectors=vectors, weights=weights or RouteWeights())

    def scores(
        self, text: str, vector: np.ndarray, tool_evidence: float, names_value: bool
    ) -> dict[Route, float]:
        """Raw score per route (higher is more likely)."""
        w = self.weights
        out: dict[Route, float] = {}
        for route, matrix in self.vectors.items():
            sims = np.sort(matrix @ vector)[::-1][: w.neighbours]
            out[route] = float(sims.mean()) if len(sims) else 0.0
        for route, patterns in _CUES.items():
            if any(p.search(text) for p in patterns):
                out[route] = out.get(route, 0.0) + w.cue * w.cue_scale.get(route.value, 1.0)
        if _DEFINITION.search(text):
            out[Route.DIRECT] = out.get(Route.DIRECT, 0.0) + w.definition
        evidence = max(0.0, tool_evidence - w.tool_floor)
        out[Route.TOOL] = out.get(Route.TOOL, 0.0) + w.tool_evidence * evidence
        if names_value:
            out[Route.TOOL] += w.entity
        return out

    def classify(
        self, text: str, vector: np.ndarray, tool_evidence: float, names_value: bool = False
    ) -> tuple[Route, float, dict[Route, float]]:
        """The best route, its probability (softmax of the scores) and every route's score."""
        scores = self.scores(text, vector, tool_evidence, names_value)
        routes = list(scores)
        raw = np.array([scores[r] for r in routes]) / self.weights.temperature
        probs = np.exp(raw - raw.max())
        probs /= probs.sum()
        best = int(np.argmax(probs))
        return routes[best], float(probs[best]), scores
