"""`mcpfleet up` when it cannot start: one clear line and nothing touched.

The real command line as a subprocess; the port is taken by a listening socket of the
test, standing for another fleet. (The fleet that does start is tests/mcpfleet/
test_local_fleet.py.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_up_on_a_taken_port_says_so_in_one_line_and_starts_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    env = {**os.environ, "MCPFLEET_DATA_DIR": str(data_dir), "COLUMNS": "300"}
    env.pop("DATABASE_URL", None)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mcpfleet", "up", "--port", str(port)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,  # a hang guard only; it answers before anything starts
        )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"✗ port {port} on 127.0.0.1 is already in use (another `mcpfleet up`?); stop it, "
        "or choose another port: --port N (make up PORT=N)"
    ], result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr
    assert not data_dir.exists(), "no data directory, database or log was created"
