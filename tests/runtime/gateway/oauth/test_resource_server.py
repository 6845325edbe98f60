"""The gateway as an OAuth 2.1 resource server, against a real authorization server.

oidc-provider (npm, in node) issues real JWT access tokens by client credentials with a
resource indicator; the gateway runs for real (uvicorn, embedded PostgreSQL, triage hosted
for ``find_tools``) in front of two real upstreams: server-everything and the ``headers``
SDK server, which writes down every header it receives. Clients are raw HTTP, the official
MCP client (both protocol revisions) and the MCP client's own OAuth support.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from mcp import Client
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp.shared.exceptions import MCPError

from catalog.auth import Issuer
from runtime.db import Database
from runtime.gateway import GatewayConfig, GatewayExtension, GatewayTool
from runtime.gateway.oauth import ResourceServer
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.triage.host import FIND_TOOLS, TriageHost
from tests.ports import unused_port
from tests.runtime.gateway.oauth.authorization_server import AuthorizationServer, OAuthClient
from tests.runtime.gateway.peers import SERVERS, Peer
from tests.runtime.gateway.running import (
    RunningGateway,
    issue_token,
    run_gateway,
    text_of,
    until,
)

METADATA = "/.well-known/oauth-protected-resource/mcp"
CLIENTS = [
    OAuthClient("full", "mcp:all"),
    OAuthClient("echo-only", "mcp:echo"),
    OAuthClient("reader", "mcp:read"),
    OAuthClient("sre", "", claims={"groups": ["sre", "oncall"]}),
    OAuthClient("nothing", ""),
    OAuthClient("short-lived", "mcp:all", ttl=1),
    OAuthClient("rsa", "mcp:all", alg="RS256"),
    OAuthClient("eddsa", "mcp:all", alg="EdDSA"),
    OAuthClient("sdk", "mcp:all mcp:echo mcp:read"),
]
RULES = [
    {"scope": "mcp:all", "allow": ["*"]},
    {"scope": "mcp:echo", "allow": ["everything:echo"]},
    {"scope": "mcp:read", "allow": ["*:*:ro"]},
    {"claim": "groups", "values": ["sre"], "allow": ["headers"]},
]


class Fleet:
    """The module's gateway, its authorization server and the recording upstream."""

    def __init__(
        self, gateway: RunningGateway, auth: AuthorizationServer, resource: str, seen: Path
    ) -> None:
        self.gateway, self.auth, self.resource, self.seen = gateway, auth, resource, seen

    async def token(self, client: str) -> str:
        return await self.auth.token(client, self.resource)

    def headers_received(self) -> list[dict[str, str]]:
        lines = self.seen.read_text().splitlines() if self.seen.exists() else []
        return [dict(json.loads(line)["headers"]) for line in lines]


def issuer_for(auth: AuthorizationServer) -> Issuer:
    return Issuer.model_validate(
        {"name": "homelab", "issuer": auth.issuer, "leeway": "1s", "access": RULES}
    )


def headers_peer(log_dir: Path, seen: Path) -> Peer:
    def command(port: int) -> tuple[list[str], dict[str, str]]:
        script = str(SERVERS / "headers.py")
        return [sys.executable, script, "--port", str(port), "--log", str(seen)], {}

    return Peer(command, path="/mcp", log=log_dir / f"headers-{seen.stem}.log")


