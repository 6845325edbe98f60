"""Candidates → features → scores: the ranked tools for one question, with their evidence.

The same function ranks for the service, the eval command and training, so what the
scorer and calibrator learn from is exactly what they are later asked about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from runtime.triage.calibration import CALIBRATION_FEATURES
from runtime.triage.candidates import Candidates
from runtime.triage.features import FEATURES, features
from runtime.triage.index import ToolIndex
from runtime.triage.query import Query
from runtime.triage.scorer import LinearScorer

__all__ = ["Ranking", "rank", "tool_coverage"]

_KEYWORDS = FEATURES.index("keywords")
_EMBEDDING = FEATURES.index("embedding")


@dataclass(frozen=True)
class Ranking:
    """Candidates best first: index positions, logits, softmax probabilities, features."""

    positions: np.ndarray
    logits: np.ndarray
    probabilities: np.ndarray
    features: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)

    def evidence(self) -> np.ndarray:
        """The calibrator's inputs (CALIBRATION_FEATURES) for the first candidate."""
        if len(self) == 0:
            return np.zeros(len(CALIBRATION_FEATURES))
        lead = self.logits[0] - self.logits[1] if len(self) > 1 else 10.0
        return np.array(
            [
                self.probabilities[0],
                min(lead, 10.0),
                self.features[0, _KEYWORDS],
                self.features[0, _EMBEDDING],
            ]
        )


def rank(
    index: ToolIndex,
    scorer: LinearScorer,
    query: Query,
    candidates: Candidates,
    memory: Mapping[str, float] | None = None,
) -> Ranking:
    """Score every candidate and order them best first."""
    matrix = features(index, query, candidates.positions, candidates.similarity, memory)
    if len(matrix) == 0:
        empty = np.zeros(0)
        return Ranking(candidates.positions, empty, empty, matrix)
    logits = scorer.logits(matrix)
    order = np.argsort(-logits, kind="stable")
    exp = np.exp(logits[order] - logits[order[0]])
    return Ranking(
        positions=candidates.positions[order],
        logits=logits[order],
        probabilities=exp / exp.sum(),
        features=matrix[order],
    )


def tool_coverage(index: ToolIndex, query: Query, position: int) -> float:
    """Share of the question's own words (not expansions) found anywhere in a tool's text."""
    own = [t.text for t in query.terms if t.weight >= 1]
    if not own:
        return 0.0
    vocabulary = index.vocabulary[position]
    return sum(t in vocabulary for t in own) / len(own)
