"""Hybrid tool retrieval: which tools of the fleet fit a question, best first.

Each tool's score mixes (docs/triage.md explains each signal, docs/benchmarks/triage.md
what each added):

* keyword relevance (BM25F over name, summary, description, parameters; query expanded
  with the operator lexicon, typos of fleet words corrected),
* embedding similarity (query vs the tool's name with its summary and description),
* its server's prior (see server_prior) — "server first, then tool", as a prior rather
  than a hard cut so a wrong server guess costs rank, not the answer,
* whether the tool does what the query asks (read vs create/delete/...; see actions),
* whether its parameters can take the values the query names (see arguments),
* how much of the tool's own name the query covers, and which rare name words (a
  product like ``clickhouse``) it never mentions, and
* for query-language tools (PromQL, LogQL, SQL), a relevance floor within their domain.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from runtime.triage.actions import agreement, tool_actions
from runtime.triage.arguments import accepted_kinds, fit
from runtime.triage.decision import Candidate
from runtime.triage.documents import ToolDocument, build_document, name_prefix
from runtime.triage.lexical import LexicalIndex
from runtime.triage.query import QUERY_LANGUAGES, Query
from runtime.triage.server_prior import ServerPrior
from runtime.triage.spelling import correction
from runtime.triage.terms import Lexicon, Term, lexicon, tokens
from runtime.triage.toolset import ServerTools

__all__ = ["ToolIndex", "Weights", "index_documents", "tool_texts"]

#: Name words too common to say which tool is meant.
_GENERIC_NAME_WORDS = frozenset(
    {"list", "get", "show", "search", "query", "create", "add", "delete", "remove", "update", "set"}
)


@dataclass(frozen=True)
class Weights:
    """How much each signal counts; defaults measured on tests/.../operator-queries.jsonl."""

    lexical: float = 0.3  # share of keyword vs embedding in the tool's own relevance
    server: float = 0.4  # the server prior
    server_lexical: float = 0.5  # share of keyword vs embedding in the server prior
    mention: float = 0.3  # the query names the server ("on github", "in grafana")
    server_values: float = 0.5  # the server takes the kinds of value the query names
    action: float = 0.07
    open_ended: float = 0.4  # a query-language tool's relevance floor, as a share of its server's
    fit: float = 0.2
    name: float = 0.1
    foreign: float = 0.1  # penalty for rare name words (a product) the query never uses
    rare: float = 0.73  # a name word is rare above this share of the top IDF (≤6 of 700 tools)
    expansion: float = 0.4  # weight of lexicon synonyms relative to the user's own words
    spelling: float = 0.8  # weight of a typo's correction relative to a correct word
    value_words: float = 0.3  # weight of words found only inside values (metric names ...)

    @property
    def total(self) -> float:
        return 1 + self.server + self.action + self.fit + self.name


#: How much of a tool's description its second embedded text takes (MiniLM reads ~256
#: tokens; the first few hundred characters say what the tool is for).
DESCRIPTION_CHARS = 400


def tool_texts(document: ToolDocument) -> tuple[str, str]:
    """The two texts embedded per tool; their mean vector is what the index stores.

    The name with the summary, and the name with the description's opening: measured
    against the name alone plus the summary, this lifted top-1 on both our operator
    queries and the dev set (docs/benchmarks/triage.md).
    """
    head = f"{document.server} {document.name_text}"
    summary = f"{head}: {document.summary}" if document.summary else head
    description = document.description[:DESCRIPTION_CHARS]
    return summary, f"{head}: {description}" if description else summary


def index_documents(servers: Sequence[ServerTools]) -> list[ToolDocument]:
    """Every tool's document, in index order (servers in order, then their tools)."""
    out: list[ToolDocument] = []
    for server in servers:
        prefix = name_prefix([t.name for t in server.tools])
        out.extend(build_document(server.name, tool, prefix) for tool in server.tools)
    return out


