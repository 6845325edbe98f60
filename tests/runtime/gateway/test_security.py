"""Bearer tokens, scopes, the IP allowlist, RFC 9728 metadata, and upstream credentials.

Tokens are real rows made by the token store in a real PostgreSQL; upstreams are real
MCP servers (server-everything over HTTP, the ``flaky`` SDK server over HTTP, which can
report the Authorization header it received).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog import load_catalog
from catalog.model import RemoteServer, SecretRef
from runtime.db import Database
from runtime.discovery.api import registry_namespace, registry_router
from runtime.gateway import GatewayConfig, GatewayExtension
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec, specs_from_catalog
from runtime.settings import Settings
from runtime.store.tokens import TokenStore
from tests.runtime.gateway.peers import Peer, python_peer
from tests.runtime.gateway.running import (
    RunningGateway,
    issue_token,
    run_gateway,
    text_of,
    until,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

SHIPPED_CATALOG = Path(__file__).resolve().parents[3] / "catalog"
METADATA = "/.well-known/oauth-protected-resource"
UPSTREAM_SECRET = "upstream-secret-for-flaky"


@pytest.fixture(scope="module")
def flaky_http(peer_logs: Path) -> Iterator[Peer]:
    peer = python_peer("flaky", "streamable-http", peer_logs).start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
async def gateway(
    module_db_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    everything_http: Peer,
    flaky_http: Peer,
) -> AsyncIterator[RunningGateway]:
    settings = Settings(
        database_url=module_db_url,
        data_dir=tmp_path_factory.mktemp("data"),
        catalog=SHIPPED_CATALOG,
        token_cache_ttl=0.5,
    )
    # The flaky server is a catalog `remote` server whose token comes from a secret ref,
    # resolved from the gateway's environment as in a pod.
    remote = RemoteServer(
        name="flaky", kind="remote", description="test upstream", urls=[flaky_http.url],
        secrets=[SecretRef(env="FLAKY_TOKEN", path="/infrastructure/flaky", key="TOKEN")],
    )
    catalog = load_catalog(SHIPPED_CATALOG).model_copy(update={"servers": (remote,)})
    flaky = specs_from_catalog(catalog, local=True, environ={"FLAKY_TOKEN": UPSTREAM_SECRET})
    servers = (
        ServerSpec("everything", (EndpointSpec("streamable-http", url=everything_http.url),)),
        *flaky,
    )
    config = GatewayConfig(
        servers,
        PoolSettings(call_timeout=10, health_interval=60),
        requests_per_minute=100_000,
        ip_allowlist=("10.30.0.0/24",),
        public_url=None,
    )
    # the registry API, as a gateway hosting discovery mounts it
    registry = GatewayExtension(routers=[registry_router(registry_namespace("mcp.shreck.io"))])
    async with run_gateway(settings, config, extensions=(registry,)) as running:
        yield running


async def test_a_request_without_a_token_is_401_with_the_metadata_challenge(
    gateway: RunningGateway,
) -> None:
    async with gateway.rest() as rest:
        response = await rest.get("/api/v1/servers")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    # RFC 9728 §3.1: the well-known path goes before the resource's own path (/mcp)
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="http://gateway{METADATA}/mcp"'
    )


async def test_the_mcp_endpoint_refuses_without_a_token_with_a_json_rpc_error(
    gateway: RunningGateway,
) -> None:
    async with gateway.http() as http:
        response = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith(
        f'Bearer resource_metadata="{gateway.url}{METADATA}/mcp"'
    )
    assert response.json()["error"]["data"]["code"] == "unauthorized"
    assert response.json()["id"] is None


@pytest.mark.parametrize(
    ("presented", "reason"),
    [
        ("mcpf_" + "A" * 43, "invalid"),
        ("not-a-token", "invalid"),
        ("", "a bearer token is required"),
    ],
    ids=["unknown", "malformed", "empty"],
)
async def test_a_wrong_token_is_401(
    gateway: RunningGateway, presented: str, reason: str
) -> None:
    async with gateway.rest() as rest:
        response = await rest.get(
            "/api/v1/servers", headers={"Authorization": f"Bearer {presented}"}
        )
    assert response.status_code == 401
    assert reason in response.json()["error"]["reason"]
    if presented:
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_an_expired_token_is_401(gateway: RunningGateway, module_db: Database) -> None:
    token = await issue_token(module_db, "short-lived", ttl=timedelta(milliseconds=1))
    async with gateway.rest(token) as rest:
        response = await rest.get("/api/v1/servers")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["reason"]


async def test_a_token_revoked_elsewhere_stops_working_once_the_gateways_cache_lapses(
    gateway: RunningGateway, module_db: Database
) -> None:
    """The gateway caches verified tokens for 0.5 s here; the revocation comes from another
    store (another replica). The exact window is tested with a clock of the test's own in
    tests/runtime/store/test_tokens.py; here the deadline is only a hang guard."""
    token = await issue_token(module_db, "soon-revoked")
    async with gateway.rest(token) as rest:
        assert (await rest.get("/api/v1/servers")).status_code == 200
        await TokenStore(module_db).revoke("soon-revoked")

        async def refused() -> bool:
            return (await rest.get("/api/v1/servers")).status_code == 401

        await until(refused, within=60, what="the revoked token to be refused")
        response = await rest.get("/api/v1/servers")
    assert "revoked" in response.json()["error"]["reason"]


async def test_a_token_outside_its_scope_is_403_and_sees_only_its_servers(
    gateway: RunningGateway, module_db: Database
) -> None:
    token = await issue_token(module_db, "flaky-only", scopes=["flaky"])
    async with gateway.rest(token) as rest:
        refused = await rest.post("/api/v1/mcp/everything/tools/echo", json={"message": "x"})
        allowed = await rest.post("/api/v1/mcp/flaky/tools/ping", json={})
        servers = await rest.get("/api/v1/servers")
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "forbidden",
        "reason": "token 'flaky-only' may not use server 'everything'",
        "server": "everything",
    }
    assert allowed.status_code == 200
    assert [s["name"] for s in servers.json()["servers"]] == ["flaky"]


@pytest.mark.parametrize(
    "path", ["/v0/servers", "/v0.1/servers", "/v0/servers/everything", "/v0.1/servers/x/versions"]
)
async def test_the_registry_on_the_gateway_port_needs_a_token(
    gateway: RunningGateway, path: str
) -> None:
    """Issue 11, item 7: it listed every server's endpoints, command lines and errors."""
    async with gateway.http() as http:
        response = await http.get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_registry_shows_a_token_only_the_servers_it_may_use(
    gateway: RunningGateway, module_db: Database
) -> None:
    scoped = await issue_token(module_db, "registry-flaky", scopes=["flaky"])
    everyone = await issue_token(module_db, "registry-all")

    def names(body: dict[str, Any]) -> list[str]:
        return [s["_meta"]["io.mcpfleet/registry"]["name"] for s in body["servers"]]

    async with gateway.rest(scoped) as rest:
        listed = (await rest.get("/v0/servers")).json()
        hidden = await rest.get("/v0/servers/io.shreck.mcp%2Feverything")
        versions = await rest.get("/v0.1/servers/everything/versions/latest")
        own = await rest.get("/v0/servers/flaky")
    async with gateway.rest(everyone) as rest:
        everything = (await rest.get("/v0/servers")).json()
    assert names(listed) == ["flaky"] and listed["metadata"]["count"] == 1
    assert hidden.status_code == versions.status_code == 404
    assert hidden.json() == {"error": {"code": "not_found", "reason": "Server not found"}}
    assert own.status_code == 200
    assert {"everything", "flaky"} <= set(names(everything))


