"""Token lifecycle against the real database: issue, verify, expire, revoke, scope."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime.db import Database
from runtime.store import (
    Principal,
    TokenExpired,
    TokenInvalid,
    TokenMissing,
    TokenNameTaken,
    TokenNotFound,
    TokenRevoked,
    TokenStore,
)
from runtime.store.tokens import hash_token


class FakeClock:
    """A monotonic clock the test moves by hand, so cache expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_created_token_verifies_as_its_name_and_scopes(db: Database) -> None:
    store = TokenStore(db)
    issued = await store.create("ci-bot", scopes=["adguard", "caddy"], ttl=timedelta(days=30))
    principal = await store.verify(issued.token)
    assert principal.name == "ci-bot"
    assert principal.scopes == frozenset({"adguard", "caddy"})
    assert principal.allows("caddy") and not principal.allows("opnsense")
    assert issued.token.startswith("mcpf_") and len(issued.token) == 48


async def test_a_token_without_scopes_allows_every_server(db: Database) -> None:
    store = TokenStore(db)
    principal = await store.verify((await store.create("admin")).token)
    assert principal.scopes is None
    assert principal.allows("anything")


async def test_only_the_hash_and_a_short_prefix_are_stored(db: Database) -> None:
    store = TokenStore(db)
    issued = await store.create("stored")
    async with db.connection() as conn:
        cur = await conn.execute("SELECT token_hash, prefix FROM api_tokens")
        rows = await cur.fetchall()
        dump = await conn.execute("SELECT row_to_json(t)::text FROM api_tokens t")
        text = (await dump.fetchone() or ("",))[0]
    assert rows == [(hash_token(issued.token), issued.token[:12])]
    assert issued.token not in text
    assert issued.token not in repr(issued)


async def test_missing_malformed_and_unknown_tokens_are_refused_with_their_reason(
    db: Database,
) -> None:
    store = TokenStore(db)
    with pytest.raises(TokenMissing):
        await store.verify(None)
    with pytest.raises(TokenMissing):
        await store.verify("")
    with pytest.raises(TokenInvalid):
        await store.verify("Bearer something")
    with pytest.raises(TokenInvalid) as unknown:
        await store.verify("mcpf_" + "A" * 43)
    assert unknown.value.reason == "invalid"


async def test_an_expired_token_is_refused_even_from_the_cache(db: Database) -> None:
    store = TokenStore(db, cache_ttl=3600)
    issued = await store.create("short-lived", ttl=timedelta(hours=1))
    assert (await store.verify(issued.token)).name == "short-lived"  # now cached
    async with db.connection() as conn:
        await conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    with pytest.raises(TokenExpired):
        await TokenStore(db).verify(issued.token)  # a fresh replica asks the database
    principal = await store.verify(issued.token)  # the cached copy still carries the old expiry
    assert principal.expires_at is not None
    object.__setattr__(principal, "expires_at", principal.expires_at - timedelta(hours=2))
    with pytest.raises(TokenExpired) as expired:
        await store.verify(issued.token)
    assert expired.value.reason == "expired"


async def test_revocation_in_another_replica_takes_effect_within_the_cache_ttl(
    db: Database,
) -> None:
    clock = FakeClock()
    gateway_a = TokenStore(db, cache_ttl=5.0, clock=clock)
    gateway_b = TokenStore(db, cache_ttl=5.0, clock=clock)
    issued = await gateway_a.create("laptop")
    await gateway_a.verify(issued.token)

    await gateway_b.revoke("laptop")
    with pytest.raises(TokenRevoked):
        await gateway_b.verify(issued.token)  # the revoking replica: at once
    clock.now += 4.9
    assert (await gateway_a.verify(issued.token)).name == "laptop"  # inside the window
    clock.now += 0.2
    with pytest.raises(TokenRevoked) as revoked:
        await gateway_a.verify(issued.token)  # past the window: refused
    assert revoked.value.reason == "revoked"


async def test_a_cached_check_costs_no_database_round_trip(db: Database) -> None:
    store = TokenStore(db, cache_ttl=60)
    issued = await store.create("busy")
    await store.verify(issued.token)
    async with db.connection() as conn:
        await conn.execute("DELETE FROM api_tokens")  # the row is gone ...
    assert (await store.verify(issued.token)).name == "busy"  # ... and memory still answers


