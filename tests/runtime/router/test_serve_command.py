"""``mcpfleet serve router`` as a pod runs it: a real process on a loopback port, on the
test database, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.ports import announced_port, log_reader

REPO = Path(__file__).resolve().parents[3]


def wait_for_health(url: str, process: subprocess.Popen[bytes], deadline: float) -> dict:
    while time.monotonic() < deadline:
        assert process.poll() is None, "the router exited during start-up"
        try:
            return httpx.get(url, timeout=10).json()
        except httpx.TransportError:
            time.sleep(0.1)  # polling a condition (the port accepting), bounded by the deadline
    raise AssertionError("the router did not answer within the deadline")


def test_serve_router_serves_health_and_metrics_and_stops_on_sigterm(
    pg_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env |= {"DATABASE_URL": pg_url, "MCPFLEET_DATA_DIR": str(tmp_path)}
    mcpfleet = str(Path(sys.executable).parent / "mcpfleet")
    command = [mcpfleet, "serve", "router", "--port", "0"]
    log = tmp_path / "router.log"
    with log.open("wb") as err:
        process = subprocess.Popen(
            [*command, "--catalog", str(REPO / "catalog")],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        port = announced_port(log_reader(log), process)
        health = wait_for_health(
            f"http://127.0.0.1:{port}/api/v1/health", process, time.monotonic() + 60
        )
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
        costs = httpx.get(f"http://127.0.0.1:{port}/api/v1/costs", timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    stderr = log.read_text()

    assert health["status"] == "ok"
    assert health["unusable"]["anthropic"] == "ANTHROPIC_API_KEY is not set"
    assert metrics.status_code == 200
    assert costs.status_code == 401
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), stderr[-2000:]
    assert "Application shutdown complete" in stderr
