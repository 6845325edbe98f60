"""`mcpfleet token create|list|revoke` as an operator and a script run them."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcpfleet.cli import app
from runtime.db import Database, EmbeddedPostgres
from runtime.store import Principal, TokenRevoked, TokenStore

from ..conftest import SHIPPED_CATALOG

runner = CliRunner()


@pytest.fixture
def cli_env(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI reads DATABASE_URL and the catalog location from the environment."""
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("MCPFLEET_CATALOG", str(SHIPPED_CATALOG))
    return pg_url


def _verify(url: str, token: str, embedding_dim: int = 384) -> Principal:
    async def check() -> Principal:
        db = await Database.open(url, embedding_dim=embedding_dim, run_migrations=False)
        try:
            return await TokenStore(db, cache_ttl=0).verify(token)
        finally:
            await db.close()

    return asyncio.run(check())


def test_create_prints_only_the_token_and_it_verifies_with_its_scopes(cli_env: str) -> None:
    result = runner.invoke(app, ["token", "create", "--name", "ci", "--scopes", "adguard,caddy"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcpf_")
    principal = _verify(cli_env, lines[0])
    assert principal.name == "ci" and principal.scopes == frozenset({"adguard", "caddy"})
    assert principal.expires_at is not None  # the catalog's tokenLifetime, 30d
    lifetime = principal.expires_at - datetime.now(UTC)
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)
    assert "will not be shown again" in result.stderr


def test_scopes_can_name_tools_and_read_only_access(cli_env: str) -> None:
    """The grant grammar the catalog's issuer rules use: patterns, and ``:ro``."""
    grants = "kubernetes-prod:pods_*:ro,proxmox-*:*:ro,adguard"
    result = runner.invoke(app, ["token", "create", "--name", "ops", "--scopes", grants])
    assert result.exit_code == 0, result.output
    principal = _verify(cli_env, result.stdout.strip())
    assert principal.scopes == frozenset(grants.split(","))
    assert principal.allows_tool("kubernetes-prod", "pods_list", read_only=True)
    assert not principal.allows_tool("kubernetes-prod", "pods_list", read_only=False)
    assert principal.allows_tool("proxmox-ruapehu", "vm_status", read_only=True)


def test_a_service_token_is_marked_so_in_the_store_and_the_list(cli_env: str) -> None:
    created = runner.invoke(app, ["token", "create", "--name", "triage", "--service"])
    plain = runner.invoke(app, ["token", "create", "--name", "laptop"])
    assert created.exit_code == 0 and plain.exit_code == 0, created.output + plain.output
    assert _verify(cli_env, created.stdout.strip()).service is True
    assert _verify(cli_env, plain.stdout.strip()).service is False
    rows = {
        line.split("│")[1].strip(): line
        for line in runner.invoke(app, ["token", "list"]).stdout.splitlines()
        if line.startswith("│")
    }
    assert "yes" in rows["triage"] and "yes" not in rows["laptop"]


def test_admin_grants_the_admin_scope_and_list_shows_it(cli_env: str) -> None:
    made = runner.invoke(app, ["token", "create", "--name", "ops", "--admin"])
    plain = runner.invoke(app, ["token", "create", "--name", "bot"])
    assert made.exit_code == 0 and plain.exit_code == 0, made.output + plain.output
    assert _verify(cli_env, made.stdout.strip()).admin
    assert not _verify(cli_env, plain.stdout.strip()).admin
    listed = runner.invoke(app, ["token", "list"]).stdout
    rows = {line.split()[1]: line for line in listed.splitlines() if line.startswith("│ ")}
    assert "yes" in rows["ops"] and "yes" not in rows["bot"]


def test_ttl_can_be_set_or_switched_off(cli_env: str) -> None:
    short = runner.invoke(app, ["token", "create", "--name", "short", "--ttl", "12h"])
    forever = runner.invoke(app, ["token", "create", "--name", "forever", "--ttl", "never"])
    short_expiry = _verify(cli_env, short.stdout.strip()).expires_at
    assert short_expiry is not None and short_expiry - datetime.now(UTC) <= timedelta(hours=12)
    assert _verify(cli_env, forever.stdout.strip()).expires_at is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scopes", "adguard,nope"], "unknown server(s) in --scopes: nope"),
        (["--ttl", "soon"], "--ttl: not a duration"),
        (["--scopes", ","], "empty scope list"),
        (["--scopes", "adguard:ro"], "write `adguard:*:ro`"),
        (["--scopes", "grafana:query_*"], "unknown server(s) in --scopes: grafana"),
    ],
)
def test_bad_input_exits_1_with_a_reason_and_prints_no_token(
    cli_env: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["token", "create", "--name", "x", *args])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert message in " ".join(result.stderr.split())


def test_list_shows_tokens_without_secrets_and_revoke_ends_them(cli_env: str) -> None:
    token = runner.invoke(app, ["token", "create", "--name", "laptop"]).stdout.strip()
    listed = runner.invoke(app, ["token", "list"])
    assert listed.exit_code == 0
    assert "laptop" in listed.stdout and token[:12] in listed.stdout
    assert token not in listed.stdout

    duplicate = runner.invoke(app, ["token", "create", "--name", "laptop"])
    assert duplicate.exit_code == 1 and "revoke it first" in duplicate.stderr

    revoked = runner.invoke(app, ["token", "revoke", "laptop"])
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(TokenRevoked):
        _verify(cli_env, token)
    assert "laptop" not in runner.invoke(app, ["token", "list"]).stdout
    assert "laptop" in runner.invoke(app, ["token", "list", "--all"]).stdout

    again = runner.invoke(app, ["token", "revoke", "laptop"])
    assert again.exit_code == 1 and "no live token named 'laptop'" in again.stderr


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="mcpfleet-test-cli-"))
    yield path
    EmbeddedPostgres(path).stop(force=True)
    shutil.rmtree(path, ignore_errors=True)


def test_without_database_url_the_embedded_server_in_the_data_dir_is_used(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    args = ["--data-dir", str(data_dir), "--catalog", str(SHIPPED_CATALOG)]
    result = runner.invoke(app, ["token", "create", "--name", "local", *args])
    assert result.exit_code == 0, result.output
    assert EmbeddedPostgres(data_dir).status() is None  # started for the command, then stopped

    server = EmbeddedPostgres(data_dir)
    server.start()
    try:
        assert _verify(server.url(), result.stdout.strip()).name == "local"
    finally:
        server.stop()
