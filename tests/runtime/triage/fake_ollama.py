"""A small HTTP server speaking Ollama's API (/api/tags, /api/chat, /api/embed).

It stands for an Ollama server, which cannot run here; the official ``ollama`` client
talks to it over real HTTP. Answers are scripted per test; every request is kept.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

__all__ = ["FakeOllama", "serve_fake_ollama"]


@dataclass
class FakeOllama:
    url: str = ""
    models: list[str] = field(default_factory=lambda: ["llama3.1:8b", "nomic-embed-text:latest"])
    decision: dict[str, Any] | None = None  # returned when /api/chat asks for a format
    answer: str = "A local answer."
    dimension: int = 768
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def chats(self) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path == "/api/chat"]


def _app(fake: FakeOllama) -> FastAPI:
    app = FastAPI()

    @app.get("/api/tags")
    async def tags() -> dict[str, Any]:
        fake.requests.append(("/api/tags", {}))
        return {"models": [{"name": m, "model": m} for m in fake.models]}

    @app.post("/api/chat")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        fake.requests.append(("/api/chat", body))
        if body.get("model") not in fake.models:
            return JSONResponse({"error": f"model '{body.get('model')}' not found"}, 404)
        content = json.dumps(fake.decision) if body.get("format") else fake.answer
        return JSONResponse(
            {
                "model": body["model"],
                "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": content},
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 42,
                "eval_count": 7,
            }
        )

    @app.post("/api/embed")
    async def embed(request: Request) -> JSONResponse:
        body = await request.json()
        fake.requests.append(("/api/embed", body))
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = [
            [float((hash(t) >> (i % 32)) & 7) + 1.0 for i in range(fake.dimension)] for t in texts
        ]
        return JSONResponse({"model": body["model"], "embeddings": vectors})

    return app


@asynccontextmanager
async def serve_fake_ollama(fake: FakeOllama) -> AsyncIterator[FakeOllama]:
    """Serve ``fake`` on a loopback port in this event loop (listening before it returns)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(_app(fake), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield fake
    finally:
        server.should_exit = True
        await task
        sock.close()
