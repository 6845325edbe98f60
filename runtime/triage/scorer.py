"""The learned tool scorer: one weight per feature, fitted to rank the right tool first.

A linear model over standardised features, trained listwise: for each training question
the softmax over its candidates should put its mass on the tool that answers it
(cross-entropy, L2-regularised, full-batch Adam in numpy — a second or two for a fleet of
700 tools). Linear on purpose: every weight can be read and explained, it trains in
seconds at index build, and it cannot memorise tool names the way a larger model would.

The fitted model is plain data (``to_dict``/``from_dict``), stored beside the index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Group", "LinearScorer"]


@dataclass(frozen=True)
class Group:
    """One training question: its candidates' features and which of them are right."""

    features: np.ndarray  # (candidates x features)
    correct: np.ndarray  # bool per candidate; at least one True


@dataclass(frozen=True)
class LinearScorer:
    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    def logits(self, features: np.ndarray) -> np.ndarray:
        """One score per candidate row (higher is better); comparable within a question."""
        return ((features - self.mean) / self.scale) @ self.weights

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """The softmax of the logits: how the model splits its belief among candidates."""
        logits = self.logits(features)
        if len(logits) == 0:
            return logits
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def contributions(self, row: np.ndarray) -> dict[str, float]:
        """Each feature's part of one candidate's logit (for explaining a ranking)."""
        parts = (row - self.mean) / self.scale * self.weights
        return {name: float(v) for name, v in zip(self.names, parts, strict=True)}

    @classmethod
    def fit(
        cls,
        names: Sequence[str],
        groups: Sequence[Group],
        *,
        l2: float = 1e-3,
        epochs: int = 300,
        learning_rate: float = 0.05,
    ) -> LinearScorer:
        """Fit to ``groups``.

        Raises:
            ValueError: no group has a correct candidate.
        """
        usable = [g for g in groups if len(g.features) and g.correct.any()]
        if not usable:
            raise ValueError("no training question has its tool among the candidates")
        width = max(len(g.features) for g in usable)
        features = np.zeros((len(usable), width, len(names)), dtype=np.float32)
        mask = np.zeros((len(usable), width), dtype=bool)
        correct = np.zeros((len(usable), width), dtype=bool)
        for i, g in enumerate(usable):
            features[i, : len(g.features)] = g.features
            mask[i, : len(g.features)] = True
            correct[i, : len(g.features)] = g.correct
        rows = features[mask]
        mean = rows.mean(axis=0)
        scale = rows.std(axis=0)
        scale[scale < 1e-6] = 1.0
        standard = np.where(mask[..., None], (features - mean) / scale, 0.0).astype(np.float32)
        weights = _adam(standard, mask, correct, l2=l2, epochs=epochs, rate=learning_rate)
        return cls(
            tuple(names),
            mean.astype(np.float64),
            scale.astype(np.float64),
            weights.astype(np.float64),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearScorer:
        return cls(
            tuple(data["names"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
        )


def _adam(
    x: np.ndarray, mask: np.ndarray, correct: np.ndarray, *, l2: float, epochs: int, rate: float
) -> np.ndarray:
    """Minimise the listwise cross-entropy (+ L2) over padded groups."""
    groups, _, width = x.shape
    w = np.zeros(width, dtype=x.dtype)
    m = np.zeros(width)
    v = np.zeros(width)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        logits = np.where(mask, np.einsum("gcf,f->gc", x, w), -np.inf)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        right = np.where(correct, p, 0.0)
        q = right / np.maximum(right.sum(axis=1, keepdims=True), 1e-300)
        # einsum, not BLAS: single-threaded, it does not fight a busy machine for cores.
        grad = np.einsum("gc,gcf->f", p - q, x) / groups + l2 * w
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        w -= rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
    return w