@pytest.fixture(scope="module")
async def fleet(
    module_settings: Settings,
    peer_logs: Path,
    everything_http: Peer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Fleet]:
    port = unused_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    work = tmp_path_factory.mktemp("oauth")
    auth = AuthorizationServer(
        work,
        resources={
            resource: "mcp:all mcp:echo mcp:read",
            "http://127.0.0.1:9/other/mcp": "mcp:all",
        },
        clients=CLIENTS,
    ).start()
    seen = work / "headers-seen.jsonl"
    upstream = headers_peer(peer_logs, seen).start()
    servers = (
        ServerSpec("everything", (EndpointSpec("streamable-http", url=everything_http.url),)),
        ServerSpec("headers", (EndpointSpec("streamable-http", url=upstream.url),)),
    )
    oauth = ResourceServer(resource=resource, issuers=(issuer_for(auth),), key_retry_gap=0.0)
    config = GatewayConfig(
        servers,
        PoolSettings(call_timeout=20, health_interval=60),
        requests_per_minute=100_000,
        oauth=oauth,
    )
    host = TriageHost(module_settings, {"refresh_interval": 3600})
    triage = GatewayExtension(
        routers=[host.router],
        tools=[GatewayTool(definition=FIND_TOOLS, handler=host.find_tools)],
        lifespan=host.lifespan,
        error_handlers=host.error_handlers,
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MCPFLEET_OLLAMA_URL", "http://127.0.0.1:9")  # no local LLM here
        async with run_gateway(module_settings, config, extensions=(triage,), port=port) as gw:
            yield Fleet(gw, auth, resource, seen)
    upstream.stop()
    auth.stop()


async def tool_names(fleet: Fleet, token: str, mode: str = "auto") -> set[str]:
    async with fleet.gateway.mcp(token, mode=mode) as client:
        return {t.name for t in (await client.list_tools()).tools}


async def rest_call(fleet: Fleet, token: str, server: str, tool: str, body: Any) -> Any:
    async with fleet.gateway.http(token) as http:
        return await http.post(f"/api/v1/mcp/{server}/tools/{tool}", json=body)


# ---------------------------------------------------------------------- accepted


async def test_an_access_token_for_this_resource_is_accepted_on_mcp_and_rest(
    fleet: Fleet,
) -> None:
    token = await fleet.token("full")
    async with fleet.gateway.mcp(token) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        echoed = await client.call_tool("everything__echo", {"message": "via oauth"})
    assert {"everything__echo", "headers__write_note", "find_tools"} <= names
    assert text_of(echoed) == "Echo: via oauth"
    response = await rest_call(fleet, token, "headers", "write_note", {"name": "a", "text": "b"})
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"] == "wrote a: b"


@pytest.mark.parametrize("client", ["rsa", "full", "eddsa"], ids=["RS256", "ES256", "EdDSA"])
async def test_rs256_es256_and_eddsa_signatures_are_accepted(fleet: Fleet, client: str) -> None:
    token = await fleet.token(client)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == {"rsa": "RS256", "full": "ES256", "eddsa": "EdDSA"}[client]
    async with fleet.gateway.http(token) as http:
        assert (await http.get("/api/v1/servers")).status_code == 200


async def test_mcpfleet_tokens_keep_working_beside_access_tokens(
    fleet: Fleet, module_db: Database
) -> None:
    token = await issue_token(module_db, "opaque-beside-oauth", scopes=["everything:echo"])
    assert await tool_names(fleet, token) == {"everything__echo", "find_tools"}
    everything = await issue_token(module_db, "opaque-everything")
    assert "headers__write_note" in await tool_names(fleet, everything)


# ---------------------------------------------------------------------- refused


async def refused(fleet: Fleet, token: str) -> httpx.Response:
    async with fleet.gateway.http(token) as http:
        response = await http.get("/api/v1/servers")
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(f'Bearer resource_metadata="{fleet.gateway.url}{METADATA}"')
    assert 'error="invalid_token"' in challenge
    return response


async def test_a_token_for_another_resource_is_401(fleet: Fleet) -> None:
    token = await fleet.auth.token("full", "http://127.0.0.1:9/other/mcp")
    response = await refused(fleet, token)
    assert "not for this resource" in response.json()["error"]["reason"]


async def test_a_token_from_an_issuer_not_configured_is_401(fleet: Fleet, tmp_path: Path) -> None:
    stranger = AuthorizationServer(
        tmp_path, resources={fleet.resource: "mcp:all"}, clients=[OAuthClient("full", "mcp:all")]
    ).start()
    try:
        token = await stranger.token("full", fleet.resource)
    finally:
        stranger.stop()
    response = await refused(fleet, token)
    assert f"issuer '{stranger.issuer}' is not trusted" in response.json()["error"]["reason"]


async def test_an_expired_token_is_401(fleet: Fleet) -> None:
    """Issued for one second, with one second of leeway: accepted, then refused."""
    token = await fleet.token("short-lived")
    async with fleet.gateway.http(token) as http:
        assert (await http.get("/api/v1/servers")).status_code == 200

        async def expired() -> bool:
            return (await http.get("/api/v1/servers")).status_code == 401

        await until(expired, within=15.0, what="the short-lived token to expire")
    response = await refused(fleet, token)
    assert "expired" in response.json()["error"]["reason"]


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_a_token_whose_claims_were_changed_is_401(fleet: Fleet) -> None:
    """The echo-only client widens its own scope: the signature no longer fits."""
    header, payload, signature = _segments(await fleet.token("echo-only"))
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "mcp:all"
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    response = await refused(fleet, forged)
    assert "signature does not verify" in response.json()["error"]["reason"]


async def test_a_token_with_a_damaged_signature_is_401(fleet: Fleet) -> None:
    header, payload, signature = _segments(await fleet.token("rsa"))
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0xFF
    response = await refused(fleet, ".".join([header, payload, _b64(bytes(raw))]))
    assert "signature does not verify" in response.json()["error"]["reason"]


async def test_a_token_signed_with_a_key_the_issuer_never_published_is_401(
    fleet: Fleet,
) -> None:
    """Everything right but the key: an attacker's own key, with a key id of its own."""
    rogue = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    claims = {
        "iss": fleet.auth.issuer,
        "aud": fleet.resource,
        "sub": "mallory",
        "client_id": "full",
        "scope": "mcp:all",
        "iat": now,
        "exp": now + 300,
    }
    token = jwt.encode(claims, rogue, algorithm="ES256", headers={"kid": "ES256-rogue"})
    response = await refused(fleet, token)
    assert "a key its issuer does not publish" in response.json()["error"]["reason"]
    same_kid = jwt.encode(claims, rogue, algorithm="ES256", headers={"kid": "ES256-g1"})
    response = await refused(fleet, same_kid)  # a published key id does not help either
    assert "signature does not verify" in response.json()["error"]["reason"]


async def test_a_token_whose_rules_grant_nothing_is_403_insufficient_scope(
    fleet: Fleet,
) -> None:
    async with fleet.gateway.http(await fleet.token("nothing")) as http:
        response = await http.get("/api/v1/servers")
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp:all mcp:echo mcp:read"' in challenge
    assert "grants no access" in response.json()["error"]["reason"]


# ---------------------------------------------------------------------- discovery


async def test_the_metadata_lists_the_authorization_server_and_scopes(fleet: Fleet) -> None:
    async with fleet.gateway.http() as http:
        suffixed = await http.get(METADATA)
        root = await http.get("/.well-known/oauth-protected-resource")
        challenge = (await http.post("/mcp", json={})).headers["www-authenticate"]
    document = suffixed.json()
    assert root.json() == document
    assert document["resource"] == fleet.resource
    assert document["authorization_servers"] == [fleet.auth.issuer]
    assert document["scopes_supported"] == ["mcp:all", "mcp:echo", "mcp:read"]
    assert document["bearer_methods_supported"] == ["header"]
    assert challenge == (
        f'Bearer resource_metadata="{fleet.gateway.url}{METADATA}", '
        'scope="mcp:all mcp:echo mcp:read"'
    )


# ---------------------------------------------------------------------- rotation


async def test_a_key_rotation_at_the_provider_is_picked_up_without_a_restart(
    fleet: Fleet,
) -> None:
    before = await fleet.token("full")
    kid = jwt.get_unverified_header(before)["kid"]
    fetched = (await fleet.auth.stats())["jwks"]
    kids = await fleet.auth.rotate()
    after = await fleet.token("full")
    assert jwt.get_unverified_header(after)["kid"] != kid
    assert jwt.get_unverified_header(after)["kid"] in kids
    async with fleet.gateway.http(after) as http:
        assert (await http.get("/api/v1/servers")).status_code == 200
    async with fleet.gateway.http(before) as http:  # the old key is still published
        assert (await http.get("/api/v1/servers")).status_code == 200
    assert (await fleet.auth.stats())["jwks"] == fetched + 1


# ---------------------------------------------------------------------- per-tool access


async def test_scopes_limit_tools_list_to_the_granted_tools(fleet: Fleet) -> None:
    echo_only = await tool_names(fleet, await fleet.token("echo-only"))
    assert echo_only == {"everything__echo", "find_tools"}
    reader = await tool_names(fleet, await fleet.token("reader"))
    assert {"everything__echo", "everything__get-sum", "headers__read_note"} <= reader
    assert "headers__write_note" not in reader
    assert "everything__toggle-simulated-logging" not in reader
    sre = await tool_names(fleet, await fleet.token("sre"))  # granted by a claim, not a scope
    assert sre == {"headers__read_note", "headers__write_note", "find_tools"}


async def test_scopes_limit_find_tools(fleet: Fleet) -> None:
    async def found(client: str) -> list[str]:
        async with fleet.gateway.mcp(await fleet.token(client)) as session:
            result = await session.call_tool("find_tools", {"query": "write a note", "k": 10})
        assert not result.is_error, text_of(result)
        return [t["name"] for t in result.structured_content["tools"]]

    everything = await found("full")
    assert "headers__write_note" in everything
    reader = await found("reader")
    assert reader and "headers__write_note" not in reader
    assert await found("echo-only") == ["everything__echo"]


async def test_calls_outside_the_grants_are_refused_on_every_path(fleet: Fleet) -> None:
    token = await fleet.token("reader")
    allowed = await rest_call(fleet, token, "headers", "read_note", {})
    assert allowed.status_code == 200
    refused_rest = await rest_call(
        fleet, token, "headers", "write_note", {"name": "a", "text": "b"}
    )
    assert refused_rest.status_code == 403
    assert refused_rest.json()["error"]["tool"] == "write_note"
    assert "only read-only tools" in refused_rest.json()["error"]["reason"]
    challenge = refused_rest.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="mcp:all"' in challenge
    assert f'resource_metadata="{fleet.gateway.url}{METADATA}"' in challenge
    for mode in ("legacy", "2026-07-28"):  # the SDK path, and the fast path's headers
        async with fleet.gateway.mcp(token, mode=mode) as client:
            ok = await client.call_tool("headers__read_note", {})
            assert text_of(ok) == "note today: nothing new"
            with pytest.raises(MCPError) as raised:
                await client.call_tool("headers__write_note", {"name": "a", "text": "b"})
        assert "read-only" in raised.value.error.message, mode


async def test_a_2026_call_out_of_scope_is_refused_from_its_headers_with_the_challenge(
    fleet: Fleet,
) -> None:
    token = await fleet.token("echo-only")
    async with fleet.gateway.http(token) as http:
        response = await http.post(
            "/mcp",
            content=b"never parsed",
            headers={
                "Mcp-Method": "tools/call",
                "Mcp-Name": "everything__get-sum",
                "MCP-Protocol-Version": "2026-07-28",
                "Accept": "application/json, text/event-stream",
            },
        )
    assert response.status_code == 403
    assert response.json()["error"]["data"]["tool"] == "get-sum"
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="mcp:all mcp:read"' in challenge  # the scopes whose rules cover get-sum


async def test_the_registry_view_shows_only_the_granted_servers_and_tools(fleet: Fleet) -> None:
    async with fleet.gateway.http(await fleet.token("echo-only")) as http:
        servers = (await http.get("/api/v1/servers")).json()["servers"]
    assert [(s["name"], [t["name"] for t in s["tools"]]) for s in servers] == [
        ("everything", ["echo"])
    ]


# ---------------------------------------------------------------------- identity


async def test_audit_rows_record_the_subject_and_client_id(
    fleet: Fleet, module_db: Database
) -> None:
    token = await fleet.token("sre")
    await rest_call(fleet, token, "headers", "read_note", {"name": "audit-rest"})
    for mode in ("legacy", "2026-07-28"):
        async with fleet.gateway.mcp(token, mode=mode) as client:
            await client.call_tool("headers__read_note", {"name": f"audit-{mode}"})
    await fleet.gateway.app.state.audit.flush()
    async with module_db.connection() as conn:
        cur = await conn.execute(
            "SELECT client, subject, client_id, tool FROM audit_log WHERE client = 'homelab:sre'"
        )
        rows = await cur.fetchall()
    assert len(rows) == 3
    assert {(client, subject, client_id) for client, subject, client_id, _ in rows} == {
        ("homelab:sre", "sre", "sre")
    }


async def test_no_upstream_ever_receives_the_callers_access_token(fleet: Fleet) -> None:
    token = await fleet.token("full")
    before = len(fleet.headers_received())
    await rest_call(fleet, token, "headers", "read_note", {})
    for mode in ("legacy", "2026-07-28"):
        async with fleet.gateway.mcp(token, mode=mode) as client:
            await client.call_tool("headers__read_note", {})
    async with fleet.gateway.http(token) as http:
        answer = await http.post("/api/v1/query", json={"text": "read the note today"})
    assert answer.status_code == 200, answer.text
    received = fleet.headers_received()[before:]
    assert len(received) >= 3
    agents = {h.get("user-agent", "").split("/")[0] for h in received}
    assert any("aiohttp" in h.get("user-agent", "") for h in received), agents  # fast path
    assert any("aiohttp" not in h.get("user-agent", "") for h in received), agents  # SDK
    for headers in received:
        assert "authorization" not in headers, headers
        assert not any(token in value or token[:40] in value for value in headers.values())


# ---------------------------------------------------------------------- the MCP client's OAuth


class MemoryTokens:
    """The MCP client's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def test_the_official_mcp_client_completes_its_oauth_flow_on_its_own(
    fleet: Fleet,
) -> None:
    """401 → RFC 9728 metadata → RFC 8414 metadata → client credentials with the resource
    indicator and the challenged scopes → the token works: no mcpfleet knowledge needed."""
    storage = MemoryTokens()
    sdk = next(c for c in CLIENTS if c.client_id == "sdk")
    provider = ClientCredentialsOAuthProvider(
        server_url=fleet.resource,
        storage=storage,
        client_id=sdk.client_id,
        client_secret=sdk.client_secret,
        issuer=fleet.auth.issuer,
    )
    async with (
        httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(30.0)) as http,
        Client(streamable_http_client(fleet.resource, http_client=http)) as client,
    ):
        names = {t.name for t in (await client.list_tools()).tools}
    assert "everything__echo" in names and "headers__write_note" in names
    assert storage.tokens is not None
    claims = jwt.decode(storage.tokens.access_token, options={"verify_signature": False})
    assert claims["aud"] == fleet.resource and claims["client_id"] == "sdk"
    assert set(claims["scope"].split()) == {"mcp:all", "mcp:echo", "mcp:read"}


# ---------------------------------------------------------------------- the provider away


def lone_gateway(
    settings: Settings, everything: Peer, issuer: Issuer, port: int
) -> AbstractAsyncContextManager[RunningGateway]:
    """A gateway of its own (so a test may take its issuer away), keys kept 24 h."""
    oauth = ResourceServer(
        resource=f"http://127.0.0.1:{port}/mcp", issuers=(issuer,), key_retry_gap=0.5
    )
    servers = (ServerSpec("everything", (EndpointSpec("streamable-http", url=everything.url),)),)
    # The module's other gateway spends the same client's rate budget in this database.
    config = GatewayConfig(
        servers, PoolSettings(health_interval=60), requests_per_minute=100_000, oauth=oauth
    )
    return run_gateway(settings, config, port=port)


async def test_the_provider_going_away_does_not_break_tokens_whose_keys_are_cached(
    module_settings: Settings, everything_http: Peer, tmp_path: Path
) -> None:
    """How long they stay trusted (``keepKeysFor``) is test_keys.py's, on a clock it holds."""
    port = unused_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    auth = AuthorizationServer(
        tmp_path, resources={resource: "mcp:all"}, clients=[OAuthClient("full", "mcp:all")]
    ).start()
    try:
        async with lone_gateway(
            module_settings, everything_http, issuer_for(auth), port
        ) as gateway:
            token = await auth.token("full", resource)
            async with gateway.http(token) as http:
                assert (await http.get("/api/v1/servers")).status_code == 200
                auth.kill()
                still = await http.get("/api/v1/servers")
                async with gateway.mcp(token) as client:
                    echoed = await client.call_tool("everything__echo", {"message": "idp down"})
    finally:
        auth.stop()
    assert still.status_code == 200
    assert text_of(echoed) == "Echo: idp down"


async def test_an_issuer_whose_keys_cannot_be_had_is_503_not_401(
    module_settings: Settings, everything_http: Peer
) -> None:
    """Not the client's fault: its token may be fine, the gateway cannot check it now."""
    port = unused_port()
    gone = Issuer.model_validate(
        {
            "name": "gone",
            "issuer": f"http://127.0.0.1:{unused_port()}/realms/gone",
            "access": [{"scope": "mcp:all", "allow": ["*"]}],
        }
    )
    key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    claims = {
        "iss": gone.issuer,
        "aud": f"http://127.0.0.1:{port}/mcp",
        "sub": "someone",
        "scope": "mcp:all",
        "iat": now,
        "exp": now + 300,
    }
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})
    async with (
        lone_gateway(module_settings, everything_http, gone, port) as gateway,
        gateway.http(token) as http,
    ):
        response = await http.get("/api/v1/servers")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "issuer_unavailable"
    assert "unreachable" in response.json()["error"]["reason"]
    assert response.headers["retry-after"] == "10"