async def test_a_live_name_cannot_be_issued_twice_but_can_after_revocation(
    db: Database,
) -> None:
    store = TokenStore(db)
    first = await store.create("deploy")
    with pytest.raises(TokenNameTaken, match="revoke it first"):
        await store.create("deploy")
    await store.revoke("deploy")
    second = await store.create("deploy")
    assert (await store.verify(second.token)).name == "deploy"
    with pytest.raises(TokenRevoked):
        await store.verify(first.token)
    with pytest.raises(TokenNotFound):
        await store.revoke("nobody")


async def test_listing_shows_live_tokens_without_secrets_and_revoked_on_request(
    db: Database,
) -> None:
    store = TokenStore(db)
    kept = await store.create("kept", scopes=["unifi"])
    await store.create("gone")
    await store.revoke("gone")
    await store.verify(kept.token)
    live = await store.list_tokens()
    assert [(t.name, t.scopes, t.prefix) for t in live] == [("kept", ["unifi"], kept.token[:12])]
    assert live[0].last_used_at is not None
    everything = await store.list_tokens(include_revoked=True)
    assert [(t.name, t.revoked_at is not None) for t in everything] == [
        ("gone", True),
        ("kept", False),
    ]


@pytest.mark.parametrize(
    ("name", "scopes", "ttl", "message"),
    [
        ("", None, None, "token name"),
        ("has space", None, None, "token name"),
        ("ok", [], None, "empty scope list"),
        ("ok", ["Not_A_Server"], None, "Not_A_Server"),
        ("ok", ["grafana:ro"], None, "write `grafana:\\*:ro`"),
        ("ok", None, timedelta(0), "ttl must be positive"),
    ],
)
async def test_bad_creation_input_is_refused_with_a_clear_message(
    db: Database,
    name: str,
    scopes: list[str] | None,
    ttl: timedelta | None,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        await TokenStore(db).create(name, scopes=scopes, ttl=ttl)


async def test_a_token_can_be_scoped_to_tools_with_the_grant_grammar(db: Database) -> None:
    """One grammar for mcpfleet tokens and access tokens: servers, tool patterns, ``:ro``."""
    store = TokenStore(db)
    issued = await store.create("pods-reader", scopes=["kubernetes-prod:pods_*:ro", "adguard"])
    principal = await store.verify(issued.token)
    assert principal.scopes == frozenset({"kubernetes-prod:pods_*:ro", "adguard"})
    assert principal.allows("kubernetes-prod") and principal.allows("adguard")
    assert not principal.allows("caddy")
    assert principal.allows_tool("kubernetes-prod", "pods_list", read_only=True)
    assert not principal.allows_tool("kubernetes-prod", "pods_delete", read_only=False)
    assert not principal.allows_tool("kubernetes-prod", "secrets_list", read_only=True)
    assert principal.allows_tool("adguard", "set_rules", read_only=False)
    assert principal.allows_every_tool("adguard") and not principal.allows_every_tool(
        "kubernetes-prod", read_only=True
    )
    assert principal.subject is None and principal.client_id is None and principal.issuer is None


def test_an_unrestricted_principal_allows_every_tool() -> None:
    everyone = Principal("all", None, None)
    assert everyone.allows("x") and everyone.allows_tool("x", "y", read_only=False)
    assert everyone.allows_every_tool("x", read_only=False)


async def test_the_admin_scope_is_granted_only_when_asked_and_is_not_a_server(db: Database) -> None:
    store = TokenStore(db, cache_ttl=0)
    admin = await store.create("operator", admin=True, scopes=["homelab"])
    plain = await store.create("reader")
    principal = await store.verify(admin.token)
    assert principal.admin and principal.allows("homelab") and not principal.allows("admin")
    assert not (await store.verify(plain.token)).admin
    listed = {t.name: t.admin for t in await store.list_tokens()}
    assert listed == {"operator": True, "reader": False}
    assert admin.info.admin and not plain.info.admin
