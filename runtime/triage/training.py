"""Training at index build: the scorer, its calibration and the route model, from the fleet.

1. ``synthesis`` writes a few questions per tool from the tools' own schemas.
2. The scorer is fitted to rank each question's tool first among its candidates.
3. The calibrator is fitted on *out-of-fold* rankings: tools are split in two folds, a
   scorer trained on one fold ranks the other's questions, so the confidence learned is
   the one for tools the scorer has not seen phrased — the honest case.
4. The route model is fitted on the hand-written route examples plus those out-of-fold
   tool questions, with the tool evidence the live decision will see.

Nothing here reads an evaluation set. A fleet of ~700 tools trains in seconds; the result
is plain data (``TriageModel.to_dict``) stored by fingerprint, so an unchanged fleet is
never trained twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from runtime.triage.actions import Action
from runtime.triage.arguments import value_kinds
from runtime.triage.calibration import Calibrator
from runtime.triage.candidates import in_memory
from runtime.triage.decision import Route
from runtime.triage.embedding import Embedder
from runtime.triage.features import FEATURES, features
from runtime.triage.index import ToolIndex
from runtime.triage.memory import Recollection
from runtime.triage.query import Query
from runtime.triage.ranking import Ranking, rank, tool_coverage
from runtime.triage.routing import (
    ROUTE_FEATURES,
    ROUTES,
    RouteModel,
    cue_features,
    exemplars,
    nearest,
)
from runtime.triage.scorer import Group, LinearScorer
from runtime.triage.synthesis import (
    SYNTHESIS_VERSION,
    TrainingQuestion,
    narrate,
    rephrase,
    synthesize,
)

__all__ = [
    "MODEL_VERSION",
    "TrainingReport",
    "TriageModel",
    "fingerprint",
    "fit",
    "route_row",
    "train",
]

#: Bump when features, scorer or route model change shape: stored models then retrain.
MODEL_VERSION = 1
#: Synthetic questions per tool.
PER_TOOL = 3
#: Out-of-fold tool questions the route model sees (beside every hand-written example).
ROUTE_TOOL_ROWS = 400
#: A hand-written tool example teaches "tool" only if some tool of this fleet covers at
#: least this share of its words (an example about VMs says nothing to a DNS-only fleet).
MIN_TOOL_COVERAGE = 0.5
_COVERAGE = ROUTE_FEATURES.index("tool_coverage")


@dataclass(frozen=True)
class TrainingReport:
    """What training saw and how well the scorer ranks tools it was not trained on."""

    questions: int
    tools: int
    pool_recall: float  # share of questions whose tool was among the candidates
    out_of_fold_top1: float  # top-1 of scorers on the other fold's tools
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "tools": self.tools,
            "poolRecall": round(self.pool_recall, 4),
            "outOfFoldTop1": round(self.out_of_fold_top1, 4),
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class TriageModel:
    scorer: LinearScorer
    calibrator: Calibrator
    routes: RouteModel
    fingerprint: str
    report: TrainingReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": MODEL_VERSION,
            "fingerprint": self.fingerprint,
            "scorer": self.scorer.to_dict(),
            "calibrator": self.calibrator.to_dict(),
            "routes": self.routes.to_dict(),
            "report": self.report.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TriageModel:
        report = data["report"]
        return cls(
            scorer=LinearScorer.from_dict(data["scorer"]),
            calibrator=Calibrator.from_dict(data["calibrator"]),
            routes=RouteModel.from_dict(data["routes"]),
            fingerprint=str(data["fingerprint"]),
            report=TrainingReport(
                questions=int(report["questions"]),
                tools=int(report["tools"]),
                pool_recall=float(report["poolRecall"]),
                out_of_fold_top1=float(report["outOfFoldTop1"]),
                seconds=float(report["seconds"]),
            ),
        )


def fingerprint(index: ToolIndex, embedder_name: str) -> str:
    """Changes whenever anything training reads changes (tools, examples, code versions)."""
    parts = [
        f"model:{MODEL_VERSION}",
        f"synthesis:{SYNTHESIS_VERSION}",
        f"embedder:{embedder_name}",
        ",".join(FEATURES),
        *(d.digest for d in index.documents),
        *(f"{r.value}:{q}" for r, qs in exemplars().items() for q in qs),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def route_row(
    routes_near: Sequence[float],
    text: str,
    query: Query,
    index: ToolIndex,
    ranking: Ranking,
    confidence: float,
) -> np.ndarray:
    """One row of ROUTE_FEATURES for a question (see routing)."""
    top = int(ranking.positions[0]) if len(ranking) else -1
    coverage = tool_coverage(index, query, top) if top >= 0 else 0.0
    embedding = float(ranking.features[0, FEATURES.index("embedding")]) if top >= 0 else 0.0
    values = min(len(value_kinds(query.entities)), 2) / 2
    write = float(Action.READ not in query.actions)
    return np.array(
        [*routes_near, *cue_features(text), confidence, coverage, embedding, values, write]
    )


_EXAMPLE_VECTORS: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}


async def _example_vectors(embedder: Embedder, texts: tuple[str, ...]) -> np.ndarray:
    """The route examples' vectors, embedded once per process and embedding model."""
    key = (embedder.name, texts)
    if key not in _EXAMPLE_VECTORS:
        _EXAMPLE_VECTORS[key] = await embedder.embed(list(texts))
    return _EXAMPLE_VECTORS[key]


