"""BM25F keyword scoring over tool documents, in memory.

Exact words matter where embeddings blur: "kea" vs "dnsmasq", "etcd snapshot" vs "VM
snapshot". Each document field has its own weight (a word in the tool's name counts more
than one in a parameter description) and its own length normalisation (BM25F).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from runtime.triage.terms import Term, tokens

__all__ = ["FIELD_WEIGHTS", "LexicalIndex"]

#: How much a term found in each field counts, relative to the description.
FIELD_WEIGHTS: Mapping[str, float] = {
    "name": 2.0,
    "summary": 1.5,
    "description": 1.0,
    "parameters": 0.8,  # parameter names, descriptions and enum values ("extension", "daily")
}


@dataclass(frozen=True)
class _Posting:
    doc: int
    tf: float  # length-normalised, field-weighted term frequency


class LexicalIndex:
    """An inverted index of field-weighted term frequencies; scores a query against all docs."""

    def __init__(
        self,
        fields: Sequence[Mapping[str, str]],
        stopwords: frozenset[str] = frozenset(),
        weights: Mapping[str, float] = FIELD_WEIGHTS,
        k1: float = 1.2,
        b: float = 0.6,
    ) -> None:
        self.size = len(fields)
        self.k1 = k1
        per_field: dict[str, list[Counter[str]]] = {
            name: [Counter(tokens(doc.get(name, ""), stopwords)) for doc in fields]
            for name in weights
        }
        averages = {
            name: max(1.0, sum(sum(c.values()) for c in counts) / max(1, len(counts)))
            for name, counts in per_field.items()
        }
        combined: list[dict[str, float]] = [{} for _ in fields]
        for name, counts in per_field.items():
            weight = weights[name]
            for doc, counter in enumerate(counts):
                length = sum(counter.values())
                norm = 1 - b + b * length / averages[name]
                for term, tf in counter.items():
                    combined[doc][term] = combined[doc].get(term, 0.0) + weight * tf / norm
        postings: dict[str, list[_Posting]] = {}
        for doc, terms in enumerate(combined):
            for term, weighted in terms.items():
                postings.setdefault(term, []).append(_Posting(doc, weighted))
        self._idf = {
            term: math.log(1 + (self.size - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in postings.items()
        }
        # Per term: the documents holding it and their saturated term frequency, as arrays,
        # so scoring a query is a few vector additions rather than a loop over postings.
        self._docs = {
            t: np.array([p.doc for p in ps], dtype=np.int64) for t, ps in postings.items()
        }
        self._gain = {
            t: np.array([p.tf * (k1 + 1) / (p.tf + k1) for p in ps], dtype=np.float32)
            for t, ps in postings.items()
        }

    def __contains__(self, term: object) -> bool:
        return term in self._idf

    @property
    def max_idf(self) -> float:
        """The IDF of a term found in one document: the rarest a term can be here."""
        return math.log(1 + (self.size - 0.5) / 1.5)

    def idf(self, term: str) -> float:
        return self._idf.get(term, 0.0)

    def scores(self, query: Sequence[Term]) -> np.ndarray:
        """BM25F score of every document for the weighted query terms (0 where none match)."""
        out = np.zeros(self.size, dtype=np.float32)
        for term in query:
            docs = self._docs.get(term.text)
            if docs is None:
                continue
            out[docs] += self._idf[term.text] * term.weight * self._gain[term.text]
        return out
