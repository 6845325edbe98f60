"""`mcpfleet propose` and `mcpfleet serve discovery`, run as an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from catalog import check_catalog
from mcpfleet.cli import app
from tests.runtime.discovery.mcp_peers import STDIO_COMMAND
from tests.runtime.proposals.conftest import git, make_repo

runner = CliRunner()
STDIO = " ".join([*STDIO_COMMAND, "add_note", "find_note"])


def propose(repo: Path, *args: str) -> object:
    base = ["propose", "notes", "--catalog", str(repo / "catalog"), "--to", "local"]
    return runner.invoke(app, [*base, *args])


def test_propose_probes_a_stdio_server_and_opens_a_validated_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    args = ["--kind", "stdio", "--command", STDIO, "--image", "ghcr.io/x/notes:1",
            "--package", "uvx://notes-mcp"]
    first = propose(repo, *args)
    assert first.exit_code == 0, first.output
    assert "opened: discovery/add-notes" in first.output
    assert "tools: add_note, find_note" in first.output
    again = propose(repo, *args)
    assert "unchanged: discovery/add-notes" in again.output
    git(repo, "worktree", "add", "-q", str(tmp_path / "review"), "discovery/add-notes")
    catalog, problems = check_catalog(tmp_path / "review" / "catalog")
    assert problems == [] and catalog is not None
    assert catalog.server("notes").tools == ["add_note", "find_note"]


def test_dry_run_prints_the_entry_and_writes_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = propose(repo, "--endpoint", "http://notes.lan:9000/mcp", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "kind: remote" in result.output
    assert "- http://notes.lan:9000/mcp" in result.output
    assert git(repo, "branch", "--list", "discovery/*") == ""


def test_a_bad_request_names_the_field_and_exits_2(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = propose(repo, "--kind", "http", "--endpoint", "http://x/mcp")
    assert result.exit_code == 2
    assert "a http server needs `image`" in result.output


def test_serve_discovery_runs_until_interrupted(pg_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": pg_url, "MCPFLEET_DATA_DIR": str(tmp_path / "data")}
    mcpfleet = str(Path(sys.executable).parent / "mcpfleet")
    args = [mcpfleet, "serve", "discovery", "--port", str(port),
            "--kubernetes", "off", "--endpoints-dir", str(tmp_path), "--proposals", "off"]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert health == {"status": "ok", "sources": ["file"], "proposals": "off"}
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> object:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[0].decode())
        try:
            return httpx.get(url, timeout=1).json()
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer")
