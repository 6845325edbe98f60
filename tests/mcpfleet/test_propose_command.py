"""`mcpfleet propose` and `mcpfleet serve discovery`, run as an operator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from catalog import check_catalog
from mcpfleet.cli import app
from tests.ports import announced_port, log_reader
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
    env = {**os.environ, "DATABASE_URL": pg_url, "MCPFLEET_DATA_DIR": str(tmp_path / "data")}
    mcpfleet = str(Path(sys.executable).parent / "mcpfleet")
    endpoints = tmp_path / "endpoints"
    endpoints.mkdir()
    args = [mcpfleet, "serve", "discovery", "--port", "0",
            "--kubernetes", "off", "--endpoints-dir", str(endpoints), "--proposals", "off"]
    log = tmp_path / "discovery.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        port = announced_port(log_reader(log), process)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).json()
        assert health == {"status": "ok", "sources": ["file"], "proposals": "off"}
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()
