"""Which servers a question is about: the "server first" half of retrieval.

A prior per server, not a hard cut, so a wrong guess costs rank rather than the answer:

* keywords (BM25 over the server's description plus its software's profile) mixed with
  the embedding similarity to that text;
* value evidence: each kind of value the query names (PromQL, a table, ``owner/repo``, a
  MAC...) adds to the servers whose tools take it, weighted by how few servers do;
* mentions: a query naming the server ("on github") — kept apart, because naming a
  server reorders candidates but is no evidence that a tool is needed at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from runtime.triage.arguments import Kind, accepted_kinds, value_kinds
from runtime.triage.lexical import LexicalIndex
from runtime.triage.profiles import profile_for
from runtime.triage.query import Query
from runtime.triage.terms import words
from runtime.triage.toolset import ServerTools

__all__ = ["ServerPrior", "server_names", "server_text"]


def server_names(server: ServerTools) -> frozenset[str]:
    """What an operator calls the server when naming it: its name and its software's."""
    profile = profile_for(server.name, server.tags)
    names = {server.name.lower(), *(w for w in words(server.name) if len(w) >= 4)}
    if profile:
        names |= {m for m in profile.match if len(m) >= 3}
    return frozenset(names)


def _mention_pattern(names: frozenset[str]) -> re.Pattern[str]:
    """A standalone mention: "on github", not ``talos_machine_configuration_apply``."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w/.-])(?:{alternatives})(?![\w/-]|\.\w)", re.I)


def server_text(server: ServerTools) -> str:
    """What a server is for, in words: its own description plus its software's profile."""
    profile = profile_for(server.name, server.tags)
    parts = [server.name, server.description]
    if profile:
        parts += [profile.description, " ".join(profile.keywords)]
    return ". ".join(p for p in parts if p)


class ServerPrior:
    """Scores every server of the fleet for a query, one array per kind of evidence."""

    def __init__(
        self, servers: Sequence[ServerTools], vectors: np.ndarray, stopwords: frozenset[str]
    ) -> None:
        self.servers = list(servers)
        self.vectors = vectors
        self.lexical = LexicalIndex(
            [{"name": server_text(s)} for s in self.servers], stopwords, weights={"name": 1.0}
        )
        self.kinds = _server_kinds(self.servers)
        self.specificity = _kind_specificity(self.kinds)
        self.mentions = [_mention_pattern(server_names(s)) for s in self.servers]

    def __contains__(self, term: object) -> bool:
        """Whether a server's text uses ``term`` (a server or product name, not a typo)."""
        return term in self.lexical

    def keywords(self, query: Query) -> np.ndarray:
        """Keyword relevance of each server's text, relative to the best server (0 to 1)."""
        lexical = self.lexical.scores(query.terms)
        return lexical / lexical.max() if lexical.max() > 0 else lexical

    def similarity(self, query: Query) -> np.ndarray:
        """Cosine of the query with each server's text."""
        return self.vectors @ query.vector

    def mentioned(self, query: Query) -> np.ndarray:
        """1 for each server the query names ("on github", "in grafana"), else 0."""
        return np.array([bool(p.search(query.text)) for p in self.mentions], dtype=np.float32)

    def value_evidence(self, query: Query) -> np.ndarray:
        """Per server: how specifically its tools take the values the query names.

        A PromQL expression or an ``owner/repo`` points at the one or two servers whose
        tools take such values; an IP address, which half the fleet takes, barely counts.
        """
        kinds = [k for k in value_kinds(query.entities) if k in self.specificity]
        evidence = np.zeros(len(self.servers), dtype=np.float32)
        if not kinds:
            return evidence
        for i, accepted in enumerate(self.kinds):
            evidence[i] = sum(self.specificity[k] for k in kinds if k in accepted)
        return evidence / len(kinds)


def _server_kinds(servers: Sequence[ServerTools]) -> list[frozenset[Kind]]:
    return [
        frozenset().union(*(accepted_kinds(t.input_schema) for t in server.tools))
        for server in servers
    ]


def _kind_specificity(server_kinds: Sequence[frozenset[Kind]]) -> dict[Kind, float]:
    """1 for a kind one server takes, falling to 0 for a kind every server takes."""
    total = len(server_kinds)
    out: dict[Kind, float] = {}
    for kind in Kind:
        if kind in (Kind.QUOTED, Kind.NUMBER):
            continue
        takers = sum(kind in kinds for kinds in server_kinds)
        if takers and total > 1:
            out[kind] = float(np.log(total / takers) / np.log(total))
    return out
