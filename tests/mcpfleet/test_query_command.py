"""`mcpfleet query` when the gateway refuses it: one line that says what to do, not JSON.

The gateway is real (uvicorn on loopback, auth on, PostgreSQL); the command line runs as a
subprocess, as a user runs it. (A question that is answered: test_local_fleet.py.)
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runtime.gateway import GatewayConfig
from runtime.settings import Settings
from tests.runtime.gateway.running import RunningGateway, run_gateway

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def gateway(runtime_settings: Settings) -> AsyncIterator[RunningGateway]:
    async with run_gateway(runtime_settings, GatewayConfig(servers=())) as running:
        yield running


async def query(url: str, token_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "300", "MCPFLEET_DATA_DIR": str(token_dir)}
    env.pop("MCPFLEET_TOKEN", None)
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "mcpfleet", "query", "is the nas up", "--url", url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_wrong_token_is_one_line_naming_where_the_token_came_from(
    gateway: RunningGateway, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text("mcpf_" + "x" * 43 + "\n")  # well-formed, never issued
    result = await query(gateway.url, tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"✗ the gateway at {gateway.url} refused the token from {tmp_path / 'token'}: "
        "token rejected (invalid): unknown token (`mcpfleet up` writes a fresh one to "
        ".mcpfleet/token on every start; `mcpfleet token create` issues others)"
    ]
