"""Small HTTP servers that speak the wire formats of the model providers' APIs.

Nothing here can reach Anthropic, Google or an Ollama server, so each fake stands for
one of them and the real client library (``anthropic``, ``google-genai``, ``ollama``) is
pointed at it. Each answers from a :class:`Script`: per model, a queue of behaviours
(answer, HTTP error, 429, hang until released), and it records every request it saw.
"""

from __future__ import annotations

import asyncio
import socket
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from catalog.model import ModelsFile

__all__ = [
    "ANTHROPIC_KEY",
    "GOOGLE_KEY",
    "Answer",
    "Fail",
    "FakeServer",
    "Fakes",
    "Garbage",
    "Hang",
    "Script",
    "anthropic_app",
    "google_app",
    "models_spec",
    "ollama_app",
    "serve",
]

ANTHROPIC_KEY = "sk-ant-test-0123456789abcdef"
GOOGLE_KEY = "test-google-key-not-a-real-one"


@dataclass(frozen=True)
class Answer:
    """Answer normally; token counts default to the prompt's word count and 5."""

    text: str | None = None
    input_tokens: int | None = None
    output_tokens: int = 5


@dataclass(frozen=True)
class Fail:
    """Answer with an HTTP error in the provider's error format."""

    status: int
    message: str = "failure injected by the test"


@dataclass(frozen=True)
class Hang:
    """Accept the request and answer nothing until the script is released."""


@dataclass(frozen=True)
class Garbage:
    """Answer 200 with a body that is not the provider's JSON (a broken proxy, say)."""

    body: str = "<html>502 Bad Gateway</html>"


Behaviour = Answer | Fail | Hang | Garbage


@dataclass
class Script:
    """What the fake answers next, per model id, and what it was asked."""

    queued: dict[str, deque[Behaviour]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, model_id: str, *behaviours: Behaviour) -> None:
        self.queued[model_id].extend(behaviours)

    def next(self, model_id: str) -> Behaviour:
        queue = self.queued.get(model_id)
        return queue.popleft() if queue else Answer()

    def reset(self) -> None:
        """Release hung requests and forget the queues and the recorded requests."""
        self.release.set()
        self.release = asyncio.Event()
        self.queued.clear()
        self.requests.clear()

    def calls(self, model_id: str) -> int:
        return sum(1 for r in self.requests if r["model"] == model_id)


def _words(*texts: str | None) -> int:
    return sum(len(t.split()) for t in texts if t)


async def _behave(
    script: Script, request: Request, model_id: str, body: dict[str, Any]
) -> Behaviour:
    script.requests.append(
        {
            "model": model_id,
            "path": request.url.path,
            "headers": dict(request.headers),
            "body": body,
        }
    )
    behaviour = script.next(model_id)
    if isinstance(behaviour, Hang):
        await script.release.wait()
        return Fail(503, "released after hanging")
    return behaviour


def anthropic_app(script: Script) -> FastAPI:
    """Stands for the Anthropic Messages API (``POST /v1/messages``); the key arrives as
    ``x-api-key`` or, from SDK 2.x on, as an ``Authorization`` bearer token."""
    app = FastAPI()

    def error(status: int, kind: str, message: str) -> JSONResponse:
        body = {"type": "error", "error": {"type": kind, "message": message}}
        headers = {"retry-after": "30"} if status == 429 else {}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.post("/v1/messages")
    async def messages(request: Request) -> JSONResponse:
        body = await request.json()
        model_id = body["model"]
        behaviour = await _behave(script, request, model_id, body)
        keys = {request.headers.get("x-api-key"), request.headers.get("authorization")}
        if not keys & {ANTHROPIC_KEY, f"Bearer {ANTHROPIC_KEY}"}:
            return error(401, "authentication_error", "invalid x-api-key")
        if isinstance(behaviour, Fail):
            kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(
                behaviour.status, "api_error"
            )
            return error(behaviour.status, kind, behaviour.message)
        if isinstance(behaviour, Garbage):
            return Response(behaviour.body, media_type="application/json")
        assert isinstance(behaviour, Answer)
        prompt = " ".join(m["content"] for m in body["messages"])
        text = behaviour.text or f"{model_id} answers: {prompt[:40]}"
        usage_in = behaviour.input_tokens or _words(prompt, body.get("system"))
        return JSONResponse(
            {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model_id,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": usage_in, "output_tokens": behaviour.output_tokens},
            }
        )

    return app


def google_app(script: Script) -> FastAPI:
    """Stands for the Gemini API: ``POST /{v1,v1beta}/models/{model}:generateContent`` with
    the key in ``x-goog-api-key`` (google-genai 3.x calls ``/v1``, older releases ``/v1beta``)."""
    app = FastAPI()

    def error(status: int, message: str) -> JSONResponse:
        names = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED"}
        body = {
            "error": {"code": status, "message": message, "status": names.get(status, "INTERNAL")}
        }
        return JSONResponse(body, status_code=status)

    @app.post("/v1/models/{model_id}:generateContent")
    @app.post("/v1beta/models/{model_id}:generateContent")
    async def generate(model_id: str, request: Request) -> JSONResponse:
        body = await request.json()
        behaviour = await _behave(script, request, model_id, body)
        if request.headers.get("x-goog-api-key") != GOOGLE_KEY:
            return error(403, "API key not valid. Please pass a valid API key.")
        if isinstance(behaviour, Fail):
            return error(behaviour.status, behaviour.message)
        if isinstance(behaviour, Garbage):
            return Response(behaviour.body, media_type="application/json")
        assert isinstance(behaviour, Answer)
        prompt = " ".join(p.get("text", "") for c in body["contents"] for p in c["parts"])
        system = " ".join(
            p.get("text", "") for p in body.get("systemInstruction", {}).get("parts", [])
        )
        text = behaviour.text or f"{model_id} answers: {prompt[:40]}"
        usage_in = behaviour.input_tokens or _words(prompt, system)
        return JSONResponse(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": text}]},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": usage_in,
                    "candidatesTokenCount": behaviour.output_tokens,
                    "totalTokenCount": usage_in + behaviour.output_tokens,
                },
                "modelVersion": model_id,
            }
        )

    return app


