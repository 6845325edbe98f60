"""Run a gateway app for real in the test's event loop: uvicorn on 127.0.0.1, lifespan on.

REST calls go in-process over ASGI (``rest()``), MCP clients over real HTTP (``mcp()``).
``stop()`` is a graceful shutdown: uvicorn finishes requests, then the lifespan closes
the pool and flushes the audit writer — the same path SIGTERM takes in a pod.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import httpx2
import uvicorn
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from runtime.db import Database
from runtime.gateway import GatewayConfig, create_app
from runtime.gateway.app import GatewayExtension
from runtime.settings import Settings
from runtime.store.tokens import TokenStore
from tests.waiting import eventually
from tests.waiting import eventually_async as until

__all__ = [
    "RunningGateway",
    "eventually",
    "issue_token",
    "run_gateway",
    "serve_app",
    "text_of",
    "until",
]

T = TypeVar("T")


class RunningGateway:
    def __init__(self, app: FastAPI, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.app, self.server, self.task = app, server, task

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rest(
        self, token: str | None = None, *, client: tuple[str, int] = ("127.0.0.1", 50000)
    ) -> httpx.AsyncClient:
        """An in-process client; ``client`` is the peer address the app sees."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.ASGITransport(app=self.app, client=client)
        return httpx.AsyncClient(transport=transport, base_url="http://gateway", headers=headers)

    def http(self, token: str | None = None) -> httpx.AsyncClient:
        """A client over real TCP."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    @asynccontextmanager
    async def mcp(self, token: str | None, *, mode: str = "auto") -> AsyncIterator[Client]:
        """The official MCP client pointed at ``/mcp``; ``mode`` legacy|auto|2026-07-28."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0)) as http:
            transport = streamable_http_client(f"{self.url}/mcp", http_client=http)
            async with Client(transport, mode=mode, cache=None) as client:
                yield client

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


@asynccontextmanager
async def run_gateway(
    settings: Settings,
    config: GatewayConfig,
    *,
    extensions: tuple[GatewayExtension, ...] = (),
    port: int = 0,
) -> AsyncIterator[RunningGateway]:
    """``port``: a fixed one when the test must know the URL first (an OAuth resource URI)."""
    async with serve_app(create_app(settings, config, extensions=extensions), port) as running:
        yield running


@asynccontextmanager
async def serve_app(app: FastAPI, port: int = 0) -> AsyncIterator[RunningGateway]:
    """Any app (a gateway, a router, triage alone) under uvicorn on loopback, lifespan on."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=10,
        )
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 60
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the app did not start")
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not start within 60s")
        await asyncio.sleep(0.01)
    running = RunningGateway(app, server, task)
    try:
        yield running
    finally:
        if not task.done():
            await running.stop()


async def issue_token(
    db: Database,
    name: str,
    *,
    scopes: list[str] | None = None,
    ttl: timedelta | None = None,
) -> str:
    return (await TokenStore(db).create(name, scopes=scopes, ttl=ttl)).token


def text_of(result: Any) -> str:
    """The first text block of a CallToolResult."""
    return str(result.content[0].text)
