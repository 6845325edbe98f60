"""What the browser tests need around the browser: ``mcpfleet up`` as a user starts it,
a scratch git clone for discovery's proposals, recorded model spend, and a
:class:`Browsing` session that records every request and CSP report of its pages."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.ports import unused_port

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "PAGES",
    "PHONE",
    "SPEND",
    "Browsing",
    "Fleet",
    "running_fleet",
    "wait_for_the_proposal",
]

REPO = Path(__file__).resolve().parents[3]
# Debian's package; elsewhere point MCPFLEET_CHROMIUM at a Chromium or Chrome binary.
CHROMIUM = Path(os.environ.get("MCPFLEET_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium dials Google services, which this
# closed network refuses (and which a console test has no business doing anyway).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UNLABELLED = """() => Array.from(
  document.querySelectorAll("input:not([type=hidden]), select, textarea, button, a[href]")
).filter((el) => {
  if (el.getAttribute("aria-label")) return false;
  if (el.tagName === "BUTTON" || el.tagName === "A") return !el.textContent.trim();
  return !(el.labels && el.labels.length);
}).map((el) => el.outerHTML.slice(0, 160))"""
PAGES = [
    "/tools?q=echo",
    "/tools/everything/get-annotated-message",
    "/ask?q=how+much+disk+space+is+free+on+/",
    "/proposals",
    "/audit",
    "/costs",
    "/tokens",
    "/docs",
    "/servers/everything",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
START_DEADLINE = 180.0


@dataclass
class Fleet:
    url: str
    data_dir: Path
    output: list[str]

    @property
    def token(self) -> str:
        return (self.data_dir / "token").read_text().strip()


@dataclass
class Browsing:
    """One browser for the module; every request any of its pages made, and CSP reports."""

    browser: Browser
    fleet: Fleet
    shots: Path
    requests: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def context(self, viewport: dict[str, int] = DESKTOP) -> BrowserContext:
        context = self.browser.new_context(viewport=viewport, device_scale_factor=1)
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("console", self._console)
        context.set_default_timeout(30_000)
        return context

    def _console(self, message: object) -> None:
        text = str(getattr(message, "text", ""))
        if "Content Security Policy" in text or "Refused to" in text:
            self.violations.append(text)

    def sign_in(self, page: Page, token: str, path: str = "/") -> None:
        page.goto(self.fleet.url + path)
        expect(page).to_have_url(re.compile(r"/signin\?next="))
        page.get_by_label("Token").fill(token)
        page.get_by_label("Token").press("Enter")  # keyboard only
        expect(page).to_have_url(self.fleet.url + path)

    def shot(self, page: Page, name: str, *, hide: str | None = None) -> None:
        """Save the page as ``<name>.png`` (``hide``: a selector masked, e.g. a secret) —
        and hold it to labelled controls first."""
        assert page.evaluate(UNLABELLED) == [], f"controls without a label on {page.url}"
        path = self.shots / f"{name}.png"
        page.screenshot(
            path=str(path), mask=[page.locator(hide)] if hide else [], mask_color="#c9cdd4"
        )
        assert path.stat().st_size > 5_000, f"{name}.png looks empty"


def _scratch_clone(root: Path) -> Path:
    """A git repository holding a copy of the catalog, for discovery's local proposals."""
    repo = root / "proposals-repo"
    shutil.copytree(REPO / "catalog", repo / "catalog")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "catalog")
    git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-qm", "catalog")
    return repo


def _endpoint_file(endpoints: Path) -> None:
    """A server the catalog lacks (the repo's example server under another name)."""
    endpoints.mkdir(parents=True)
    (endpoints / "notes.yaml").write_text(
        json.dumps(
            {
                "name": "notes",
                "command": sys.executable,
                "args": ["-m", "runtime.examples.homelab_server"],
                "description": "A second copy of the homelab example server",
                "image": "ghcr.io/example/notes:1.0",
                "package": "pypi://mcpfleet",
            }
        )
    )


SPEND = [  # (days ago, model, provider, USD): what the router would have recorded
    (6, "gemini-flash", "google", 0.42),
    (5, "claude-sonnet", "anthropic", 3.10),
    (5, "gemini-flash", "google", 0.55),
    (4, "claude-haiku", "anthropic", 0.80),
    (3, "claude-sonnet", "anthropic", 6.40),
    (3, "claude-haiku", "anthropic", 1.20),
    (2, "gemini-flash", "google", 0.95),
    (1, "claude-sonnet", "anthropic", 2.25),
    (0, "claude-sonnet", "anthropic", 4.70),
    (0, "gemini-flash", "google", 0.35),
]


def _record_spend(database_url: str) -> None:
    """Model calls as the router records them (no provider is reachable from here)."""
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        for days_ago, model, provider, usd in SPEND:
            conn.execute(
                "INSERT INTO model_usage (at, model, provider, task_type, input_tokens, "
                "output_tokens, cost_usd, latency_ms, status) "
                "VALUES (%s, %s, %s, 'reasoning', 1000, 400, %s, 900, 'ok')",
                (now - timedelta(days=days_ago), model, provider, usd),
            )


@contextmanager
def running_fleet(database_url: str) -> Iterator[Fleet]:
    """`mcpfleet up` as a user starts it, on a free port, until the block ends."""
    # not under pytest's tmp tree (0700): the embedded PostgreSQL's own user traverses it
    root = Path(tempfile.mkdtemp(prefix="mcpfleet-console-test-"))
    data_dir = root / "state"
    _endpoint_file(data_dir / "endpoints")
    port = unused_port()
    env = {
        **os.environ,
        "COLUMNS": "200",
        "MCPFLEET_DATA_DIR": str(data_dir),
        "MCPFLEET_DISCOVERY_GIT_REPO": str(_scratch_clone(root)),
        "MCPFLEET_DISCOVERY_REPO_CATALOG_PATH": "catalog",
        # the test's PostgreSQL (the default embedded one is covered by test_local_fleet)
        "DATABASE_URL": database_url,
    }
    _record_spend(database_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "mcpfleet", "up", "--port", str(port), "--proposals", "local"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_DEADLINE
        while not any("Ctrl-C stops everything" in line for line in lines):
            assert process.poll() is None, "`mcpfleet up` exited:\n" + "\n".join(lines)
            assert time.monotonic() < deadline, "`mcpfleet up` did not start:\n" + "\n".join(lines)
            time.sleep(0.1)
        yield Fleet(f"http://127.0.0.1:{port}", data_dir, lines)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)


def wait_for_the_proposal(fleet: Fleet, name: str, within: float = 60.0) -> None:
    """Discovery probes the endpoint file's server and proposes it into the scratch clone;
    wait (with a deadline) until the registry carries the proposal's diff."""
    headers = {"Authorization": f"Bearer {fleet.token}"}
    deadline = time.monotonic() + within
    with httpx.Client(base_url=fleet.url, headers=headers, timeout=30) as http:
        while True:
            found = http.get(f"/v0/servers/{name}")
            meta = found.json().get("_meta", {}) if found.status_code == 200 else {}
            note = meta.get("io.mcpfleet/registry", {}).get("discovery", {}).get("proposal", {})
            if note.get("diff"):
                return
            assert time.monotonic() < deadline, f"discovery proposed nothing for {name}: {note}"
            time.sleep(0.2)
