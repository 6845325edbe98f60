"""Which route a question takes: a small learned model over a few kinds of evidence.

* similarity to example questions per route (``exemplars.yaml``, written by hand for a
  homelab, never taken from an evaluation set; the nearest few, not the centroid, so one
  route can hold several styles of question),
* cue phrases that mark a route in any wording ("what did I ask", "write a ..."),
* how well the fleet's tools fit: the calibrated confidence of the best tool, how many of
  the question's words it covers, whether the question names values or asks for a change.

A multinomial logistic regression weighs them, trained at index build on the exemplars
and on the fleet's own synthetic tool questions (see ``training``), so a fleet whose
tools cover more of the operator's vocabulary shifts the boundary by itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML

from runtime.triage.calibration import logistic
from runtime.triage.decision import Route

__all__ = ["EXEMPLARS_PATH", "ROUTES", "ROUTE_FEATURES", "RouteModel", "cue_features", "exemplars"]

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
            r"\b(what'?s|what is|whats) the (difference|diff)\b",
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


#: The routes in the model's order.
ROUTES: tuple[Route, ...] = (Route.DIRECT, Route.ESCALATE, Route.CONTEXT, Route.TOOL)
#: What the route model reads (see ``RouteEvidence``).
ROUTE_FEATURES: tuple[str, ...] = (
    # Mean cosine to the 3 nearest examples of each non-tool route. Tool questions are
    # told by the fleet's own evidence below, not by resemblance to generic examples.
    *(f"near_{r.value}" for r in ROUTES if r is not Route.TOOL),
    "cue_direct",
    "cue_escalate",
    "cue_context",
    "definition",  # "what is a ...", "what does ... mean"
    "past_we",  # "we settled on", "I wrote down": the user's own past
    "back_reference",  # "again", "the other day", "from before"
    "how_to",  # "how do I", "what command", "syntax": asks for knowledge, not a result
    "live_state",  # "now", "currently", "still", "any ... ?": asks about the present
    "indefinite",  # "a linux box", "a /26": about a kind of thing, not one of the lab's
    "tool_confidence",  # calibrated P(the best tool is right)
    "tool_coverage",  # share of the question's words the best tool's text has
    "tool_embedding",  # cosine with the best tool
    "values",  # the question names values (an IP, a VM id, PromQL ...)
    "write",  # the question asks for a change, not a read
)
NEIGHBOURS = 3
#: How often each route is asked, roughly, in an operator's day: the weight each route's
#: training rows get in total (examples are few and not in these proportions).
PRIORS: Mapping[Route, float] = {
    Route.TOOL: 0.6,
    Route.DIRECT: 0.14,
    Route.ESCALATE: 0.12,
    Route.CONTEXT: 0.14,
}


@cache
def exemplars(path: Path = EXEMPLARS_PATH) -> dict[Route, tuple[str, ...]]:
    """Example questions per route, loaded once per process."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    return {Route(name): tuple(str(q) for q in questions) for name, questions in data.items()}


_PAST_WE = re.compile(
    r"\b(we|i|you)\s+(?:\w+ed|wrote|made|came|settled|agreed|decided|chose|picked|said|told|"
    r"did|had|went|found|put|set|gave|kept|noted|saved|ended|looked|talked|figured)\b"
    r"|\b(did|have|had) (we|i|you)\b"
    r"|\b(hatten|haben|habe|hab) (wir|ich)\b|\b(wir|ich) (hatten|haben|habe)\b"
    r"|\b(guardamos|dijimos|decidimos|hablamos|anotamos|me diste)\b",
    re.I,
)
_BACK_REFERENCE = re.compile(
    r"\b(again|once more|earlier|the other day|last (time|week|month)|from before|before|"
    r"yesterday|back to|recap|remind|nochmal|wieder|gestern|ayer|otra vez|de nuevo)\b",
    re.I,
)
_HOW_TO = re.compile(
    r"\b(how (do|can|would|should) (i|you|one|we)|how to|what command|which command|syntax|"
    r"what flag|wie (kann|mache) ich|c[oó]mo (puedo|hago|se))\b",
    re.I,
)
_LIVE = re.compile(
    r"\b(now|right now|currently|current|at the moment|still|today|live|running|up|down|"
    r"any|anything|gerade|jetzt|ahora|actual(es)?)\b",
    re.I,
)
_INDEFINITE = re.compile(r"\b(a|an|ein|eine|einen|un|una)\b", re.I)