class ToolIndex:
    """Every tool of the fleet, ready to score; rebuilt whenever a tool list changes.

    Tool vectors are optional: with them the index ranks alone (eval, tests); without them
    the caller passes vector scores from pgvector for the tools it found nearest.
    """

    def __init__(
        self,
        servers: Sequence[ServerTools],
        server_vectors: np.ndarray,
        tool_vectors: np.ndarray | None = None,
        weights: Weights = Weights(),
        words: Lexicon | None = None,
    ) -> None:
        self.weights = weights
        self.words = words or lexicon()
        self.servers = list(servers)
        self.documents = index_documents(self.servers)
        self.schemas: list[Mapping[str, object]] = [
            tool.input_schema for server in self.servers for tool in server.tools
        ]
        self.position = {d.key: i for i, d in enumerate(self.documents)}
        server_position = {s.name: i for i, s in enumerate(self.servers)}
        self.doc_server = np.array(
            [server_position[d.server] for d in self.documents], dtype=np.int64
        )
        self.tool_vectors = tool_vectors
        stop = self.words.stopwords
        self.lexical = LexicalIndex(
            [
                {
                    "name": d.name_text,
                    "summary": d.summary,
                    "description": d.description,
                    "parameters": d.parameters,
                }
                for d in self.documents
            ],
            stop,
        )
        self.prior = ServerPrior(
            self.servers,
            server_vectors,
            stop,
            lexical_share=weights.server_lexical,
            values=weights.server_values,
        )
        self.actions = [tool_actions(d) for d in self.documents]
        self.open_ended = np.array(
            [bool(accepted_kinds(schema) & QUERY_LANGUAGES) for schema in self.schemas], dtype=bool
        )
        #: Tools that take a whole query (PromQL, LogQL, SQL): the relevance floor applies.
        self.open_ended_keys = tuple(
            d.key for d, flag in zip(self.documents, self.open_ended, strict=True) if flag
        )
        self.name_terms = [
            frozenset(tokens(d.name_text)) - _GENERIC_NAME_WORDS for d in self.documents
        ]
        idf = {t: self.lexical.idf(t) for terms in self.name_terms for t in terms}
        rare = weights.rare * self.lexical.max_idf
        self.rare_name_terms = [
            {t: idf[t] for t in terms if idf[t] >= rare} for terms in self.name_terms
        ]
        self.name_weight = [sum(idf[t] for t in terms) or 1.0 for terms in self.name_terms]

    def __len__(self) -> int:
        return len(self.documents)

    def prepare(self, text: str, vector: np.ndarray) -> Query:
        query = Query.prepare(
            text, vector, self.words, self.weights.expansion, self.weights.value_words
        )
        return replace(query, terms=self._spelled(query.terms))

    def _spelled(self, terms: list[Term]) -> list[Term]:
        """The terms plus, for a word the fleet never uses, the one word it is a typo of."""
        known = {t.text for t in terms}
        out = list(terms)
        for term in terms:
            if term.weight < 1 or term.text in self.prior:
                continue
            fixed = correction(term.text, self.lexical)
            if fixed is not None and fixed not in known:
                out.append(Term(fixed, term.weight * self.weights.spelling))
                known.add(fixed)
        return out

    def lexical_top(self, query: Query, k: int) -> list[int]:
        """Positions of the ``k`` best tools by keywords alone (candidates for pgvector)."""
        scores = self.lexical.scores(query.terms)
        top = np.argsort(-scores)[:k]
        return [int(i) for i in top if scores[i] > 0]

    def rank(
        self,
        query: Query,
        k: int = 10,
        vector_scores: Mapping[str, float] | None = None,
        allowed: Collection[str] | None = None,
    ) -> list[Candidate]:
        """The ``k`` best tools with scores in [0, 1].

        ``vector_scores`` (tool key → similarity) limits ranking to those tools, as when
        pgvector returned the nearest; without it every tool is scored from the in-memory
        vectors. ``allowed`` (tool keys) drops what the caller may not use.
        """
        w = self.weights
        if vector_scores is None:
            if self.tool_vectors is None:
                raise ValueError("this index holds no tool vectors: pass vector_scores")
            positions = np.arange(len(self.documents))
            similarity = self.tool_vectors @ query.vector
        else:
            positions = np.array(
                sorted(self.position[key] for key in vector_scores if key in self.position),
                dtype=np.int64,
            )
            similarity = np.array(
                [vector_scores[self.documents[i].key] for i in positions], dtype=np.float32
            )
        if allowed is not None:
            keep = np.array([self.documents[i].key in allowed for i in positions], dtype=bool)
            positions, similarity = positions[keep], similarity[keep]
        if len(positions) == 0:
            return []
        lexical = self.lexical.scores(query.terms)
        top_lexical = float(lexical.max()) if len(lexical) else 0.0
        lexical = lexical[positions] / top_lexical if top_lexical > 0 else lexical[positions]
        relevance = w.lexical * lexical + (1 - w.lexical) * similarity
        prior = self.prior.scores(query)[self.doc_server[positions]]
        # A tool that takes a query language (PromQL, SQL...) answers anything in its
        # server's domain, however short its own description: its relevance has a floor.
        floor = w.open_ended * prior
        relevance = np.where(self.open_ended[positions], np.maximum(relevance, floor), relevance)
        score = relevance + w.server * prior
        terms = {t.text for t in query.terms}
        extras = np.array(
            [
                w.action * agreement(query.actions, self.actions[i])
                + w.fit * fit(query.entities, self.schemas[i])
                + w.name * _coverage(self.name_terms[i], terms)
                - w.foreign * self._foreign(i, terms)
                for i in positions
            ],
            dtype=np.float32,
        )
        score = (score + extras) / w.total
        # Naming a server reorders the candidates but is no evidence that the question needs
        # a tool at all ("write a script that exports adguard's query log"), so the reported
        # score, which the route decision reads, leaves it out.
        mentioned = self.prior.mentioned(query)[self.doc_server[positions]]
        order = np.argsort(-(score + w.mention * w.server * mentioned / w.total))[:k]
        return [
            Candidate(
                server=self.documents[positions[j]].server,
                tool=self.documents[positions[j]].tool,
                score=float(np.clip(score[j], 0.0, 1.0)),
                description=self.documents[positions[j]].summary,
            )
            for j in order
        ]

    def _foreign(self, position: int, query_terms: set[str]) -> float:
        """Share of the tool's name made of rare words the query never uses.

        ``describe_clickhouse_table`` or ``kiali_get_pod_performance`` carry a product in
        their name; a question that does not name it is rarely about it, however many
        other words it shares with the tool.
        """
        rare = self.rare_name_terms[position]
        if not rare:
            return 0.0
        missing = sum(v for t, v in rare.items() if t not in query_terms)
        return missing / self.name_weight[position]


def _coverage(name_terms: frozenset[str], query_terms: set[str]) -> float:
    return len(name_terms & query_terms) / len(name_terms) if name_terms else 0.0
