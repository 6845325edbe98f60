"""The OpenAPI document is the truth: a bounded Schemathesis pass finds no failure.

The gateway runs as ``mcpfleet up`` composes it — gateway, model router, triage,
discovery's registry API and proposals — served by uvicorn on loopback with a real
PostgreSQL, a real token and a real MCP upstream (the ``slow`` SDK server over
streamable HTTP). Schemathesis (from PyPI, its own CLI in a subprocess) reads
``/openapi.json`` and sends a few hundred generated requests, valid and invalid, with
every check it has: documented statuses, content types, headers and response schemas,
valid data accepted and invalid data refused, and routes refusing requests without the
token. The seed is fixed so CI is reproducible; ``MCPFLEET_FUZZ_SEED`` and
``MCPFLEET_FUZZ_EXAMPLES`` explore further by hand.

Nothing leaves the machine: model providers have no keys (skipped) and the local-model
URLs point at a closed loopback port, discovery watches an empty directory, proposals
are off (so no endpoint is probed), and the one upstream is on loopback.

``not_a_server_error`` is told that 502, 503 and 504 are expected: they are the
gateway's documented answers about its dependencies (an upstream that timed out, every
model failing, proposals turned off) — still checked against the document like any
status. A 500 remains a failure.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from catalog.model import Provider
from mcpfleet.composition import discovery_extension, router_extension, triage_extension
from runtime.db import EmbeddedPostgres
from runtime.discovery.config import DiscoveryConfig
from runtime.gateway import GatewayConfig
from runtime.gateway.upstream import EndpointSpec, PoolSettings, ServerSpec
from runtime.settings import Settings
from runtime.store import TokenStore
from tests.catalog.conftest import copy_catalog
from tests.runtime.gateway.peers import python_peer
from tests.runtime.gateway.running import RunningGateway, run_gateway, until

CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens, the refusal is immediate
CONFIG = """\
[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "502", "503", "504"]
"""


@dataclass(frozen=True)
class Fleet:
    gateway: RunningGateway
    token: str

    def http(self) -> httpx.AsyncClient:
        return self.gateway.http(self.token)


@pytest.fixture(scope="module")
async def fleet(
    _databases: Any, pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Fleet]:
    root = tmp_path_factory.mktemp("fuzzed-fleet")
    peer = python_peer("slow", "streamable-http", root).start()
    database = _databases.take(migrated=True)
    with pytest.MonkeyPatch.context() as env:
        catalog = _offline_catalog(root, env)
        settings = Settings(
            database_url=pg_server.url(database), data_dir=root / "data", catalog=catalog
        )
        for provider in settings.loaded_catalog.models.providers:
            assert _offline(provider), provider
        (root / "endpoints").mkdir()
        discovery = DiscoveryConfig(
            kubernetes="off", endpoints_dir=root / "endpoints", proposals="off"
        )
        config = GatewayConfig(
            (ServerSpec("slow", (EndpointSpec("streamable-http", url=peer.url),)),),
            PoolSettings(call_timeout=1.0, health_interval=30),
            requests_per_minute=1_000_000,
        )
        extensions = (
            router_extension(settings),
            triage_extension(settings)[0],
            discovery_extension(settings, discovery),
        )
        try:
            async with run_gateway(settings, config, extensions=extensions) as running:
                token = (await TokenStore(running.app.state.database).create("fuzz")).token
                fleet = Fleet(running, token)
                async with fleet.http() as http:

                    async def triage_ready() -> bool:
                        answer = await http.post("/api/v1/triage", json={"text": "echo hi"})
                        return answer.status_code == 200

                    await until(triage_ready, within=120, what="triage's first tool index")
                yield fleet
        finally:
            peer.stop()
            _databases.drop_later([database])


def _offline_catalog(root: Path, env: pytest.MonkeyPatch) -> Path:
    """The shipped catalog with every model endpoint on a closed loopback port."""
    catalog = copy_catalog(root)
    models = catalog / "models.yaml"
    text = models.read_text()
    for line in text.splitlines():
        if "baseUrl:" in line:
            text = text.replace(line, f"    baseUrl: {CLOSED_PORT}")
    models.write_text(text)
    for name in ("ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY"):
        env.delenv(name, raising=False)
    env.setenv("MCPFLEET_OLLAMA_URL", CLOSED_PORT)
    return catalog


def _offline(provider: Provider) -> bool:
    """A provider the router can only reach on loopback, or not at all (no key)."""
    if provider.type == "local":
        return True  # in-process (the embedding model)
    if provider.base_url is not None:
        return provider.base_url == CLOSED_PORT
    return provider.api_key_env is not None and provider.api_key_env not in os.environ


async def test_the_document_states_the_rules_the_app_enforces(fleet: Fleet) -> None:
    """Issue 11, item 8, case by case: what the document allows is accepted, what it
    refuses is refused, and every answer the guard can give is listed."""
    doc = fleet.gateway.app.openapi()
    paths = doc["paths"]
    for family in (
        "/mcp",
        "/api/v1/mcp/{server}/tools/{tool}",
        "/api/v1/query",
        "/api/v1/complete",
        "/api/v1/proposals",
        "/v0/servers",
        "/api/v1/health",
    ):
        assert family in paths, f"{family} is not in the document, so it would not be fuzzed"
    for path, item in paths.items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert "413" in statuses, (method, path)
            if "security" in operation:
                assert {"401", "403", "429", "503"} <= statuses, (method, path)
            if "requestBody" in operation or operation.get("parameters"):
                assert "400" in statuses, (method, path)
    limit = next(p for p in paths["/v0/servers"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
    cases = [
        ("/mcp", {}, "post", 400),
        ("/api/v1/proposals", {"name": "x", "endpoint": None}, "post", 400),
        ("/api/v1/query", {"text": "hello", "confirm": 0}, "post", 400),
    ]
    async with fleet.http() as http:
        for path, body, method, status in cases:
            assert not _valid(doc, path, method, body), (path, body)
            answer = await http.post(path, json=body)
            assert answer.status_code == status, (path, answer.text)
            assert str(status) in paths[path][method]["responses"]
        bad = await http.get("/v0/servers", params={"limit": 0})
        proposed = await http.post("/api/v1/proposals", json={"name": "x", "endpoint": "http://x"})
    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "code": "bad_request",
        "reason": "limit must be between 1 and 100, got 0",
    }
    assert _valid(doc, "/api/v1/proposals", "post", {"name": "x", "endpoint": "http://x"})
    assert proposed.status_code == 503  # proposals are off here: documented, structured
    assert proposed.json()["error"]["code"] == "proposals_off"


def _valid(doc: dict[str, Any], path: str, method: str, body: Any) -> bool:
    """Whether the document's request schema for the operation accepts ``body``."""
    content = doc["paths"][path][method]["requestBody"]["content"]["application/json"]
    schema = {**content["schema"], "components": doc["components"]}
    return Draft202012Validator(schema).is_valid(body)