def cue_features(text: str) -> list[float]:
    """The phrase flags, in ROUTE_FEATURES order (after the route similarities)."""
    flags = [
        float(any(p.search(text) for p in _CUES[route]))
        for route in (Route.DIRECT, Route.ESCALATE, Route.CONTEXT)
    ]
    return [
        *flags,
        float(bool(_DEFINITION.search(text))),
        float(bool(_PAST_WE.search(text))),
        float(bool(_BACK_REFERENCE.search(text))),
        float(bool(_HOW_TO.search(text))),
        float(bool(_LIVE.search(text))),
        float(bool(_INDEFINITE.search(text))),
    ]


def nearest(matrix: np.ndarray, vector: np.ndarray, skip: int | None = None) -> float:
    """Mean cosine of ``vector`` to its NEIGHBOURS nearest rows (``skip``: leave one out)."""
    if len(matrix) == 0:
        return 0.0
    sims = matrix @ vector
    if skip is not None:
        sims = np.delete(sims, skip)
    top = np.sort(sims)[::-1][:NEIGHBOURS]
    return float(top.mean()) if len(top) else 0.0


@dataclass(frozen=True)
class RouteModel:
    """Softmax regression over ROUTE_FEATURES; ``examples`` are the exemplar vectors."""

    examples: Mapping[Route, np.ndarray]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (routes x features)
    bias: np.ndarray  # (routes,)

    def near(self, vector: np.ndarray) -> list[float]:
        return [nearest(self.examples[r], vector) for r in ROUTES if r is not Route.TOOL]

    def probabilities(self, features: np.ndarray) -> dict[Route, float]:
        """P(route) for one row of ROUTE_FEATURES."""
        z = self.weights @ ((features - self.mean) / self.scale) + self.bias
        exp = np.exp(z - z.max())
        probs = exp / exp.sum()
        return {route: float(p) for route, p in zip(ROUTES, probs, strict=True)}

    @classmethod
    def fit(
        cls,
        examples: Mapping[Route, np.ndarray],
        rows: np.ndarray,
        labels: Sequence[Route],
        synthetic: Sequence[bool],
    ) -> RouteModel:
        """Fit on rows of ROUTE_FEATURES; each route's rows weigh its PRIORS share in total.

        One-vs-rest logistic regressions, normalised by the softmax at prediction time:
        simple, stable with a few hundred rows, and each route's weights read on their own.
        """
        mean = rows.mean(axis=0)
        scale = rows.std(axis=0)
        scale[scale < 1e-6] = 1.0
        standard = (rows - mean) / scale
        # Each route weighs its prior; within the tool route, the hand-written examples and
        # the fleet's synthetic questions weigh half each (real wording, the fleet's tools).
        groups = [(label, bool(made)) for label, made in zip(labels, synthetic, strict=True)]
        counts = {g: groups.count(g) for g in set(groups)}
        kinds = {label: len({m for lab, m in counts if lab is label}) for label, _ in counts}
        sample = np.array([PRIORS[g[0]] / kinds[g[0]] / counts[g] for g in groups])
        weights = np.zeros((len(ROUTES), rows.shape[1]))
        bias = np.zeros(len(ROUTES))
        for i, route in enumerate(ROUTES):
            target = np.array([label is route for label in labels], dtype=float)
            weights[i], bias[i] = logistic(standard, target, weights=sample, l2=1e-2)
        return cls(dict(examples), mean, scale, weights, bias)

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": {r.value: v.astype(np.float32).tolist() for r, v in self.examples.items()},
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RouteModel:
        return cls(
            {Route(r): np.asarray(v, dtype=np.float32) for r, v in data["examples"].items()},
            np.asarray(data["mean"]),
            np.asarray(data["scale"]),
            np.asarray(data["weights"]),
            np.asarray(data["bias"]),
        )
