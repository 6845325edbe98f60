"""Scoring triage against a labelled file (format: ``eval/FORMAT.md``).

Kept apart from the engine so anyone can score a ``--predictions`` file the same way:
route accuracy over all queries; tool top-1/3/5/10 over the ``tool``-labelled queries,
counting ``alternatives`` as correct and whatever route was predicted; figures per server.
And whether the confidence can be trusted: expected calibration error of the decision's
confidence, coverage and precision of confident tool decisions at the serving threshold,
and the executions that would have run a wrong tool (or a tool for a non-tool question).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runtime.triage.calibration import expected_calibration_error
from runtime.triage.decision import Route

__all__ = [
    "EvalCase",
    "EvalFileError",
    "EvalReport",
    "Prediction",
    "ServerScore",
    "Trust",
    "load_cases",
    "score",
]

_ROUTES = {r.value for r in Route}


class EvalFileError(ValueError):
    """A labelled file has a line that is not a valid case (names file, line and field)."""


@dataclass(frozen=True)
class EvalCase:
    id: str
    query: str
    route: str
    tool: str | None = None
    alternatives: tuple[str, ...] = ()

    @property
    def accepted(self) -> frozenset[str]:
        """Every ``server/tool`` that counts as correct for this case."""
        return frozenset(([self.tool] if self.tool else []) + list(self.alternatives))


@dataclass(frozen=True)
class Prediction:
    id: str
    route: str
    candidates: tuple[str, ...]
    latency_ms: float | None = None
    confidence: float = 0.0
    would_execute: bool = False

    def to_json(self) -> str:
        """The line ``--predictions`` writes (candidates as ``server/tool``, best first)."""
        return json.dumps(
            {
                "id": self.id,
                "route": self.route,
                "candidates": list(self.candidates),
                "confidence": self.confidence,
                "would_execute": self.would_execute,
            }
        )


@dataclass(frozen=True)
class ServerScore:
    queries: int
    top1: float
    top5: float


@dataclass(frozen=True)
class Trust:
    """Whether the confidence can be trusted, at the serving threshold."""

    threshold: float
    ece: float  # expected calibration error of the decision's confidence
    coverage: float  # share of tool questions decided `tool` with confidence ≥ threshold
    precision: float  # share of those whose first candidate is right
    executions: int  # predictions with would_execute
    wrong_executions: int  # … whose tool is wrong or whose question needs no tool
    curve: list[dict[str, float]] = field(default_factory=list)  # coverage/precision by threshold


@dataclass(frozen=True)
class EvalReport:
    queries: int
    tool_queries: int
    route_accuracy: float
    tool_top1: float
    tool_top5: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    per_server: dict[str, ServerScore]
    per_route: dict[str, float] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    tool_top3: float = 0.0
    tool_top10: float = 0.0
    trust: Trust | None = None

    def as_dict(self) -> dict[str, object]:
        """One JSON-able object, as ``--json`` prints it."""
        trust = self.trust
        return {
            "queries": self.queries,
            "toolQueries": self.tool_queries,
            "routeAccuracy": self.route_accuracy,
            "toolTop1": self.tool_top1,
            "toolTop3": self.tool_top3,
            "toolTop5": self.tool_top5,
            "toolTop10": self.tool_top10,
            "ece": trust.ece if trust else None,
            "threshold": trust.threshold if trust else None,
            "coverage": trust.coverage if trust else None,
            "precision": trust.precision if trust else None,
            "executions": trust.executions if trust else None,
            "wrongExecutions": trust.wrong_executions if trust else None,
            "coverageCurve": trust.curve if trust else [],
            "latencyP50Ms": self.latency_p50_ms,
            "latencyP95Ms": self.latency_p95_ms,
            "perServer": {
                name: {"queries": s.queries, "top1": s.top1, "top5": s.top5}
                for name, s in sorted(self.per_server.items())
            },
            "perRoute": self.per_route,
            "confusion": self.confusion,
        }


def load_cases(path: Path) -> list[EvalCase]:
    """Read a labelled JSON Lines file.

    Raises:
        EvalFileError: a line is not JSON, lacks ``id``/``query``/``route``, has an unknown
            route, a ``tool`` route without a tool, or an id seen before.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalFileError(f"{path}: cannot read: {exc.strerror}") from exc
    cases: list[EvalCase] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{where}: not JSON: {exc.msg}") from exc
        if not isinstance(raw, dict):
            raise EvalFileError(f"{where}: expected a JSON object")
        for key in ("id", "query", "route"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise EvalFileError(f"{where}: `{key}` must be a non-empty string")
        if raw["route"] not in _ROUTES:
            raise EvalFileError(
                f"{where}: route {raw['route']!r} is not one of {', '.join(sorted(_ROUTES))}"
            )
        tool = raw.get("tool")
        if raw["route"] == Route.TOOL and not tool:
            raise EvalFileError(f'{where}: a `tool` route needs `tool` ("server/tool")')
        for name in [tool, *raw.get("alternatives", [])]:
            if name is not None and (not isinstance(name, str) or "/" not in name):
                raise EvalFileError(f'{where}: tool {name!r} is not "server/tool"')
        if raw["id"] in seen:
            raise EvalFileError(f"{where}: id {raw['id']!r} appears twice")
        seen.add(raw["id"])
        cases.append(
            EvalCase(
                id=raw["id"],
                query=raw["query"],
                route=raw["route"],
                tool=tool,
                alternatives=tuple(raw.get("alternatives") or ()),
            )
        )
    return cases


def _ratio(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def _percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


#: Thresholds the coverage/precision curve reports.
CURVE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def score(
    cases: Sequence[EvalCase], predictions: Iterable[Prediction], threshold: float = 0.8
) -> EvalReport:
    """Score predictions against cases; a case without a prediction counts as wrong.

    ``threshold`` is the serving threshold: coverage and precision are reported there.
    """
    by_id = {p.id: p for p in predictions}
    route_hits = 0
    hits = {1: 0, 3: 0, 5: 0, 10: 0}
    tool_total = 0
    servers: dict[str, list[tuple[bool, bool]]] = {}
    routes: dict[str, list[bool]] = {}
    confusion: dict[str, dict[str, int]] = {}
    latencies = [p.latency_ms for p in by_id.values() if p.latency_ms is not None]
    confidences: list[float] = []
    rights: list[bool] = []
    tool_decisions: list[tuple[float, bool, bool]] = []  # confidence, route tool, top-1 right
    executions = wrong = 0
    for case in cases:
        pred = by_id.get(case.id)
        predicted_route = pred.route if pred else "none"
        ok = predicted_route == case.route
        route_hits += ok
        routes.setdefault(case.route, []).append(ok)
        row = confusion.setdefault(case.route, {})
        row[predicted_route] = row.get(predicted_route, 0) + 1
        candidates = pred.candidates if pred else ()
        top1 = bool(candidates) and candidates[0] in case.accepted
        if pred is not None:
            decision_right = ok and (case.route != Route.TOOL or top1)
            confidences.append(pred.confidence)
            rights.append(decision_right)
            if pred.would_execute:
                executions += 1
                wrong += not (case.route == Route.TOOL and top1)
        if case.route != Route.TOOL or case.tool is None:
            continue
        tool_total += 1
        for k in hits:
            hits[k] += any(c in case.accepted for c in candidates[:k])
        if pred is not None:
            tool_decisions.append((pred.confidence, pred.route == Route.TOOL, top1))
        servers.setdefault(case.tool.split("/", 1)[0], []).append(
            (top1, any(c in case.accepted for c in candidates[:5]))
        )
    coverage, precision = _at(tool_decisions, threshold, tool_total)
    trust = Trust(
        threshold=threshold,
        ece=expected_calibration_error(confidences, rights),
        coverage=coverage,
        precision=precision,
        executions=executions,
        wrong_executions=wrong,
        curve=[
            dict(
                zip(
                    ("threshold", "coverage", "precision"),
                    (t, *_at(tool_decisions, t, tool_total)),
                    strict=True,
                )
            )
            for t in CURVE
        ],
    )
    return EvalReport(
        queries=len(cases),
        tool_queries=tool_total,
        route_accuracy=_ratio(route_hits, len(cases)),
        tool_top1=_ratio(hits[1], tool_total),
        tool_top5=_ratio(hits[5], tool_total),
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
        per_server={
            name: ServerScore(
                queries=len(h),
                top1=_ratio(sum(x[0] for x in h), len(h)),
                top5=_ratio(sum(x[1] for x in h), len(h)),
            )
            for name, h in servers.items()
        },
        per_route={name: _ratio(sum(oks), len(oks)) for name, oks in sorted(routes.items())},
        confusion=confusion,
        tool_top3=_ratio(hits[3], tool_total),
        tool_top10=_ratio(hits[10], tool_total),
        trust=trust,
    )


def _at(
    decisions: Sequence[tuple[float, bool, bool]], threshold: float, total: int
) -> tuple[float, float]:
    """Coverage of confident tool decisions among ``total`` tool questions, and precision."""
    confident = [right for conf, is_tool, right in decisions if is_tool and conf >= threshold]
    return _ratio(len(confident), total), _ratio(sum(confident), len(confident))
