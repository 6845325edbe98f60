"""`mcpfleet up` started as a user starts it, queried over HTTP and MCP, then stopped.

Everything is real: the embedded PostgreSQL, the gateway's stdio upstreams (the npm
reference server and the repo's Python example server), the local embedding model,
discovery's file source. Only the port and the data directory are the test's own.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import httpx2
import psutil
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from runtime.db import open_database
from runtime.settings import Settings
from tests.ports import unused_port
from tests.runtime.gateway.oauth.authorization_server import AuthorizationServer, OAuthClient

REPO = Path(__file__).resolve().parents[2]
MCPFLEET = [sys.executable, "-m", "mcpfleet"]
START_DEADLINE = 180.0


@dataclass
class Fleet:
    process: subprocess.Popen[str]
    url: str
    data_dir: Path
    output: list[str]
    pump: threading.Thread
    issuer: AuthorizationServer

    @property
    def token(self) -> str:
        return (self.data_dir / "token").read_text().strip()

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)


def _collect(process: subprocess.Popen[str], lines: list[str]) -> threading.Thread:
    """Copy the process's output into ``lines`` as it arrives (a thread: pipes block)."""

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def _wait_for(marker: str, process: subprocess.Popen[str], lines: list[str]) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline and process.poll() is None:
        if any(marker in line for line in lines):
            return
        time.sleep(0.1)
    raise AssertionError(f"`mcpfleet up` never said {marker!r}:\n" + "\n".join(lines))


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    # not under pytest's tmp tree: pytest resets it to 0700, which the embedded
    # PostgreSQL's system user could then no longer traverse
    root = Path(tempfile.mkdtemp(prefix="mcpfleet-up-test-"))
    data_dir = root / "state"
    port = unused_port()
    # an identity provider for `--issuer`: real oidc-provider, tokens for this fleet's /mcp
    issuer = AuthorizationServer(
        root / "oidc",
        resources={f"http://127.0.0.1:{port}/mcp": "mcp:echo"},
        clients=[OAuthClient("laptop-agent", "mcp:echo")],
    ).start()
    env = {**os.environ, "COLUMNS": "200", "MCPFLEET_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    # as CI runs it: no virtual environment on PATH, so `python` must not be needed there
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)
    )
    env.pop("VIRTUAL_ENV", None)
    process = subprocess.Popen(
        [
            *MCPFLEET,
            "up",
            "--port",
            str(port),
            "--proposals",
            "off",
            "--issuer",
            issuer.issuer,
            "--grant",
            "mcp:echo=everything:echo",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    pump = _collect(process, lines)
    try:
        _wait_for("Ctrl-C stops everything", process, lines)
        yield Fleet(process, f"http://127.0.0.1:{port}", data_dir, lines, pump, issuer)
    finally:
        issuer.stop()
        if process.poll() is None:
            process.kill()
            process.wait(10)
        pump.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)


def test_up_prints_the_endpoints_the_token_and_healthy_local_servers(fleet: Fleet) -> None:
    text = "\n".join(fleet.output)
    assert (
        "catalog catalog: 10 catalog servers + 2 local servers (catalog/local/servers); "
        "running on this machine: everything, homelab"
    ) in text, "the same 10 that `mcpfleet catalog validate` counts, and the overlay"
    assert f"mcpfleet local fleet is up at {fleet.url}" in text
    assert f"{fleet.url}/mcp" in text
    assert fleet.token.startswith("mcpf_") and fleet.token in text
    assert "everything: healthy" in text
    assert "homelab: healthy" in text
    assert oct((fleet.data_dir / "token").stat().st_mode & 0o777) == "0o600"


def test_what_stdio_servers_write_to_stderr_goes_to_the_log_not_the_terminal(
    fleet: Fleet,
) -> None:
    """server-everything announces itself on stderr; that line belongs in mcpfleet.log."""
    assert not any("Starting default (STDIO) server" in line for line in fleet.output)
    records = [
        json.loads(line)
        for line in (fleet.data_dir / "mcpfleet.log").read_text().splitlines()
        if line.strip()
    ]
    assert {"msg": "Starting default (STDIO) server...", "server": "everything"}.items() <= next(
        r for r in records if "Starting default" in r["msg"]
    ).items()


def test_a_question_works_out_of_the_box_through_mcpfleet_query(fleet: Fleet) -> None:
    result = subprocess.run(
        [*MCPFLEET, "query", "how much disk space is free on /", "--json", "--url", fleet.url],
        cwd=REPO,
        env={**os.environ, "MCPFLEET_DATA_DIR": str(fleet.data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["route"] == "tool"
    assert body["servers"] == ["homelab"]
    assert "free_bytes" in json.dumps(body["result"])
    # The README's second question: the user names the tool and its arguments.
    chosen = subprocess.run(
        [*MCPFLEET, "query", "add 2 and 3", "--tool", "everything/get-sum", "--arg", "a=2",
         "--arg", "b=3", "--json", "--url", fleet.url],
        cwd=REPO, env={**os.environ, "MCPFLEET_DATA_DIR": str(fleet.data_dir)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["servers"] == ["everything"]
    assert "5" in json.dumps(json.loads(chosen.stdout)["result"])


def test_the_rest_api_lists_servers_and_calls_a_tool(fleet: Fleet) -> None:
    headers = {"Authorization": f"Bearer {fleet.token}"}
    with httpx.Client(base_url=fleet.url, headers=headers, timeout=30) as http:
        assert (
            http.get("/api/v1/servers", headers={"Authorization": "Bearer nope"}).status_code == 401
        )
        names = {s["name"] for s in http.get("/api/v1/servers").json()["servers"]}
        assert {"everything", "homelab"} <= names
        echoed = http.post("/api/v1/mcp/everything/tools/echo", json={"message": "fleet"})
        assert echoed.status_code == 200, echoed.text
        assert "fleet" in json.dumps(echoed.json())
        registry = http.get("/v0/servers").json()
        assert registry["metadata"]["count"] >= 2


def test_an_mcp_client_sees_the_federated_tools_and_find_tools(fleet: Fleet) -> None:
    async def session() -> tuple[set[str], str]:
        headers = {"Authorization": f"Bearer {fleet.token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0)) as http,
            Client(streamable_http_client(f"{fleet.url}/mcp", http_client=http)) as client,
        ):
            tools = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("find_tools", {"query": "disk usage", "k": 3})
            return tools, json.dumps(found.structured_content)

    tools, found = asyncio.run(session())
    assert {"everything__echo", "homelab__disk_usage", "find_tools"} <= tools
    assert "homelab__disk_usage" in found


def test_up_accepts_access_tokens_from_the_issuer_it_was_pointed_at(fleet: Fleet) -> None:
    """``mcpfleet up --issuer URL --grant SCOPE=GRANTS``: the scope limits the tools."""
    text = "\n".join(fleet.output)
    assert f"issuer     {fleet.issuer.issuer}: tokens for {fleet.url}/mcp (mcp:echo)" in text
    token = asyncio.run(fleet.issuer.token("laptop-agent", f"{fleet.url}/mcp"))

    async def tools() -> set[str]:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
            Client(streamable_http_client(f"{fleet.url}/mcp", http_client=http)) as client,
        ):
            return {t.name for t in (await client.list_tools()).tools}

    assert asyncio.run(tools()) == {"everything__echo", "find_tools"}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=fleet.url, headers=headers, timeout=30) as http:
        echoed = http.post("/api/v1/mcp/everything/tools/echo", json={"message": "jwt"})
        refused = http.post("/api/v1/mcp/homelab/tools/disk_usage", json={})
        metadata = http.get("/.well-known/oauth-protected-resource/mcp").json()
    assert echoed.status_code == 200 and refused.status_code == 403
    assert metadata["authorization_servers"] == [fleet.issuer.issuer]
    assert metadata["resource"] == f"{fleet.url}/mcp"


def test_the_seeds_example_requests_work_against_the_local_fleet(fleet: Fleet) -> None:
    """The plan's curl examples (docs/seed.md), sent as curl sends them: ``-d`` without a
    Content-Type labels the JSON a form; the bearer token is the one `make up` printed."""
    curl_d = {"Content-Type": "application/x-www-form-urlencoded"}
    auth = {"Authorization": f"Bearer {fleet.token}"}
    with httpx.Client(base_url=fleet.url, timeout=60) as http:
        assert http.get("/health").status_code == 200  # ab -n 1000 -c 10 …/health
        metrics = http.get("/api/v1/metrics")
        assert metrics.status_code == 200 and "mcp_requests_total" in metrics.text
        query = http.post(
            "/api/v1/query",
            content=b'{"text": "Show me pods in namespace monitoring"}',
            headers={**curl_d, **auth},
        )
        assert query.status_code == 200, query.text
        assert query.json()["route"] in {"tool", "direct", "escalate", "context"}
        embed = http.post(
            "/api/v1/embed", content=b'{"text": "test query"}', headers={**curl_d, **auth}
        )
        assert embed.status_code == 200, embed.text
        assert embed.json()["dimension"] == 384
        direct = http.post(
            "/api/v1/query",
            content=b'{"server": "everything", "tool": "echo", "args": {"message": "seed"}}',
            headers={**curl_d, **auth},
        )
        assert direct.status_code == 200, direct.text
        assert direct.json()["content"] == [{"type": "text", "text": "Echo: seed"}]
        pr = http.post(
            "/api/v1/create-pr",
            content=b'{"server_name": "test-mcp", "type": "standard", "endpoint": "http://test:8080"}',
            headers={**curl_d, **auth},
        )
        # this fleet was started with `--proposals off`; the route is there and says so
        assert (pr.status_code, pr.json()["error"]["code"]) == (503, "proposals_off")


def test_sigint_stops_everything_cleanly_and_keeps_every_record(fleet: Fleet) -> None:
    children = fleet.descendants()
    assert children, "the gateway's stdio servers run as children"
    fleet.process.send_signal(signal.SIGINT)
    assert fleet.process.wait(timeout=60) == 0, "\n".join(fleet.output)
    fleet.pump.join(timeout=10)
    assert "stopped cleanly" in "\n".join(fleet.output)
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"left running: {[p.cmdline() for p in alive]}"

    async def counts() -> tuple[int, int, int]:
        settings = Settings(data_dir=fleet.data_dir, catalog=REPO / "catalog")
        async with open_database(settings) as db, db.connection() as conn:
            audit = await (
                await conn.execute(
                    "SELECT count(*) FROM audit_log WHERE server = 'everything' AND tool = 'echo'"
                )
            ).fetchone()
            history = await (await conn.execute("SELECT count(*) FROM query_history")).fetchone()
            by_token = await (
                await conn.execute(
                    "SELECT count(*) FROM audit_log WHERE client = 'cli:laptop-agent' "
                    "AND subject = 'laptop-agent' AND client_id = 'laptop-agent'"
                )
            ).fetchone()
            return int(audit[0]), int(history[0]), int(by_token[0])

    audit, history, by_access_token = asyncio.run(counts())
    assert audit >= 1
    assert history >= 1
    assert by_access_token == 1  # the echo the issuer's token made
