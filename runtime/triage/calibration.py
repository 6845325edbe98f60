"""Turning the scorer's output into a probability that the first tool is right.

The scorer's softmax says how it splits belief among candidates, not how often it is
right: a model trained on easy synthetic questions is over-sure. A small logistic model
(Platt scaling) over the top candidate's probability, its lead over the second and its
keyword and embedding evidence maps that to the observed rate of being right, fitted on
synthetic questions of tools the scorer was *not* trained on (folds split by tool), so it
reflects questions about tools the model has not seen phrased before.

Also here: the measures the eval reports — expected calibration error and precision at a
coverage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CALIBRATION_FEATURES", "Calibrator", "expected_calibration_error", "logistic"]

#: What the calibrator reads about a ranking (see ``ranking_evidence``).
CALIBRATION_FEATURES = ("top_probability", "lead", "top_keywords", "top_embedding")


def logistic(
    features: np.ndarray,
    outcomes: np.ndarray,
    *,
    l2: float = 1e-2,
    epochs: int = 500,
    rate: float = 0.05,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Fit a binary logistic regression (Adam, L2); returns (coefficients, intercept)."""
    n, width = features.shape
    sample = np.ones(n) if weights is None else weights
    sample = sample / sample.sum()
    params = np.zeros(width + 1)
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    design = np.hstack([features, np.ones((n, 1))])
    for step in range(1, epochs + 1):
        p = 1 / (1 + np.exp(-(design @ params)))
        grad = design.T @ ((p - outcomes) * sample)
        grad[:-1] += l2 * params[:-1]
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        params -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return params[:-1], float(params[-1])


@dataclass(frozen=True)
class Calibrator:
    """P(the first candidate is right) from the ranking's evidence."""

    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    intercept: float

    def probability(self, evidence: np.ndarray) -> np.ndarray:
        """One probability per row of evidence (columns: CALIBRATION_FEATURES)."""
        z = ((np.atleast_2d(evidence) - self.mean) / self.scale) @ self.coefficients
        return 1 / (1 + np.exp(-(z + self.intercept)))

    @classmethod
    def fit(cls, evidence: np.ndarray, correct: np.ndarray) -> Calibrator:
        """Fit on rows of evidence and whether the first candidate was right.

        Raises:
            ValueError: fewer than two outcomes of each kind (nothing to calibrate on).
        """
        if correct.sum() < 2 or (~correct).sum() < 2:
            raise ValueError("calibration needs both right and wrong first candidates")
        mean = evidence.mean(axis=0)
        scale = evidence.std(axis=0)
        scale[scale < 1e-6] = 1.0
        coefficients, intercept = logistic((evidence - mean) / scale, correct.astype(float))
        return cls(mean, scale, coefficients, intercept)

    @classmethod
    def constant(cls, right: int, total: int) -> Calibrator:
        """When outcomes do not vary (a tiny fleet): the smoothed hit rate, whatever the
        evidence — (right + 1) / (total + 2), never certainty from a handful of questions."""
        rate = (right + 1) / (total + 2)
        width = len(CALIBRATION_FEATURES)
        return cls(
            np.zeros(width), np.ones(width), np.zeros(width), float(np.log(rate / (1 - rate)))
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coefficients": self.coefficients.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        return cls(
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coefficients"], dtype=np.float64),
            float(data["intercept"]),
        )


def expected_calibration_error(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """Mean |confidence - accuracy| over equal-width confidence bins, weighted by size."""
    conf = np.asarray(confidence, dtype=np.float64)
    right = np.asarray(correct, dtype=np.float64)
    if len(conf) == 0:
        return 0.0
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(conf[inside].mean() - right[inside].mean())
    return float(total / len(conf))
