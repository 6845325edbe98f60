"""The gateway through a PostgreSQL outage: the client did nothing wrong, so it sees nothing.

The database is the real embedded PostgreSQL of the test's own (``private_pg_server``),
stopped and started again under load; the upstream is a real ``slow`` SDK server over
streamable HTTP; the clients are httpx (REST) and the official MCP client at both protocol
revisions, each with a token the gateway verified before the outage. Timings are not
asserted here (``bench/outage.py`` measures them); behaviour is.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from runtime.db import Database, EmbeddedPostgres
from runtime.db.migrate import migrate
from runtime.gateway import GatewayConfig, create_app
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.store import TokenStore
from tests.runtime.gateway.peers import Peer
from tests.runtime.gateway.running import eventually, run_gateway, until

pytestmark = pytest.mark.asyncio(loop_scope="session")
CATALOG = Path(__file__).resolve().parents[3] / "catalog"


async def test_an_unchecked_token_during_a_database_outage_gets_a_503_json_error(
    private_pg_server: EmbeddedPostgres, embedding_dim: int, tmp_path: Path
) -> None:
    url = private_pg_server.url()
    await migrate(url, embedding_dim=embedding_dim)
    settings = Settings(database_url=url, data_dir=tmp_path, catalog=CATALOG)
    app = create_app(settings, GatewayConfig(servers=(), requests_per_minute=None))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as http,
    ):
        token = (await TokenStore(app.state.database).create("late")).token
        private_pg_server.stop()
        try:
            answer = await http.get("/api/v1/servers", headers={"Authorization": f"Bearer {token}"})
        finally:
            private_pg_server.start()
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "store_unavailable"


@dataclass
class Load:
    """Clients calling in a loop until told to stop; every outcome is counted."""

    calls: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, index: int, call: Callable[[], Awaitable[str | None]]) -> None:
        while not self.stop.is_set():
            try:
                problem = await call()
            except Exception as exc:  # a failed call of any kind is what this test counts
                problem = f"{type(exc).__name__}: {exc}"
            self.calls[index] += 1
            if problem is not None:
                self.failures.append(problem)

    @property
    def total(self) -> int:
        return sum(self.calls)


def rest_client(http: httpx.AsyncClient) -> Callable[[], Awaitable[str | None]]:
    async def call() -> str | None:
        answer = await http.post("/api/v1/mcp/slow/tools/echo", json={"message": "r"})
        if answer.status_code != 200 or answer.json()["isError"]:
            return f"REST {answer.status_code}: {answer.text[:200]}"
        return None

    return call


async def audit_rows(db: Database, clients: list[str]) -> int:
    async with db.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM audit_log WHERE client = ANY(%s)", (clients,)
        )
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def test_verified_clients_see_no_failure_through_an_outage_and_every_call_is_audited(
    private_pg_server: EmbeddedPostgres,
    embedding_dim: int,
    tmp_path: Path,
    peer_factory: Callable[..., Peer],
) -> None:
    """Six clients (REST, 2026-07-28 and 2025-11-25 MCP) keep calling while PostgreSQL
    stops for longer than the token cache's fresh window and starts again: none of their
    calls fails, a token first seen after the restart is accepted again, and the audit
    log ends with one row per call (spilled or queued records replayed)."""
    url = private_pg_server.url()
    await migrate(url, embedding_dim=embedding_dim)
    upstream = peer_factory("slow")
    settings = Settings(database_url=url, data_dir=tmp_path, catalog=CATALOG, token_cache_ttl=0.2)
    config = GatewayConfig(
        (ServerSpec("slow", (EndpointSpec("streamable-http", url=upstream.url),)),),
        PoolSettings(call_timeout=10, health_interval=60),
        requests_per_minute=1_000_000,
    )
    names = [f"outage-{i}-{uuid.uuid4().hex[:6]}" for i in range(6)]
    admin = await Database.open(url, embedding_dim=embedding_dim, run_migrations=False)
    try:
        store = TokenStore(admin)
        tokens = [(await store.create(name)).token for name in names]
        latecomer = (await store.create(f"late-{uuid.uuid4().hex[:6]}")).token
        async with run_gateway(settings, config) as gateway:
            guard = gateway.app.state.guard
            load = Load(calls=[0] * len(names))
            async with (
                gateway.http(tokens[0]) as rest_a,
                gateway.http(tokens[1]) as rest_b,
                gateway.mcp(tokens[2], mode="2026-07-28") as modern_a,
                gateway.mcp(tokens[3], mode="2026-07-28") as modern_b,
                gateway.mcp(tokens[4], mode="legacy") as legacy_a,
                gateway.mcp(tokens[5], mode="legacy") as legacy_b,
            ):
                calls = [rest_client(rest_a), rest_client(rest_b)]
                for client in (modern_a, modern_b, legacy_a, legacy_b):

                    async def call(client: object = client) -> str | None:
                        result = await client.call_tool("slow__echo", {"message": "m"})  # type: ignore[attr-defined]
                        return "tool error" if result.is_error else None

                    calls.append(call)
                workers = [asyncio.create_task(load.run(i, c)) for i, c in enumerate(calls)]
                try:
                    await eventually(lambda: min(load.calls) >= 3, what="every client verified")

                    await private_pg_server.astop()
                    during = list(load.calls)
                    await eventually(
                        lambda: (
                            all(n - d >= 20 for n, d in zip(load.calls, during, strict=True))
                            and guard.verifier.tokens.served_stale > 0
                            and guard.limiter.degraded_hits > 0
                        ),
                        within=60,
                        what="calls through the outage, past the fresh window",
                    )
                    await private_pg_server.astart()

                    async def latecomer_accepted() -> bool:
                        async with gateway.http(latecomer) as http:
                            answer = await http.get("/api/v1/servers")
                        return answer.status_code == 200

                    await until(latecomer_accepted, within=60, what="a new token verified again")
                    after = list(load.calls)
                    await eventually(
                        lambda: all(n - a >= 5 for n, a in zip(load.calls, after, strict=True)),
                        within=60,
                        what="calls after the recovery",
                    )
                finally:  # a failed wait must not leave the clients calling forever
                    load.stop.set()
                    await asyncio.gather(*workers)
            await until(
                lambda: _equals(audit_rows(admin, names), load.total),
                within=60,
                what="one audit row per call",
            )
        assert load.failures == []
        assert await audit_rows(admin, names) == load.total
    finally:
        await admin.close()


async def _equals(count: Awaitable[int], expected: int) -> bool:
    return await count == expected
