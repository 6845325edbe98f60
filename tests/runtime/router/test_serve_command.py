"""``mcpfleet serve router`` as a pod runs it: a real process on a loopback port, on the
test database, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[bytes], deadline: float) -> dict:
    while time.monotonic() < deadline:
        assert process.poll() is None, "the router exited during start-up"
        try:
            return httpx.get(url, timeout=1).json()
        except httpx.TransportError:
            time.sleep(0.1)  # polling a condition (the port accepting), bounded by the deadline
    raise AssertionError("the router did not answer within the deadline")


def test_serve_router_serves_health_and_metrics_and_stops_on_sigterm(
    pg_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env |= {"DATABASE_URL": pg_url, "MCPFLEET_DATA_DIR": str(tmp_path)}
    mcpfleet = str(Path(sys.executable).parent / "mcpfleet")
    command = [mcpfleet, "serve", "router", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--catalog", str(REPO / "catalog")],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        health = wait_for_health(
            f"http://127.0.0.1:{port}/api/v1/health", process, time.monotonic() + 60
        )
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        costs = httpx.get(f"http://127.0.0.1:{port}/api/v1/costs", timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)

    assert health["status"] == "ok"
    assert health["unusable"]["anthropic"] == "ANTHROPIC_API_KEY is not set"
    assert metrics.status_code == 200
    assert costs.status_code == 401
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), stderr.decode()[-2000:]
    assert "Application shutdown complete" in stderr.decode()
