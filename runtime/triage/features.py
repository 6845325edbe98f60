"""What is measured about one (question, tool) pair: the scorer's inputs.

Every feature is computed for all candidate tools of a question at once (numpy, one
row per candidate). Most are relative to the other candidates or to the fleet (a keyword
score as a share of the best tool's), so that one weight means the same for a terse
question and a long one. The scorer learns how much each counts; none is weighed here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from runtime.triage.actions import Action
from runtime.triage.arguments import kind_mask, value_kinds
from runtime.triage.index import FIELDS, ToolIndex
from runtime.triage.memory import MIN_SIMILARITY
from runtime.triage.query import QUERY_LANGUAGES, Query

__all__ = ["FEATURES", "features"]

_LANGUAGES = kind_mask(QUERY_LANGUAGES)

#: Column names of the feature matrix, in order (the scorer stores its weights by name).
FEATURES: tuple[str, ...] = (
    "keywords",  # BM25F over every field, as a share of the fleet's best tool
    "keywords_gap",  # that share minus the best candidate's (0 for the best)
    "word_pairs",  # share of the question's adjacent word pairs found in the tool's name/summary
    *(f"keywords_{field}" for field in FIELDS),  # one field's BM25, same scale
    "embedding",  # cosine of the question with the tool's text
    "embedding_gap",  # minus the best candidate's cosine
    "server_keywords",  # the tool's server: keyword relevance of its description/profile
    "server_embedding",  # cosine of the question with the server's text
    "server_gap",  # the server's keyword+embedding evidence minus the best server's
    "server_values",  # the server's tools take the kinds of value the question names
    "server_named",  # the question names the server ("on github")
    "action",  # +1 the tool does what is asked (read, delete...), -1 something else
    "values_fit",  # share of the question's values some parameter of the tool takes
    "required_given",  # share of the tool's required parameters the question gives a value for
    "name_coverage",  # share of the tool's own name words the question uses
    "name_foreign",  # share of its name made of rare words (a product) the question lacks
    "query_language",  # takes PromQL/LogQL/SQL: its server's evidence (a relevance floor)
    "runs_the_query",  # the question holds a PromQL/LogQL/SQL expression this tool runs
    "read_only_read",  # the tool declares itself read-only and the question wants a read
    "memory",  # how close a past question confirmed for this tool is (0 below MIN_SIMILARITY)
)


def features(
    index: ToolIndex,
    query: Query,
    positions: np.ndarray,
    similarity: np.ndarray,
    memory: Mapping[str, float] | None = None,
) -> np.ndarray:
    """The (candidates x FEATURES) matrix for ``positions`` with their ``similarity``."""
    n = len(positions)
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    column = {name: i for i, name in enumerate(FEATURES)}

    combined = query.keywords if query.keywords is not None else index.lexical.scores(query.terms)
    top = float(combined.max()) if len(combined) else 0.0
    scale = top if top > 0 else 1.0
    keywords = combined[positions] / scale
    out[:, column["keywords"]] = keywords
    out[:, column["keywords_gap"]] = keywords - keywords.max()
    if query.pairs:
        out[:, column["word_pairs"]] = [
            len(query.pairs & index.pairs[int(i)]) / len(query.pairs) for i in positions
        ]
    for field in FIELDS:
        field_scores = index.field_lexical[field].scores(query.terms)[positions]
        out[:, column[f"keywords_{field}"]] = field_scores / scale

    out[:, column["embedding"]] = similarity
    out[:, column["embedding_gap"]] = similarity - similarity.max()

    servers = index.doc_server[positions]
    server_keywords = index.prior.keywords(query)
    server_embedding = index.prior.similarity(query)
    server_values = index.prior.value_evidence(query)
    evidence = (server_keywords + server_embedding) / 2 + server_values
    out[:, column["server_keywords"]] = server_keywords[servers]
    out[:, column["server_embedding"]] = server_embedding[servers]
    out[:, column["server_gap"]] = evidence[servers] - evidence.max()
    out[:, column["server_values"]] = server_values[servers]
    out[:, column["server_named"]] = index.prior.mentioned(query)[servers]
    out[:, column["query_language"]] = index.open_ended[positions] * evidence[servers]

    asked = kind_mask(value_kinds(query.entities))
    accepted = index.accepted_mask[positions]
    if asked:
        bits = [1 << b for b in range(asked.bit_length()) if asked >> b & 1]
        taken = sum(((accepted & bit) != 0).astype(np.float32) for bit in bits)
        out[:, column["values_fit"]] = taken / len(bits)
    out[:, column["runs_the_query"]] = (accepted & (asked & _LANGUAGES)) != 0
    required = index.required_mask[positions]
    listed = (required >= 0).sum(axis=1)
    given = ((required >= 0) & ((required & asked) != 0)).sum(axis=1)
    out[:, column["required_given"]] = np.where(listed > 0, given / np.maximum(listed, 1), 1.0)
    out[:, column["action"]] = index.agreement(query.actions)[positions]
    coverage, foreign = index.name_coverage({t.text for t in query.terms})
    out[:, column["name_coverage"]] = coverage[positions]
    out[:, column["name_foreign"]] = foreign[positions]
    wants_read = Action.READ in query.actions
    out[:, column["read_only_read"]] = index.read_only[positions] & wants_read
    if memory:
        keys = index.keys
        similarity_of = [memory.get(keys[int(i)], 0.0) for i in positions]
        out[:, column["memory"]] = [
            max(0.0, (s - MIN_SIMILARITY) / (1 - MIN_SIMILARITY)) for s in similarity_of
        ]
    return out
