"""The learned scorer over the real eval fleet (680 tools) and the real local model.

Trained from the tool schemas alone (``eval_triage``); measured on the development set
written for this project (``eval/dev/c``), never on the held-out sets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runtime.triage.candidates import in_memory
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.engine import Triage
from runtime.triage.evaluation import load_cases
from runtime.triage.features import FEATURES
from runtime.triage.memory import Recollection
from runtime.triage.ranking import rank
from runtime.triage.scorer import LinearScorer
from runtime.triage.training import PER_TOOL

#: Building the eval fleet's index and training its model takes about a minute on one
#: quiet core, several on a loaded one: the session fixture gets room.
pytestmark = pytest.mark.timeout(1200)


def _top1(triage: Triage, scorer: LinearScorer, minilm: MiniLMEmbedder, cases: list) -> float:
    vectors = minilm.embed_sync([c.query for c in cases])
    hits = 0
    for case, vector in zip(cases, vectors, strict=True):
        query = triage.index.prepare(case.query, vector)
        ranking = rank(triage.index, scorer, query, in_memory(triage.index, query))
        hits += triage.index.keys[int(ranking.positions[0])] in case.accepted
    return hits / len(cases)


def _only(feature: str, like: LinearScorer) -> LinearScorer:
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index(feature)] = 1.0
    return LinearScorer(like.names, like.mean, like.scale, weights)


async def test_the_learned_scorer_beats_the_embedding_alone_by_a_wide_margin(
    eval_triage: Triage, minilm: MiniLMEmbedder, eval_dir: Path
) -> None:
    cases = [c for c in load_cases(eval_dir / "dev" / "c" / "dev-c.jsonl") if c.route == "tool"]
    learned = _top1(eval_triage, eval_triage.model.scorer, minilm, cases)
    embedding = _top1(eval_triage, _only("embedding", eval_triage.model.scorer), minilm, cases)
    keywords = _top1(eval_triage, _only("keywords", eval_triage.model.scorer), minilm, cases)
    assert learned >= embedding + 0.15, (learned, embedding)
    assert learned >= keywords + 0.1, (learned, keywords)


def test_training_saw_every_tool_and_ranks_unseen_tools_far_above_chance(
    eval_triage: Triage,
) -> None:
    report = eval_triage.model.report
    assert report.tools == 680
    assert report.questions >= PER_TOOL * 680 * 0.9
    assert report.pool_recall >= 0.97
    # A scorer trained on one half of the tools ranks the other half's questions.
    assert report.out_of_fold_top1 >= 0.6


def test_the_trained_model_is_plain_data_that_scores_the_same(eval_triage: Triage) -> None:
    model = eval_triage.model
    again = type(model).from_dict(model.to_dict())
    rows = np.random.default_rng(0).normal(size=(5, len(FEATURES)))
    assert np.allclose(again.scorer.logits(rows), model.scorer.logits(rows))
    evidence = np.array([0.8, 2.0, 0.5, 0.6])
    assert again.calibrator.probability(evidence) == pytest.approx(
        model.calibrator.probability(evidence)
    )
    assert again.fingerprint == model.fingerprint


def test_query_language_tools_are_always_candidates(
    eval_triage: Triage, minilm: MiniLMEmbedder
) -> None:
    """pgvector's nearest 64 may miss a terse executor; the candidates always hold them."""
    index = eval_triage.index
    keys = set(index.open_ended_keys)
    assert {
        "prometheus/execute_query",
        "prometheus/execute_range_query",
        "postgres/execute_sql",
        "grafana/query_loki_logs",
        "grafana/query_prometheus",
    } <= keys
    assert len(keys) < 40  # a handful per server, not the fleet
    text = "how many pods restarted today"
    query = index.prepare(text, minilm.embed_sync([text])[0])
    found = {index.keys[int(i)] for i in in_memory(index, query).positions}
    assert keys <= found


def test_a_typo_of_a_fleet_word_also_searches_the_word(
    eval_triage: Triage, minilm: MiniLMEmbedder
) -> None:
    text = "recent deploymnets in the media namespace"
    terms = {
        t.text: t.weight
        for t in eval_triage.index.prepare(text, minilm.embed_sync([text])[0]).terms
    }
    assert terms["deploymnet"] == 1.0
    assert 0 < terms["deployment"] < 1


def test_a_named_server_is_found_standalone_not_inside_identifiers(
    eval_triage: Triage, minilm: MiniLMEmbedder
) -> None:
    index = eval_triage.index
    text = "find code that calls talos_machine_configuration_apply on GitHub"
    query = index.prepare(text, minilm.embed_sync([text])[0])
    named = {
        s.name for s, hit in zip(index.servers, index.prior.mentioned(query), strict=True) if hit
    }
    assert named == {"github"}


def test_a_question_asked_again_follows_the_tool_confirmed_for_it(
    eval_triage: Triage, minilm: MiniLMEmbedder
) -> None:
    """Memory outranks the fleet's default: the operator's own confirmed choice wins."""
    asked, again = "how much space is left on the nas share", "how much space is left on the nas"
    vector, vector_again = minilm.embed_sync([asked, again])
    default = eval_triage.decide_vector(again, vector_again).candidates[0].key
    chosen = "proxmox-plus/get_storage"
    assert default != chosen
    memory = Recollection()
    memory.remember(vector, chosen)
    remembered = memory.recall_sync(vector_again)
    decided = eval_triage.decide_vector(again, vector_again, memory=remembered)
    assert decided.candidates[0].key == chosen
