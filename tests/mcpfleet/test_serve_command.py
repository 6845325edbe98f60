"""``mcpfleet serve gateway`` as a pod runs it: a real process, SIGTERM to stop.

The catalog is the shipped one plus a local stdio server (``runtime.examples.
homelab_server``), the database the suite's real PostgreSQL. The test calls a tool over
REST, then stops the gateway with SIGTERM and checks the shutdown was graceful: exit 0,
the stdio child reaped, the audit row written, every log line JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from catalog import write_server
from catalog.model import LocalRun, StdioServer
from runtime.db import Database
from runtime.store.tokens import TokenStore
from tests.ports import announced_port, log_reader

MCPFLEET = Path(sys.executable).with_name("mcpfleet")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=env)


def test_serve_gateway_is_a_typer_group_listing_the_gateway() -> None:
    result = subprocess.run([str(MCPFLEET), "serve", "--help"], capture_output=True, text=True,
                            check=True)
    assert "gateway" in result.stdout


async def test_the_gateway_process_serves_and_shuts_down_gracefully_on_sigterm(
    catalog_copy: Path, pg_url: str, db: Database, tmp_path: Path
) -> None:
    for path in (catalog_copy / "servers").glob("*.yaml"):
        path.unlink()
    write_server(catalog_copy, StdioServer(
        name="homelab", kind="stdio", description="Facts about this machine.",
        package="pypi://mcpfleet", image="ghcr.io/charlieshreck/mcpfleet-runtime:0.1.0",
        local=LocalRun(command=sys.executable, args=["-m", "runtime.examples.homelab_server"]),
    ))
    env = {**os.environ, "DATABASE_URL": pg_url}
    log = tmp_path / "gateway.log"
    process = spawn(
        [str(MCPFLEET), "serve", "gateway", "--catalog", str(catalog_copy),
         "--data-dir", str(tmp_path / "data"), "--mode", "local", "--port", "0"],
        env, log,
    )
    try:
        token = (await TokenStore(db).create("serve-test")).token
        port = announced_port(log_reader(log), process)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if (await http.get("/api/v1/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "gateway never became healthy"
                await asyncio.sleep(0.05)
            reply = await http.post(
                "/api/v1/mcp/homelab/tools/dns_lookup", json={"name": "localhost"},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert reply.status_code == 200, reply.text
        assert "127.0.0.1" in reply.json()["structuredContent"]["addresses"]
        stdio_children = children_of(process.pid)
        assert len(stdio_children) == 1

        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (exit -15).
        assert process.wait(20) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not any(alive(pid) for pid in stdio_children)
    async with db.connection() as conn:
        cur = await conn.execute(
            "SELECT server, tool, status FROM audit_log WHERE client = 'serve-test'"
        )
        assert await cur.fetchall() == [("homelab", "dns_lookup", "ok")]
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    messages = [r["msg"] for r in records]
    assert "Application startup complete." in messages
    assert "Application shutdown complete." in messages, "the lifespan closed everything"


def test_issuers_without_a_resource_uri_stop_the_gateway_with_the_reason(
    catalog_copy: Path,
) -> None:
    """Audiences need the resource URI: no ``--public-url`` and no ``gateway.auth.resource``."""
    platform = catalog_copy / "platform.yaml"
    platform.write_text(
        platform.read_text().replace(
            "  # auth:",
            "  auth:\n    issuers:\n      - name: sso\n        issuer: https://sso.example.com\n"
            "        access: [{scope: mcp, allow: ['*']}]\n  # was auth:",
            1,
        )
    )
    result = subprocess.run(
        [str(MCPFLEET), "serve", "gateway", "--catalog", str(catalog_copy), "--mode", "local"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "set gateway.auth.resource" in result.stderr and "--public-url" in result.stderr
    assert "Traceback" not in result.stderr
