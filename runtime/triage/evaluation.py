"""Scoring triage against a labelled file in the format of ``shared/eval`` (see its README).

Kept apart from the engine so anyone can score a ``--predictions`` file the same way:
route accuracy over all queries; tool top-1 / top-5 over the ``tool``-labelled queries,
counting ``alternatives`` as correct and whatever route was predicted; figures per server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runtime.triage.decision import Route

__all__ = [
    "EvalCase",
    "EvalFileError",
    "EvalReport",
    "Prediction",
    "ServerScore",
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

    def to_json(self) -> str:
        """The line ``--predictions`` writes: id, route, candidates as ``server/tool``."""
        return json.dumps({"id": self.id, "route": self.route, "candidates": list(self.candidates)})


@dataclass(frozen=True)
class ServerScore:
    queries: int
    top1: float
    top5: float


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

    def as_dict(self) -> dict[str, object]:
        """One JSON-able object, as ``--json`` prints it."""
        return {
            "queries": self.queries,
            "toolQueries": self.tool_queries,
            "routeAccuracy": self.route_accuracy,
            "toolTop1": self.tool_top1,
            "toolTop5": self.tool_top5,
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


def score(cases: Sequence[EvalCase], predictions: Iterable[Prediction]) -> EvalReport:
    """Score predictions against cases; a case without a prediction counts as wrong."""
    by_id = {p.id: p for p in predictions}
    route_hits = 0
    top1 = top5 = tool_total = 0
    servers: dict[str, list[tuple[bool, bool]]] = {}
    routes: dict[str, list[bool]] = {}
    confusion: dict[str, dict[str, int]] = {}
    latencies = [p.latency_ms for p in by_id.values() if p.latency_ms is not None]
    for case in cases:
        pred = by_id.get(case.id)
        predicted_route = pred.route if pred else "none"
        ok = predicted_route == case.route
        route_hits += ok
        routes.setdefault(case.route, []).append(ok)
        row = confusion.setdefault(case.route, {})
        row[predicted_route] = row.get(predicted_route, 0) + 1
        if case.route != Route.TOOL or case.tool is None:
            continue
        candidates = pred.candidates if pred else ()
        hit1 = bool(candidates) and candidates[0] in case.accepted
        hit5 = any(c in case.accepted for c in candidates[:5])
        tool_total += 1
        top1 += hit1
        top5 += hit5
        servers.setdefault(case.tool.split("/", 1)[0], []).append((hit1, hit5))
    return EvalReport(
        queries=len(cases),
        tool_queries=tool_total,
        route_accuracy=_ratio(route_hits, len(cases)),
        tool_top1=_ratio(top1, tool_total),
        tool_top5=_ratio(top5, tool_total),
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
        per_server={
            name: ServerScore(
                queries=len(hits),
                top1=_ratio(sum(h[0] for h in hits), len(hits)),
                top5=_ratio(sum(h[1] for h in hits), len(hits)),
            )
            for name, hits in servers.items()
        },
        per_route={name: _ratio(sum(oks), len(oks)) for name, oks in sorted(routes.items())},
        confusion=confusion,
    )
