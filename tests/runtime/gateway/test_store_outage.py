"""With PostgreSQL down, a token the gateway has not seen yet gets a 503 it can retry,
not a 500: the client did nothing wrong."""

from __future__ import annotations

from pathlib import Path

import httpx

from runtime.db import EmbeddedPostgres
from runtime.db.migrate import migrate
from runtime.gateway import GatewayConfig, create_app
from runtime.settings import Settings
from runtime.store import TokenStore

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
