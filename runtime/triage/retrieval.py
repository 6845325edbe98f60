"""Hybrid tool retrieval: which tools of the fleet fit a question, best first.

Each tool's score mixes, with weights measured on our own operator queries
(docs/triage.md has the figures):

* keyword relevance (BM25F over name, summary, description, parameters; query expanded
  with the operator lexicon),
* embedding similarity (query vs the tool's name and summary),
* its server's relevance (server profile words and description vs the query) — the
  "server first, then tool" step, done as a prior rather than a hard cut so a wrong
  server guess costs rank, not the answer,
* whether the tool does what the query asks (read vs create/delete/...; see actions),
* whether its parameters can take the values the query names (see arguments), and
* how much of the tool's own name the query covers.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from runtime.triage.actions import Action, agreement, query_actions, tool_actions
from runtime.triage.arguments import Entity, Kind, accepted_kinds, extract, fit, value_kinds
from runtime.triage.decision import Candidate
from runtime.triage.documents import ToolDocument, build_document, name_prefix
from runtime.triage.lexical import LexicalIndex
from runtime.triage.profiles import profile_for
from runtime.triage.spelling import correction
from runtime.triage.terms import Lexicon, Term, lexicon, tokens, words
from runtime.triage.toolset import ServerTools

__all__ = ["Query", "ToolIndex", "Weights", "index_documents", "server_text", "tool_texts"]

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


@dataclass(frozen=True)
class Query:
    """A question prepared once for every scoring step."""

    text: str
    terms: list[Term]
    actions: set[Action]
    entities: list[Entity]
    vector: np.ndarray

    @classmethod
    def prepare(
        cls, text: str, vector: np.ndarray, words: Lexicon, expansion: float, value_words: float
    ) -> Query:
        entities = extract(text)
        return cls(
            text=text,
            terms=_terms(text, entities, words, expansion, value_words),
            actions=query_actions(words.translate(text)),
            entities=entities,
            vector=vector,
        )


#: Values whose words are data, not a description of the tool wanted: the words of
#: ``kube_pod_container_status_restarts_total`` or ``jdoe/homelab`` say little about *which
#: tool* (the value's kind does that, see ``_value_evidence``).
_OPAQUE = frozenset(
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
    }
)
#: Values that are a whole query: a tool taking one can answer anything in its domain.
_QUERY_LANGUAGES = frozenset({Kind.PROMQL, Kind.LOGQL, Kind.SQL})
_IDENTIFIER = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+){2,}\b", re.I)


def _terms(
    text: str, entities: list[Entity], words: Lexicon, expansion: float, value_words: float
) -> list[Term]:
    """The query's terms, with words found only inside values or identifiers counted less."""
    values = [str(e.value) for e in entities if e.kind in _OPAQUE]
    rest = text
    for value in sorted(values, key=len, reverse=True):
        rest = rest.replace(value, " ")
    values += _IDENTIFIER.findall(rest)
    rest = _IDENTIFIER.sub(" ", rest)
    weights = {t.text: t.weight for t in words.expand(rest, expansion)}
    for term in words.expand(" ".join(values), expansion):
        weights.setdefault(term.text, term.weight * value_words)
    return [Term(t, w) for t, w in weights.items()]


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
        self.server_vectors = server_vectors
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
        self.server_lexical = LexicalIndex(
            [{"name": server_text(s)} for s in self.servers], stop, weights={"name": 1.0}
        )
        self.server_kinds = _server_kinds(self.servers)
        self.mentions = [_mention_pattern(server_names(s)) for s in self.servers]
        self.kind_specificity = _kind_specificity(self.server_kinds)
        self.actions = [tool_actions(d) for d in self.documents]
        self.open_ended = np.array(
            [bool(accepted_kinds(schema) & _QUERY_LANGUAGES) for schema in self.schemas], dtype=bool
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

    @property
    def open_ended_keys(self) -> list[str]:
        """Tools that take a whole query (PromQL, LogQL, SQL): the rank floor applies to them."""
        return [
            d.key
            for d, open_ended in zip(self.documents, self.open_ended, strict=True)
            if open_ended
        ]

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
            if term.weight < 1 or term.text in self.server_lexical:
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
        prior = self._server_prior(query)[self.doc_server[positions]]
        # A tool that takes a query language (PromQL, SQL...) answers anything in its
        # server's domain, however short its own description: its relevance has a floor.
        floor = w.open_ended * prior
        relevance = np.where(self.open_ended[positions], np.maximum(relevance, floor), relevance)
        score = relevance + w.server * prior
        terms = {t.text for t in query.terms}
        extras = np.array(
            [
                w.action * self._agreement(query, i)
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
        mentioned = self._mentioned(query)[self.doc_server[positions]]
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

    def _agreement(self, query: Query, position: int) -> float:
        """Action agreement; a query-language tool can read or write, so it is never against."""
        found = agreement(query.actions, self.actions[position])
        return found

    def _server_prior(self, query: Query) -> np.ndarray:
        w = self.weights
        lexical = self.server_lexical.scores(query.terms)
        if lexical.max() > 0:
            lexical = lexical / lexical.max()
        similarity = self.server_vectors @ query.vector
        prior = w.server_lexical * lexical + (1 - w.server_lexical) * similarity
        return prior + w.server_values * self._value_evidence(query)

    def _mentioned(self, query: Query) -> np.ndarray:
        """1 for each server the query names ("on github", "in grafana"), else 0."""
        return np.array([bool(p.search(query.text)) for p in self.mentions], dtype=np.float32)

    def _value_evidence(self, query: Query) -> np.ndarray:
        """Per server: how specifically its tools take the values the query names.

        A PromQL expression or an ``owner/repo`` points at the one or two servers whose
        tools take such values; an IP address, which half the fleet takes, barely counts.
        """
        kinds = [k for k in value_kinds(query.entities) if k in self.kind_specificity]
        evidence = np.zeros(len(self.servers), dtype=np.float32)
        if not kinds:
            return evidence
        for i, accepted in enumerate(self.server_kinds):
            evidence[i] = sum(self.kind_specificity[k] for k in kinds if k in accepted)
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


def _coverage(name_terms: frozenset[str], query_terms: set[str]) -> float:
    return len(name_terms & query_terms) / len(name_terms) if name_terms else 0.0
