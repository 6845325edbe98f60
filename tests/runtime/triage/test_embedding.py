"""The local embedding model: shape, normalisation, batching, and agreement with the
fp32 reference model (cosines below were computed with an fp32 numpy forward pass of
all-MiniLM-L6-v2 from its safetensors weights; see docs/triage.md)."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.triage.embedding import MiniLMEmbedder

# (text a, text b, cosine with the fp32 reference model)
REFERENCE_PAIRS = [
    (
        "show the dhcp leases on the firewall",
        "List current DHCPv4 leases from the Kea DHCP server.",
        0.6729,
    ),
    ("restart the virtual machine 104", "Reset (restart) a virtual machine.", 0.7912),
    (
        "which pods are crashing in the media namespace",
        "Create a snapshot of a VM or container.",
        0.1573,
    ),
    ("A man is playing a guitar.", "The new movie is awful.", -0.0012),
]


def test_texts_become_unit_vectors_of_384_dimensions(minilm: MiniLMEmbedder) -> None:
    vectors = minilm.embed_sync(["list the pods", "reboot node w1", ""])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize(("a", "b", "reference"), REFERENCE_PAIRS)
def test_int8_model_agrees_with_the_fp32_reference(
    minilm: MiniLMEmbedder, a: str, b: str, reference: float
) -> None:
    va, vb = minilm.embed_sync([a, b])
    assert float(va @ vb) == pytest.approx(reference, abs=0.01)


def test_a_batch_embeds_like_one_text_at_a_time(minilm: MiniLMEmbedder) -> None:
    texts = ["a", "a much longer text about dhcp leases on the edge firewall of the lab", "b c"]
    batched = minilm.embed_sync(texts)
    single = np.stack([minilm.embed_sync([t])[0] for t in texts])
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_texts_longer_than_the_model_window_are_truncated_not_rejected(
    minilm: MiniLMEmbedder,
) -> None:
    vector = minilm.embed_sync(["word " * 2000])
    assert vector.shape == (1, 384)


def test_no_texts_give_an_empty_matrix(minilm: MiniLMEmbedder) -> None:
    assert minilm.embed_sync([]).shape == (0, 384)


async def test_embed_runs_off_the_event_loop_with_the_same_result(minilm: MiniLMEmbedder) -> None:
    awaited = await minilm.embed(["list the pods"])
    np.testing.assert_allclose(awaited, minilm.embed_sync(["list the pods"]), atol=1e-6)


def test_the_model_loads_once_per_embedder() -> None:
    embedder = MiniLMEmbedder()
    embedder.load()
    session = embedder._session
    embedder.embed_sync(["x"])
    embedder.load()
    assert embedder._session is session
