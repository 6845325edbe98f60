"""The router hosted in the gateway's process, as the local fleet runs it: the gateway's
real app with the router as a ``GatewayExtension``, its security in front, its /metrics
showing the router's series. Providers are the fakes of ``fakes``."""

from __future__ import annotations

import httpx

from runtime.db import Database
from runtime.gateway import GatewayConfig, create_app
from runtime.gateway.app import GatewayExtension
from runtime.router import create_router_api, hosted_model_router
from runtime.settings import Settings
from runtime.store.tokens import TokenStore
from tests.runtime.router.conftest import KEYS, UNCACHED
from tests.runtime.router.fakes import Answer, Fakes, models_spec


async def test_inside_the_gateway_the_router_is_guarded_and_measured(
    runtime_settings: Settings, db: Database, fakes: Fakes
) -> None:
    extension = GatewayExtension(
        routers=[create_router_api()],
        lifespan=hosted_model_router(models_spec(fakes), settings=UNCACHED, env=KEYS),
    )
    app = create_app(runtime_settings, GatewayConfig(servers=()), extensions=[extension])
    token = (await TokenStore(db).create("router-test")).token
    fakes.google.script.push("gemini-2.0-flash", Answer(input_tokens=11, output_tokens=4))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as http,
    ):
        anonymous = await http.post("/api/v1/complete", json={"prompt": "hi"})
        auth = {"Authorization": f"Bearer {token}"}
        answered = await http.post("/api/v1/complete", json={"prompt": "hi"}, headers=auth)
        costs = await http.get("/api/v1/costs", headers=auth)
        metrics = await http.get("/metrics")

    assert anonymous.status_code == 401
    assert answered.status_code == 200, answered.text
    assert answered.json()["model"] == "gemini-flash"
    assert costs.json()["totals"]["input_tokens"] == 11
    assert 'llm_tokens_total{direction="input",model="gemini-flash"} 11.0' in metrics.text