async def test_a_bounded_schemathesis_pass_finds_no_failure(fleet: Fleet, tmp_path: Path) -> None:
    token = fleet.token
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    started = time.monotonic()
    url = fleet.gateway.url
    returncode, report = await _schemathesis(url, token, tmp_path)
    if returncode != 0 and _only_internal_errors(report):
        # CPython 3.11 can fail inside Hypothesis' lambda-source parser ("AST constructor
        # recursion depth mismatch"); that is the tool's error, not the app's: run again.
        print(report[-3000:])
        returncode, report = await _schemathesis(url, token, tmp_path)
    (tmp_path / "schemathesis.log").write_text(report)
    print(report[-6000:])  # shown by pytest when the test fails
    print(f"schemathesis took {time.monotonic() - started:.1f}s")
    assert returncode == 0, report[-6000:]
    generated = _count(report, "generated,")
    assert generated >= 200, f"only {generated} cases: the pass is too thin to trust"


async def _schemathesis(url: str, token: str, workdir: Path) -> tuple[int, str]:
    argv = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(workdir / "schemathesis.toml"),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        os.environ.get("MCPFLEET_FUZZ_EXAMPLES", "8"),
        "--seed",
        os.environ.get("MCPFLEET_FUZZ_SEED", "20261203"),
        "--workers",
        "2",
        "--request-timeout",
        "10",
        "--no-shrink",
    ]
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=workdir,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


def _only_internal_errors(report: str) -> bool:
    """Schemathesis stopped on its own runtime error, with no failure of the app found."""
    return "Runtime Error" in report and "Failures:" not in report and " found " not in report


def _count(report: str, label: str) -> int:
    """The number before ``label`` in Schemathesis' summary (e.g. ``752 generated,``)."""
    for line in report.splitlines():
        words = line.split()
        if label in words:
            return int(words[words.index(label) - 1])
    return 0
