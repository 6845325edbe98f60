"""One real fleet for the console's in-process tests: the gateway with its stdio upstreams
(the npm reference server ``everything`` and the repo's ``homelab`` server), triage, the
model router and the console, on uvicorn in the test loop, over a module database.

Clients talk to it over real HTTP with cookies, as a browser would (minus the script;
the browser tests in ``test_in_browser.py`` cover that).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from mcpfleet.composition import console_extension, router_extension, triage_extension
from runtime.db import Database
from runtime.gateway import GatewayConfig, create_app
from runtime.settings import Settings
from runtime.store import TokenStore

REPO = Path(__file__).resolve().parents[3]
SHIPPED_CATALOG = REPO / "catalog"
LOCAL_SERVERS = SHIPPED_CATALOG / "local" / "servers"
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@dataclass
class Fleet:
    app: FastAPI
    url: str
    db: Database
    admin_token: str
    everything_token: str

    def client(self) -> httpx.AsyncClient:
        """A browser-like client: cookies kept, same-origin POSTs."""
        return httpx.AsyncClient(
            base_url=self.url, timeout=60, headers={"Origin": self.url}, follow_redirects=False
        )

    @asynccontextmanager
    async def session(self, token: str) -> AsyncIterator[httpx.AsyncClient]:
        """A client signed in with ``token`` (the session cookie set by ``/signin``)."""
        async with self.client() as client:
            answer = await client.post("/signin", data={"token": token, "next": "/"})
            assert answer.status_code == 303, answer.text
            yield client


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no form token"
    return match.group(1)


@pytest.fixture(scope="module")
def _no_local_llm() -> Iterator[None]:
    """Triage without Ollama (nothing listens on port 9): the deterministic decision."""
    before = os.environ.get("MCPFLEET_OLLAMA_URL")
    os.environ["MCPFLEET_OLLAMA_URL"] = "http://127.0.0.1:9"
    yield
    if before is None:
        os.environ.pop("MCPFLEET_OLLAMA_URL", None)
    else:
        os.environ["MCPFLEET_OLLAMA_URL"] = before


@pytest.fixture(scope="module")
async def fleet(
    module_db_url: str,
    embedding_dim: int,
    tmp_path_factory: pytest.TempPathFactory,
    _no_local_llm: None,
) -> AsyncIterator[Fleet]:
    settings = Settings(
        database_url=module_db_url,
        data_dir=tmp_path_factory.mktemp("console-data"),
        catalog=SHIPPED_CATALOG,
        server_dirs=(LOCAL_SERVERS,),
        token_cache_ttl=5.0,
    )
    db = await Database.open(module_db_url, embedding_dim=embedding_dim, run_migrations=False)
    config = GatewayConfig.from_catalog(settings.loaded_catalog, local=True, auth=True)
    # many page views in a few seconds by two tokens: the rate limit is not under test here
    config = dataclasses.replace(config, requests_per_minute=100_000)
    app = create_app(
        settings,
        config,
        extensions=[
            router_extension(settings),
            triage_extension(settings)[0],
            console_extension(settings),
        ],
        database=db,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 120
    while not server.started:
        assert not task.done(), "the fleet did not start"
        assert time.monotonic() < deadline, "the fleet did not start in time"
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    store = TokenStore(db)
    admin = (await store.create("operator", admin=True)).token
    scoped = (await store.create("echo-bot", scopes=["everything"])).token
    try:
        yield Fleet(app, f"http://127.0.0.1:{port}", db, admin, scoped)
    finally:
        server.should_exit = True
        await task
        await db.close()
