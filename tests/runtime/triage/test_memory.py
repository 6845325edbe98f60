"""Memory of what worked: confirmed question → tool pairs in real PostgreSQL + pgvector."""

from __future__ import annotations

import pytest

from runtime.db import Database
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.memory import MIN_SIMILARITY, ConfirmedQuestions, Recollection


async def test_a_confirmed_question_is_recalled_for_a_paraphrase_only(
    db: Database, minilm: MiniLMEmbedder
) -> None:
    memory = ConfirmedQuestions(db)
    question = "which clients have a dhcp lease on the lan"
    await memory.remember(
        question,
        minilm.embed_sync([question])[0],
        "router",
        "list_dhcp_leases",
        client="ops",
        source="query",
    )
    paraphrase, unrelated = minilm.embed_sync(
        ["who has a dhcp lease on the lan right now", "reboot the nas"]
    )
    recalled = await memory.recall(paraphrase)
    assert set(recalled) == {"router/list_dhcp_leases"}
    assert MIN_SIMILARITY <= recalled["router/list_dhcp_leases"] <= 1.0
    assert await memory.recall(unrelated) == {}
    assert await memory.recall(paraphrase, servers={"dnsfilter"}) == {}  # caller's scopes


async def test_the_in_process_recollection_answers_like_the_store(
    db: Database, minilm: MiniLMEmbedder
) -> None:
    texts = ["restart the traefik pod", "list dhcp leases", "block ads.example.com"]
    keys = ["k8s/pods_delete", "router/list_dhcp_leases", "dns/block"]
    vectors = minilm.embed_sync(texts)
    store, recollection = ConfirmedQuestions(db), Recollection()
    for text, key, vector in zip(texts, keys, vectors, strict=True):
        server, tool = key.split("/")
        await store.remember(text, vector, server, tool, client=None, source="api")
        recollection.remember(vector, key)
    probe = minilm.embed_sync(["bounce the traefik pod"])[0]
    stored = await store.recall(probe)
    assert stored == pytest.approx(recollection.recall_sync(probe), abs=1e-4)
    assert next(iter(stored)) == "k8s/pods_delete"