def ollama_app(script: Script) -> FastAPI:
    """Stands for an Ollama server (``POST /api/chat``, non-streaming)."""
    app = FastAPI()

    @app.post("/api/chat")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        model_id = body["model"]
        behaviour = await _behave(script, request, model_id, body)
        if isinstance(behaviour, Fail):
            return JSONResponse({"error": behaviour.message}, status_code=behaviour.status)
        if isinstance(behaviour, Garbage):
            return Response(behaviour.body, media_type="application/json")
        assert isinstance(behaviour, Answer)
        prompt = " ".join(m["content"] for m in body["messages"] if m["role"] == "user")
        system = " ".join(m["content"] for m in body["messages"] if m["role"] == "system")
        text = behaviour.text or f"{model_id} answers: {prompt[:40]}"
        return JSONResponse(
            {
                "model": model_id,
                "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": text},
                "done": True,
                "done_reason": "stop",
                "total_duration": 1000,
                "prompt_eval_count": behaviour.input_tokens or _words(prompt, system),
                "eval_count": behaviour.output_tokens,
            }
        )

    return app


@dataclass(frozen=True)
class FakeServer:
    url: str
    script: Script


@dataclass(frozen=True)
class Fakes:
    """One fake per provider, as the ``fakes`` fixture hands them to a test."""

    anthropic: FakeServer
    google: FakeServer
    ollama: FakeServer

    def reset(self) -> None:
        for fake in (self.anthropic, self.google, self.ollama):
            fake.script.reset()


@asynccontextmanager
async def serve(app: FastAPI, script: Script) -> AsyncIterator[FakeServer]:
    """Serve ``app`` over real HTTP on a loopback port in this event loop.

    The socket is listening before the server task starts, so a client can connect at
    once (the kernel queues the connection) and no readiness wait is needed.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted sockets inherit this; without it uvicorn's separate header and body writes
    # meet the client's delayed ACK and every request takes ~44 ms instead of <1 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield FakeServer(url=f"http://127.0.0.1:{port}", script=script)
    finally:
        script.release.set()
        server.should_exit = True
        await task
        sock.close()


def models_spec(fakes: Fakes, **overrides: object) -> ModelsFile:
    """The shipped ``models.yaml`` policy, with every provider pointed at a fake."""
    data: dict[str, object] = {
        "providers": [
            {
                "name": "anthropic",
                "type": "anthropic",
                "apiKeyEnv": "ANTHROPIC_API_KEY",
                "baseUrl": fakes.anthropic.url,
            },
            {
                "name": "google",
                "type": "google",
                "apiKeyEnv": "GEMINI_API_KEY",
                "baseUrl": fakes.google.url,
            },
            {"name": "ollama", "type": "ollama", "baseUrl": fakes.ollama.url},
            {"name": "local", "type": "local"},
        ],
        "models": [
            {
                "name": "gemini-flash",
                "provider": "google",
                "modelId": "gemini-2.0-flash",
                "contextWindow": 1048576,
                "inputUsdPerMtok": 0.10,
                "outputUsdPerMtok": 0.40,
            },
            {
                "name": "claude-sonnet",
                "provider": "anthropic",
                "modelId": "claude-sonnet-4-6",
                "contextWindow": 200000,
                "inputUsdPerMtok": 3.0,
                "outputUsdPerMtok": 15.0,
            },
            {
                "name": "claude-haiku",
                "provider": "anthropic",
                "modelId": "claude-haiku-4-5",
                "contextWindow": 200000,
                "inputUsdPerMtok": 0.80,
                "outputUsdPerMtok": 4.0,
            },
            {
                "name": "llama-local",
                "provider": "ollama",
                "modelId": "llama3.1:8b",
                "contextWindow": 131072,
                "inputUsdPerMtok": 0,
                "outputUsdPerMtok": 0,
            },
            {
                "name": "minilm",
                "provider": "local",
                "modelId": "all-MiniLM-L6-v2",
                "purpose": "embedding",
                "dimension": 384,
                "contextWindow": 512,
                "inputUsdPerMtok": 0,
            },
        ],
        "rules": [
            {"name": "long-context", "minContextTokens": 100000, "model": "gemini-flash"},
            {"name": "summarization", "taskTypes": ["summarization"], "model": "gemini-flash"},
            {
                "name": "deep-work",
                "taskTypes": ["reasoning", "code", "analysis"],
                "model": "claude-sonnet",
            },
            {"name": "classification", "taskTypes": ["classification"], "model": "claude-haiku"},
        ],
        "defaultModel": "gemini-flash",
        "fallbacks": {
            "claude-sonnet": ["gemini-flash", "llama-local"],
            "claude-haiku": ["gemini-flash", "llama-local"],
            "gemini-flash": ["claude-haiku", "llama-local"],
        },
        "budget": {"dailyUsd": 10, "alertThreshold": 0.8, "whenExhausted": "llama-local"},
    }
    data.update(overrides)
    return ModelsFile.model_validate(data)
