"""Figures for the data layer on this machine: what each hot-path store call costs.

Run: ``python bench/db.py [--vectors 5000]``. Starts its own embedded PostgreSQL in a
temporary directory (durable settings, as in production's local mode), prints a table,
removes everything after. Numbers are wall-clock on a shared machine: compare runs, not
single digits.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np

from runtime.db import Database, EmbeddedPostgres
from runtime.store import AuditWriter, QueryHistory, RateLimiter, TokenStore

DIM = 384


def _row(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1e3
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3
    return f"{label:<44} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms   (n={len(ordered)})"


async def _timed(n: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        await call(i)
        samples.append(time.perf_counter() - started)
    return samples


async def main(vectors: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="mcpfleet-bench-db-"))
    try:
        started = time.perf_counter()
        server = EmbeddedPostgres(root)
        server.start()
        print(f"{'embedded server: initdb + start':<44} {time.perf_counter() - started:8.2f} s")
        server.stop()
        started = time.perf_counter()
        server.start()
        restart = time.perf_counter() - started
        print(f"{'embedded server: start existing cluster':<44} {restart:8.2f} s")
        started = time.perf_counter()
        db = await Database.open(server.url(), embedding_dim=DIM, max_size=40)
        print(f"{'migrate fresh database + open pool':<44} {time.perf_counter() - started:8.2f} s")
        try:
            await _stores(db, root, vectors)
        finally:
            await db.close()
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def _stores(db: Database, root: Path, vectors: int) -> None:
    tokens = TokenStore(db, cache_ttl=3600)
    issued = await tokens.create("bench")
    print(_row("token verify, cached", await _timed(5000, lambda _: tokens.verify(issued.token))))
    cold = TokenStore(db, cache_ttl=0)
    uncached = await _timed(500, lambda _: cold.verify(issued.token))
    print(_row("token verify, database round trip", uncached))

    exact = RateLimiter(db, limit=10**9, window=60, max_lease=1)
    print(_row("rate limit hit, a round trip each", await _timed(1000, lambda _: exact.hit("a"))))
    limiter = RateLimiter(db, limit=10**9, window=60)
    leased = await _timed(1000, lambda _: limiter.hit("bench"))
    print(_row("rate limit hit, leases of 10 (default)", leased))

    async def client(name: str) -> None:
        for _ in range(100):
            decision = await limiter.hit(name)
            assert decision.allowed and not decision.degraded

    started = time.perf_counter()
    await asyncio.gather(*(client(f"client-{i}") for i in range(32)))
    rate = 3200 / (time.perf_counter() - started)
    print(f"{'rate limit hits, 32 clients concurrently':<44} {rate:8.0f} hits/s")

    audit = AuditWriter(db, spill_dir=root / "spill")
    await audit.start()
    n = 10_000  # one full queue: recorded back to back, then drained by the writer
    started = time.perf_counter()
    for i in range(n):
        audit.record(
            client="c",
            server="s",
            tool="echo",
            status="ok",
            latency_ms=1.0,
            arguments={"message": str(i)},
        )
    per_call = (time.perf_counter() - started) / n * 1e6
    await audit.flush()
    total = time.perf_counter() - started
    assert audit.spilled == 0
    print(f"{'audit record() in the caller':<44} {per_call:8.2f} us/call")
    print(f"{'audit records written (batched)':<44} {n / total:8.0f} records/s")
    await audit.aclose()

    rng = np.random.default_rng(1)
    data = rng.standard_normal((vectors, DIM)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    started = time.perf_counter()
    async with db.connection() as conn:
        cur = conn.cursor()
        statement = "COPY query_history (query, route, answer, embedding) FROM STDIN"
        async with cur.copy(statement) as copy:
            for i, vector in enumerate(data):
                answer = "an answer" if i % 10 == 0 else None  # 10 % answered
                text = "[" + ",".join(map(str, vector)) + "]"
                await copy.write_row((f"q{i}", "direct", answer, text))
    label = f"load {vectors} vectors (COPY, HNSW maintained)"
    print(f"{label:<44} {time.perf_counter() - started:8.2f} s")
    history = QueryHistory(db)
    queries = rng.standard_normal((200, DIM)).astype(np.float32)
    plain = await _timed(200, lambda i: history.nearest(queries[i], k=5))
    print(_row("k-NN k=5 (HNSW, cosine)", plain))
    answered = await _timed(200, lambda i: history.nearest(queries[i], k=5, answered_only=True))
    print(_row("k-NN k=5, 10 % answered (iterative scan)", answered))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vectors", type=int, default=5_000)
    asyncio.run(main(parser.parse_args().vectors))
