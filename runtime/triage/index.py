"""Everything triage knows about the fleet's tools, computed once per tool list.

Built whenever a server's tool list changes: each tool's document (name, summary,
description, parameters, annotations), a keyword index per field, the server prior, the
action each tool performs, the kinds of value its parameters take, and (optionally) its
vector. ``features`` reads these for one question at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from runtime.triage.actions import Action, agreement, tool_actions
from runtime.triage.arguments import Kind, accepted_kinds, kind_mask, parameter_kinds
from runtime.triage.documents import ToolDocument, build_document, name_prefix
from runtime.triage.lexical import FIELD_WEIGHTS, LexicalIndex
from runtime.triage.query import QUERY_LANGUAGES, Query, word_pairs
from runtime.triage.server_prior import ServerPrior, server_names
from runtime.triage.spelling import correction
from runtime.triage.terms import Lexicon, Term, lexicon, tokens
from runtime.triage.toolset import ServerTools

__all__ = ["FIELDS", "ToolIndex", "index_documents", "tool_texts"]

#: Name words too common to say which tool is meant.
_GENERIC_NAME_WORDS = frozenset(
    {"list", "get", "show", "search", "query", "create", "add", "delete", "remove", "update", "set"}
)
#: The document fields with a keyword index of their own (each a feature).
FIELDS = tuple(FIELD_WEIGHTS)
#: A name word is "rare" above this share of the highest IDF (a product like ``clickhouse``).
RARE_SHARE = 0.73
#: Weight of lexicon synonyms, typo corrections and words found only inside values,
#: relative to the operator's own words.
EXPANSION, SPELLING, VALUE_WORDS = 0.4, 0.8, 0.3
#: How much of a tool's description its second embedded text takes (MiniLM reads ~256
#: tokens; the first few hundred characters say what the tool is for).
DESCRIPTION_CHARS = 400


def tool_texts(document: ToolDocument) -> tuple[str, str]:
    """The two texts embedded per tool; their mean vector is what the index stores.

    The name with the summary, and the name with the description's opening.
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
        words: Lexicon | None = None,
    ) -> None:
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
        fields = [
            {
                "name": d.name_text,
                "summary": d.summary,
                "description": d.description,
                "parameters": d.parameters,
            }
            for d in self.documents
        ]
        self.lexical = LexicalIndex(fields, stop)
        #: Every term of each tool's text (for how much of a question a tool covers).
        self.vocabulary = [
            frozenset(t for text in doc.values() for t in tokens(text, stop)) for doc in fields
        ]
        self.field_lexical = {
            name: LexicalIndex(fields, stop, weights={name: 1.0}) for name in FIELDS
        }
        self.prior = ServerPrior(self.servers, server_vectors, stop)
        self.server_names = {s.name: sorted(server_names(s)) for s in self.servers}
        self.actions = [tool_actions(d) for d in self.documents]
        #: Declared read-only: the tool's annotation or the catalog's ``readOnlyTools``.
        declared = {f"{s.name}/{t}" for s in self.servers for t in s.read_only_tools}
        self.read_only = np.array(
            [d.read_only is True or d.key in declared for d in self.documents], dtype=bool
        )
        #: Per tool: every kind of value its parameters take, and per required parameter.
        self.accepted = [accepted_kinds(schema) for schema in self.schemas]
        self.required_kinds = [_required_kinds(schema) for schema in self.schemas]
        self.open_ended = np.array(
            [bool(kinds & QUERY_LANGUAGES) for kinds in self.accepted], dtype=bool
        )
        #: Tools that take a whole query (PromQL, LogQL, SQL): always scored.
        self.open_ended_keys = tuple(
            d.key for d, flag in zip(self.documents, self.open_ended, strict=True) if flag
        )
        #: Adjacent word pairs of each tool's name and summary (see ``query.word_pairs``).
        self.pairs = [
            word_pairs(d.name_text, stop) | word_pairs(d.summary, stop) for d in self.documents
        ]
        self.name_terms = [
            frozenset(tokens(d.name_text)) - _GENERIC_NAME_WORDS for d in self.documents
        ]
        idf = {t: self.lexical.idf(t) for terms in self.name_terms for t in terms}
        rare = RARE_SHARE * self.lexical.max_idf
        self.rare_name_terms = [
            {t: idf[t] for t in terms if idf[t] >= rare} for terms in self.name_terms
        ]
        self.name_weight = [sum(idf[t] for t in terms) or 1.0 for terms in self.name_terms]
        self._name_holders: dict[str, list[int]] = {}
        for position, terms in enumerate(self.name_terms):
            for term in terms:
                self._name_holders.setdefault(term, []).append(position)
        self._name_sizes = np.array([len(t) for t in self.name_terms], dtype=np.float32)
        self._rare_totals = np.array(
            [sum(r.values()) for r in self.rare_name_terms], dtype=np.float32
        )
        self._name_weights = np.array(self.name_weight, dtype=np.float32)
        self._agreement: dict[frozenset[Action], np.ndarray] = {}
        #: Kinds of value each tool takes, as bit masks (``kind_mask``), for vector checks.
        self.accepted_mask = np.array([kind_mask(k) for k in self.accepted], dtype=np.int64)
        width = max((len(r) for r in self.required_kinds), default=0)
        self.required_mask = np.full((len(self), max(width, 1)), -1, dtype=np.int64)
        for position, required in enumerate(self.required_kinds):
            for j, kinds in enumerate(required):
                self.required_mask[position, j] = kind_mask(kinds)
        self.keys = [d.key for d in self.documents]

    def __len__(self) -> int:
        return len(self.documents)

    def prepare(self, text: str, vector: np.ndarray) -> Query:
        """The question's terms, actions and values, ready for every feature."""
        query = Query.prepare(text, vector, self.words, EXPANSION, VALUE_WORDS)
        terms = self._spelled(query.terms)
        return replace(query, terms=terms, keywords=self.lexical.scores(terms))

    def agreement(self, actions: set[Action]) -> np.ndarray:
        """Per tool: +1 it does what the question asks, -1 something else (see actions)."""
        key = frozenset(actions)
        if key not in self._agreement:
            self._agreement[key] = np.array(
                [agreement(actions, offered) for offered in self.actions], dtype=np.float32
            )
        return self._agreement[key]

    def name_coverage(self, terms: set[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per tool: share of its name words the question uses, and share of its name made
        of rare words (a product: ``clickhouse``) the question does not use."""
        used = np.zeros(len(self), dtype=np.float32)
        rare_used = np.zeros(len(self), dtype=np.float32)
        for term in terms:
            for position in self._name_holders.get(term, ()):
                used[position] += 1
                rare_used[position] += self.rare_name_terms[position].get(term, 0.0)
        coverage = np.divide(
            used, self._name_sizes, out=np.zeros_like(used), where=self._name_sizes > 0
        )
        foreign = (self._rare_totals - rare_used) / self._name_weights
        return coverage, foreign

    def _spelled(self, terms: list[Term]) -> list[Term]:
        """The terms plus, for a word the fleet never uses, the one word it is a typo of."""
        known = {t.text for t in terms}
        out = list(terms)
        for term in terms:
            if term.weight < 1 or term.text in self.prior:
                continue
            fixed = correction(term.text, self.lexical)
            if fixed is not None and fixed not in known:
                out.append(Term(fixed, term.weight * SPELLING))
                known.add(fixed)
        return out

    def lexical_top(self, query: Query, k: int) -> list[int]:
        """Positions of the ``k`` best tools by keywords alone (candidates for pgvector)."""
        scores = query.keywords if query.keywords is not None else self.lexical.scores(query.terms)
        top = np.argsort(-scores)[:k]
        return [int(i) for i in top if scores[i] > 0]

    def foreign(self, position: int, query_terms: set[str]) -> float:
        """Share of the tool's name made of rare words the query never uses.

        ``describe_clickhouse_table`` or ``kiali_get_pod_performance`` carry a product in
        their name; a question that does not name it is rarely about it.
        """
        rare = self.rare_name_terms[position]
        if not rare:
            return 0.0
        missing = sum(v for t, v in rare.items() if t not in query_terms)
        return missing / self.name_weight[position]


def _required_kinds(schema: Mapping[str, object]) -> tuple[frozenset[Kind], ...]:
    """For each required parameter, the kinds of value it takes (empty: free text)."""
    properties = schema.get("properties")
    required = schema.get("required")
    if not isinstance(properties, Mapping) or not isinstance(required, list):
        return ()
    out = []
    for name in required:
        spec = properties.get(name)
        out.append(parameter_kinds(str(name), spec) if isinstance(spec, Mapping) else frozenset())
    return tuple(out)
