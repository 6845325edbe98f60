"""An issuer's signing keys against a real authorization server (oidc-provider in node):
metadata discovery in the MCP spec's order, rotation picked up by key id, refreshes
rate-limited, the last keys kept for a bounded time while the issuer is away.

Time is a controllable clock here, so "ten seconds later" needs no waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from runtime.gateway.oauth import IssuerUnavailable, SigningKeys, metadata_urls
from tests.runtime.gateway.oauth.authorization_server import AuthorizationServer, OAuthClient

RESOURCE = "http://127.0.0.1:9/mcp"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[AuthorizationServer]:
    """One of the test's own: the test may rotate its keys or kill it."""
    server = AuthorizationServer(
        tmp_path, resources={RESOURCE: "mcp:all"}, clients=[OAuthClient("app", "mcp:all")]
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthorizationServer]:
    """For tests that only read: never rotated, never stopped before the module ends."""
    server = AuthorizationServer(
        tmp_path_factory.mktemp("oidc"), resources={RESOURCE: "mcp:all"}, clients=[]
    ).start()
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def test_metadata_locations_follow_the_mcp_specs_order() -> None:
    assert metadata_urls("https://sso.example.com/realms/homelab/") == [
        "https://sso.example.com/.well-known/oauth-authorization-server/realms/homelab",
        "https://sso.example.com/.well-known/openid-configuration/realms/homelab",
        "https://sso.example.com/realms/homelab/.well-known/openid-configuration",
    ]
    assert metadata_urls("https://tenant.auth0.com/") == [
        "https://tenant.auth0.com/.well-known/oauth-authorization-server",
        "https://tenant.auth0.com/.well-known/openid-configuration",
    ]


async def test_keys_are_found_through_rfc_8414_metadata_first(
    provider: AuthorizationServer, http: httpx.AsyncClient
) -> None:
    keys = SigningKeys(provider.issuer, http)
    assert await keys.refresh()
    assert set(keys.key_ids) == {"RS256-g1", "ES256-g1", "EdDSA-g1"}
    assert (await provider.stats())["metadata"] == {
        "/.well-known/oauth-authorization-server/realms/homelab": 1
    }


async def test_an_openid_only_provider_is_found_through_its_own_discovery_document(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    server = AuthorizationServer(
        tmp_path, resources={RESOURCE: "mcp:all"}, clients=[], oauth_metadata=False
    ).start()
    try:
        keys = SigningKeys(server.issuer, http)
        assert await keys.refresh()
        assert len(keys.key_ids) == 3
        assert (await server.stats())["metadata"] == {
            "/realms/homelab/.well-known/openid-configuration": 1
        }
    finally:
        server.stop()


async def test_metadata_naming_another_issuer_is_not_used(
    shared: AuthorizationServer, http: httpx.AsyncClient
) -> None:
    """RFC 8414 §3.3: the issuer must be spelled exactly as the metadata (and `iss`) do."""
    keys = SigningKeys(shared.issuer + "/", http)
    assert not await keys.refresh()
    with pytest.raises(IssuerUnavailable, match="configure the issuer exactly"):
        await keys.candidates("ES256-g1", "ES256")


async def test_a_new_key_id_refreshes_at_once_but_at_most_once_per_gap(
    provider: AuthorizationServer, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    keys = SigningKeys(provider.issuer, http, retry_gap=10, clock=clock)
    assert [k.algorithm_name for k in await keys.candidates("ES256-g1", "ES256")] == ["ES256"]
    assert (await provider.stats())["jwks"] == 1
    await provider.rotate()
    clock.now += 3  # within the gap: the key id is unknown, and no request goes out
    assert await keys.candidates("ES256-g2", "ES256") == []
    assert await keys.candidates("made-up", "ES256") == []
    assert (await provider.stats())["jwks"] == 1
    clock.now += 10  # past it: one look finds the rotated key
    assert len(await keys.candidates("ES256-g2", "ES256")) == 1
    assert await keys.candidates("ES256-g1", "ES256")  # still published beside it
    assert await keys.candidates("made-up", "ES256") == []  # one look per gap, not per token
    assert (await provider.stats())["jwks"] == 2


async def test_a_key_the_issuer_withdrew_stops_verifying_after_the_next_refresh(
    provider: AuthorizationServer, http: httpx.AsyncClient
) -> None:
    keys = SigningKeys(provider.issuer, http)
    assert await keys.candidates("RS256-g1", "RS256")
    await provider.rotate(retire=True)
    assert await keys.refresh()
    assert await keys.candidates("RS256-g1", "RS256") == []
    assert await keys.candidates("RS256-g2", "RS256")


async def test_keys_must_fit_the_tokens_algorithm(
    shared: AuthorizationServer, http: httpx.AsyncClient
) -> None:
    """A key is only ever used with its own algorithm (no RSA key for an ES256 header)."""
    keys = SigningKeys(shared.issuer, http)
    assert await keys.candidates("RS256-g1", "ES256") == []
    assert [k.algorithm_name for k in await keys.candidates(None, "EdDSA")] == ["EdDSA"]


async def test_an_unreachable_issuer_keeps_its_last_keys_for_a_bounded_time(
    provider: AuthorizationServer, http: httpx.AsyncClient
) -> None:
    clock = Clock()
    keys = SigningKeys(provider.issuer, http, keep_for=3600, retry_gap=10, clock=clock)
    assert await keys.candidates("ES256-g1", "ES256")
    provider.kill()
    clock.now += 600
    assert not await keys.refresh()  # the background refresh fails: nothing is lost
    assert await keys.candidates("ES256-g1", "ES256")
    clock.now += 3000  # 3600 s since the last successful fetch
    with pytest.raises(IssuerUnavailable, match="unreachable"):
        await keys.candidates("ES256-g1", "ES256")


async def test_an_issuer_never_reached_is_unavailable_and_not_asked_again_at_once(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    server = AuthorizationServer(tmp_path, resources={RESOURCE: "mcp:all"}, clients=[])
    clock = Clock()
    keys = SigningKeys(server.issuer, http, retry_gap=10, clock=clock)  # never started
    with pytest.raises(IssuerUnavailable, match="unreachable"):
        await keys.candidates("ES256-g1", "ES256")
    server.start()
    try:
        with pytest.raises(IssuerUnavailable):  # within the gap: not asked again
            await keys.candidates("ES256-g1", "ES256")
        assert (await server.stats())["metadata"] == {}
        clock.now += 10
        assert await keys.candidates("ES256-g1", "ES256")
    finally:
        server.stop()