async def test_a_2026_client_out_of_scope_is_refused_from_the_routing_headers(
    gateway: RunningGateway, module_db: Database
) -> None:
    """Mcp-Method/Mcp-Name let the gateway refuse before reading the body."""
    token = await issue_token(module_db, "flaky-only-2", scopes=["flaky"])
    async with gateway.http(token) as http:
        response = await http.post(
            "/mcp",
            content=b"this body is never parsed",
            headers={"Mcp-Method": "tools/call", "Mcp-Name": "everything__echo",
                     "MCP-Protocol-Version": "2026-07-28",
                     "Accept": "application/json, text/event-stream"},
        )
    assert response.status_code == 403
    assert response.json()["error"]["data"]["code"] == "forbidden"


async def test_addresses_outside_the_allowlist_are_refused_but_probes_are_not(
    gateway: RunningGateway, module_db: Database
) -> None:
    token = await issue_token(module_db, "allowlist-client")
    async with gateway.rest(token, client=("203.0.113.9", 40000)) as outside:
        refused = await outside.get("/api/v1/servers")
        health = await outside.get("/api/v1/health")
        metrics = await outside.get("/metrics")
    async with gateway.rest(token, client=("10.30.0.7", 40000)) as inside:
        allowed = await inside.get("/api/v1/servers")
    async with gateway.rest(token, client=("::1", 40000)) as loopback:
        local = await loopback.get("/api/v1/servers")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ip_not_allowed"
    assert health.status_code == 200 and metrics.status_code == 200
    assert allowed.status_code == 200 and local.status_code == 200


async def test_the_protected_resource_metadata_document(gateway: RunningGateway) -> None:
    async with gateway.rest() as rest:
        root = await rest.get(METADATA)
        suffixed = await rest.get(METADATA + "/mcp")
    assert root.status_code == 200 and suffixed.json() == root.json()
    document = root.json()
    assert document["resource"] == "http://gateway/mcp"
    assert document["bearer_methods_supported"] == ["header"]
    assert document["scopes_supported"] == ["everything", "flaky"]


async def test_client_tokens_never_reach_upstreams_and_upstream_secrets_do(
    gateway: RunningGateway, module_db: Database
) -> None:
    token = await issue_token(module_db, "forwarding-check")
    async with gateway.rest(token) as rest:
        response = await rest.post("/api/v1/mcp/flaky/tools/authorization", json={})
    async with gateway.mcp(token) as client:
        via_mcp = await client.call_tool("flaky__authorization", {})
    seen = response.json()["content"][0]["text"]
    assert seen == f"Bearer {UPSTREAM_SECRET}"
    assert text_of(via_mcp) == f"Bearer {UPSTREAM_SECRET}"
    assert token not in seen


async def test_secrets_never_show_in_the_registry_view(
    gateway: RunningGateway, module_db: Database
) -> None:
    token = await issue_token(module_db, "registry-view")
    async with gateway.rest(token) as rest:
        text = (await rest.get("/api/v1/servers")).text
    assert UPSTREAM_SECRET not in text and token not in text
