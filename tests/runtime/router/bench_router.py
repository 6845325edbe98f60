"""Router overhead per call (not a test; pytest does not collect it).

Run: ``python -m tests.runtime.router.bench_router [N]`` from the repository root.
Times N sequential calls of the anthropic SDK alone and of ``ModelRouter.complete`` (policy,
budget, one ``model_usage`` row, metrics) against the loopback fake Anthropic server, on
an embedded PostgreSQL in a temporary directory, and prints p50/p95 in milliseconds.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2
from prometheus_client import CollectorRegistry

from runtime.db import Database, EmbeddedPostgres
from runtime.router import RouterSettings, open_model_router
from runtime.router.providers import AnthropicProvider
from tests.runtime.router.fakes import (
    ANTHROPIC_KEY,
    GOOGLE_KEY,
    Fakes,
    Script,
    anthropic_app,
    google_app,
    models_spec,
    ollama_app,
    serve,
)


async def timed(n: int, call: Callable[[], Awaitable[object]], script: Script) -> str:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
        script.requests.clear()
    samples.sort()
    p50, p95 = samples[len(samples) // 2], samples[int(0.95 * (len(samples) - 1))]
    return f"p50 {p50:.2f} ms  p95 {p95:.2f} ms"


async def main(n: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="mcpfleet-bench-"))
    pg = EmbeddedPostgres(data_dir, database="bench")
    pg.start()
    scripts = Script(), Script(), Script()
    try:
        async with (
            serve(anthropic_app(scripts[0]), scripts[0]) as anthropic,
            serve(google_app(scripts[1]), scripts[1]) as google,
            serve(ollama_app(scripts[2]), scripts[2]) as ollama,
        ):
            fakes = Fakes(anthropic, google, ollama)
            async with httpx2.AsyncClient() as http:
                direct = AnthropicProvider(
                    "anthropic",
                    api_key=ANTHROPIC_KEY,
                    timeout=5,
                    base_url=anthropic.url,
                    http_client=http,
                )
                figure = await timed(
                    n,
                    lambda: direct.generate("claude-sonnet-4-6", "hi", system=None, max_tokens=8),
                    scripts[0],
                )
                print(f"anthropic SDK alone                  {figure}")
            db = await Database.open(pg.url(), embedding_dim=384)
            keys = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "GEMINI_API_KEY": GOOGLE_KEY}
            for cache in (5.0, 0.0):
                settings = RouterSettings(timeout=5, budget_cache_seconds=cache)
                async with open_model_router(
                    models_spec(fakes), db, CollectorRegistry(), settings=settings, env=keys
                ) as router:
                    figure = await timed(
                        n,
                        lambda: router.complete("hi", task_type="reasoning", max_tokens=8),
                        scripts[0],
                    )
                print(f"router.complete, budget cache {cache:g} s  {figure}")
            await db.close()
    finally:
        pg.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