def _remembered(questions: Sequence[TrainingQuestion]) -> list[TrainingQuestion]:
    """The first question of every other tool: what training pretends was confirmed."""
    out: dict[str, TrainingQuestion] = {}
    for question in questions:
        if question.key not in out and _fold(question.key + ":memory") == 0:
            out[question.key] = question
    return list(out.values())


def _fold(key: str) -> int:
    return zlib.crc32(key.encode()) % 2


@dataclass(frozen=True)
class _Example:
    """One training question, prepared: its query, candidates and their features."""

    question: TrainingQuestion
    vector: np.ndarray
    query: Query
    positions: np.ndarray
    group: Group


#: Candidates kept per training question: the best by keywords and by embedding (and the
#: right one). The rest are easy negatives that cost training time and teach nothing.
TRAINING_CANDIDATES = 24


def _example(
    index: ToolIndex, question: TrainingQuestion, vector: np.ndarray, memory: Recollection
) -> _Example:
    query = index.prepare(question.text, vector)
    remembered = memory.recall_sync(vector)
    found = in_memory(index, query, extra=remembered)
    matrix = features(index, query, found.positions, found.similarity, remembered)
    correct = np.array([index.keys[int(i)] == question.key for i in found.positions])
    keep = _hardest(matrix, correct)
    return _Example(
        question, vector, query, found.positions[keep], Group(matrix[keep], correct[keep])
    )


