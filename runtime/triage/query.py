"""A question prepared once for every scoring step: terms, actions, values, vector.

Words found only inside values (a metric name, a path, ``owner/repo``) or long
snake_case identifiers count less than the operator's own words: they are data, not a
description of the tool wanted — the value's *kind* says which tool (see server_prior).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from runtime.triage.actions import Action, query_actions
from runtime.triage.arguments import Entity, Kind, extract
from runtime.triage.terms import Lexicon, Term, tokens

__all__ = ["OPAQUE", "QUERY_LANGUAGES", "Query", "word_pairs"]


@dataclass(frozen=True)
class Query:
    """A question prepared once for every scoring step."""

    text: str
    terms: list[Term]
    actions: set[Action]
    entities: list[Entity]
    vector: np.ndarray
    pairs: frozenset[tuple[str, str]] = frozenset()  # adjacent content words, stemmed
    keywords: np.ndarray | None = None  # BM25F of every tool of the index that prepared it

    @classmethod
    def prepare(
        cls, text: str, vector: np.ndarray, words: Lexicon, expansion: float, value_words: float
    ) -> Query:
        entities = extract(text)
        terms = _terms(text, entities, words, expansion, value_words)
        return cls(
            text=text,
            terms=terms,
            actions=query_actions(words.translate(text)),
            entities=entities,
            vector=vector,
            pairs=word_pairs(words.translate(text), words.stopwords),
        )


#: Values whose words are data, not a description of the tool wanted: the words of
#: ``kube_pod_container_status_restarts_total`` or ``jdoe/homelab`` say little about *which
#: tool* (the value's kind does that).
OPAQUE = frozenset(
    {
        Kind.PROMQL,
        Kind.LOGQL,
        Kind.SQL,
        Kind.TABLE,
        Kind.REPO,
        Kind.PATH,
        Kind.HOST,
        Kind.URL,
        Kind.EMAIL,
        Kind.QUOTED,
        Kind.ID,
    }
)
#: Values that are a whole query: a tool taking one can answer anything in its domain.
QUERY_LANGUAGES = frozenset({Kind.PROMQL, Kind.LOGQL, Kind.SQL})


def word_pairs(text: str, stopwords: frozenset[str]) -> frozenset[tuple[str, str]]:
    """Adjacent content words, stemmed: "event type" tells ``get_event_types`` from
    ``list_events`` where single words cannot."""
    stems = tokens(text, stopwords)
    return frozenset(pairwise(stems))


_IDENTIFIER = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+){2,}\b", re.I)


def _terms(
    text: str, entities: list[Entity], words: Lexicon, expansion: float, value_words: float
) -> list[Term]:
    """The query's terms, with words found only inside values or identifiers counted less."""
    values = [str(e.value) for e in entities if e.kind in OPAQUE]
    rest = text
    for value in sorted(values, key=len, reverse=True):
        rest = rest.replace(value, " ")
    values += _IDENTIFIER.findall(rest)
    rest = _IDENTIFIER.sub(" ", rest)
    weights = {t.text: t.weight for t in words.expand(rest, expansion)}
    for term in words.expand(" ".join(values), expansion):
        weights.setdefault(term.text, term.weight * value_words)
    return [Term(t, w) for t, w in weights.items()]