def _hardest(matrix: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Rows of the best candidates by keywords and by embedding, plus the right ones."""
    keywords = np.argsort(-matrix[:, FEATURES.index("keywords")])[:TRAINING_CANDIDATES]
    embedding = np.argsort(-matrix[:, FEATURES.index("embedding")])[:TRAINING_CANDIDATES]
    return np.union1d(np.union1d(keywords, embedding), np.flatnonzero(correct))


async def train(index: ToolIndex, embedder: Embedder, *, seed: int = 2612) -> TriageModel:
    """Train scorer, calibrator and route model for ``index`` (which holds tool vectors).

    The texts are embedded first (the embedder keeps inference off the event loop); the
    fitting runs in a worker thread.

    Raises:
        ValueError: the fleet is too small to train on (no question found its tool).
    """
    started = time.perf_counter()
    questions = synthesize(
        index.documents, index.schemas, index.server_names, per_tool=PER_TOOL, seed=seed
    )
    told = narrate(questions, count=ROUTE_TOOL_ROWS // 4, seed=seed)
    again = rephrase(_remembered(questions), seed=seed)
    vectors = await embedder.embed([q.text for q in [*questions, *told, *again]])
    told_vectors = vectors[len(questions) : len(questions) + len(told)]
    examples = [(r, q) for r in ROUTES for q in exemplars().get(r, ())]
    example_vectors = await _example_vectors(embedder, tuple(q for _, q in examples))
    model = await asyncio.to_thread(
        fit,
        index,
        questions,
        vectors[: len(questions)],
        examples,
        example_vectors,
        narrated=list(zip(told, told_vectors, strict=True)),
        remembered=list(zip(again, vectors[len(questions) + len(told) :], strict=True)),
        seed=seed,
    )
    report = replace(model.report, seconds=time.perf_counter() - started)
    return replace(model, fingerprint=fingerprint(index, embedder.name), report=report)


def fit(
    index: ToolIndex,
    questions: Sequence[TrainingQuestion],
    vectors: np.ndarray,
    examples: Sequence[tuple[Route, str]],
    example_vectors: np.ndarray,
    *,
    narrated: Sequence[tuple[TrainingQuestion, np.ndarray]] = (),
    remembered: Sequence[tuple[TrainingQuestion, np.ndarray]] = (),
    seed: int,
) -> TriageModel:
    """The CPU-bound part of :func:`train` (fingerprint and timing are filled in there).

    ``remembered`` are questions asked again and confirmed (see ``synthesis.rephrase``):
    with them in memory the scorer learns how much a close past question says.
    """
    memory = Recollection()
    for question, vector in remembered:
        memory.remember(vector, question.key)
    training = list(zip(questions, vectors, strict=True))
    built = [_example(index, q, v, memory) for q, v in training]
    groups = [e.group for e in built]
    folds = np.array([_fold(e.question.key) for e in built])

    scorer = LinearScorer.fit(FEATURES, groups)
    evidence: list[np.ndarray] = []
    correct: list[bool] = []
    held: list[tuple[_Example, Ranking]] = []
    fold_scorers: dict[int, LinearScorer] = {}
    for fold in (0, 1):
        fold_scorer = fold_scorers[fold] = LinearScorer.fit(
            FEATURES, [g for g, f in zip(groups, folds, strict=True) if f != fold], epochs=150
        )
        for i in np.flatnonzero(folds == fold):
            example = built[int(i)]
            ranking = _ranking(example, fold_scorer)
            if len(ranking):
                evidence.append(ranking.evidence())
                top = index.documents[int(ranking.positions[0])].key
                correct.append(top == example.question.key)
                held.append((example, ranking))
    outcomes = np.array(correct, dtype=bool)
    try:
        calibrator = Calibrator.fit(np.array(evidence), outcomes)
    except ValueError:  # a tiny fleet: (almost) always right or always wrong
        calibrator = Calibrator.constant(int(outcomes.sum()), len(outcomes))

    rng = np.random.default_rng(seed)
    picks = rng.choice(len(held), size=min(ROUTE_TOOL_ROWS // 2, len(held)), replace=False)
    tool_rows = [held[int(pick)] for pick in picks]
    for question, vector in narrated:  # ranked by the scorer that never saw their tool
        told = _example(index, question, vector, Recollection())
        tool_rows.append((told, _ranking(told, fold_scorers[_fold(question.key)])))
    by_route = {
        r: np.array(
            [v for (label, _), v in zip(examples, example_vectors, strict=True) if label is r]
        )
        for r in ROUTES
    }
    rows: list[np.ndarray] = []
    labels: list[Route] = []
    synthetic: list[bool] = []
    for j, (route, text) in enumerate(examples):
        vector = example_vectors[j]
        own = sum(1 for r, _ in examples[:j] if r is route)
        near = [
            nearest(by_route[r], vector, skip=own if r is route else None)
            for r in ROUTES
            if r is not Route.TOOL
        ]
        query = index.prepare(text, vector)
        ranking = rank(index, scorer, query, in_memory(index, query))
        confidence = float(calibrator.probability(ranking.evidence())[0]) if len(ranking) else 0.0
        row = route_row(near, text, query, index, ranking, confidence)
        if route is Route.TOOL and row[_COVERAGE] < MIN_TOOL_COVERAGE:
            continue  # a tool question about tools this fleet does not have
        rows.append(row)
        labels.append(route)
        synthetic.append(False)
    for example, ranking in tool_rows:
        near = [nearest(by_route[r], example.vector) for r in ROUTES if r is not Route.TOOL]
        confidence = float(calibrator.probability(ranking.evidence())[0])
        rows.append(
            route_row(near, example.question.text, example.query, index, ranking, confidence)
        )
        labels.append(Route.TOOL)
        synthetic.append(True)
    routes = RouteModel.fit(by_route, np.array(rows), labels, synthetic)

    recall = float(np.mean([g.correct.any() for g in groups]))
    report = TrainingReport(
        questions=len(training),
        tools=len(index),
        pool_recall=recall,
        out_of_fold_top1=float(np.mean(correct)) if correct else 0.0,
        seconds=0.0,
    )
    return TriageModel(scorer, calibrator, routes, "", report)


def _ranking(example: _Example, scorer: LinearScorer) -> Ranking:
    """The ranking ``scorer`` gives a prepared training question (features reused)."""
    matrix = example.group.features
    if len(matrix) == 0:
        empty = np.zeros(0)
        return Ranking(example.positions, empty, empty, matrix)
    logits = scorer.logits(matrix)
    order = np.argsort(-logits, kind="stable")
    exp = np.exp(logits[order] - logits[order[0]])
    return Ranking(example.positions[order], logits[order], exp / exp.sum(), matrix[order])
