"""The console in a real browser against the real local fleet.

``mcpfleet up`` runs as a user starts it (embedded PostgreSQL, the stdio servers
``everything`` and ``homelab``, triage, the router, discovery proposing into a scratch git
clone); Debian's Chromium, driven by Playwright for Python through ``executable_path``
(Playwright's own browser download is not used), signs in and works every page. Every
request the browser makes is recorded: none may leave the fleet's origin, and the
Content-Security-Policy must hold without a single violation.

Screenshots of each page (1280x800, and the fleet at phone width) are written to
``$MCPFLEET_CONSOLE_SCREENSHOTS`` (``docs/console`` refreshes the ones in the docs), or to
a temporary directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from runtime.console import CONTENT_SECURITY_POLICY

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@pytest.fixture(scope="module")
def fleet(console_db_url: str) -> Iterator[Fleet]:
    # not under pytest's tmp tree (0700): the embedded PostgreSQL's own user traverses it
    root = Path(tempfile.mkdtemp(prefix="mcpfleet-console-test-"))
    data_dir = root / "state"
    _endpoint_file(data_dir / "endpoints")
    port = _free_port()
    env = {
        **os.environ,
        "COLUMNS": "200",
        "MCPFLEET_DATA_DIR": str(data_dir),
        "MCPFLEET_DISCOVERY_GIT_REPO": str(_scratch_clone(root)),
        "MCPFLEET_DISCOVERY_REPO_CATALOG_PATH": "catalog",
        # the test's PostgreSQL (the default embedded one is covered by test_local_fleet)
        "DATABASE_URL": console_db_url,
    }
    _record_spend(console_db_url)
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


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    assert CHROMIUM.exists(), (
        f"browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium chromium-driver "
        "(or set MCPFLEET_CHROMIUM)"
    )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browsing(
    fleet: Fleet, playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browsing]:
    wanted = os.environ.get("MCPFLEET_CONSOLE_SCREENSHOTS")
    shots = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield Browsing(browser, fleet, shots)
    finally:
        browser.close()


def test_make_up_prints_the_console_url(fleet: Fleet) -> None:
    assert f"console    {fleet.url}/" in "\n".join(fleet.output)


def test_signing_in_shows_everything_and_homelab_healthy_and_the_table_keeps_itself_current(
    browsing: Browsing, fleet: Fleet
) -> None:
    with browsing.context() as context:
        page = context.new_page()
        browsing.sign_in(page, fleet.token)
        for name in ("everything", "homelab"):
            row = page.locator(f'tr[data-server="{name}"]')
            expect(row.locator(".badge.health-healthy")).to_have_text("healthy")
            expect(row.locator(".badge.circuit-closed")).to_have_text("closed")
        page.keyboard.press("Tab")  # the first stop is the skip link
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        calls = page.locator('tr[data-server="everything"] td.num').nth(1)
        before = int(calls.inner_text())
        # a call made elsewhere shows up without reloading the page
        echoed = httpx.post(
            f"{fleet.url}/api/v1/mcp/everything/tools/echo",
            json={"message": "from outside"},
            headers={"Authorization": f"Bearer {fleet.token}"},
            timeout=30,
        )
        assert echoed.status_code == 200
        expect(calls).to_have_text(str(before + 1), timeout=15_000)
        expect(page.locator("#fleet-updated")).to_contain_text("updated")
        browsing.shot(page, "fleet")
    with browsing.context(PHONE) as phone:
        page = phone.new_page()
        browsing.sign_in(page, fleet.token)
        expect(page.locator('tr[data-server="homelab"] .badge.health-healthy')).to_be_visible()
        browsing.shot(page, "fleet-phone")
        for path in [*PAGES, "/"]:
            page.goto(fleet.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} scrolls sideways at phone width ({width})"


def test_search_echo_run_it_from_the_try_it_form_and_find_the_call_in_the_audit(
    browsing: Browsing, fleet: Fleet
) -> None:
    with browsing.context() as context:
        page = context.new_page()
        browsing.sign_in(page, fleet.token, "/tools")
        page.get_by_label("Search the fleet's tools").fill("echo")
        page.get_by_role("button", name="Search").click()
        first = page.locator("ol.results a.tool-name").first
        expect(first).to_have_text("everything/echo")
        browsing.shot(page, "tools")
        first.click()
        expect(page).to_have_url(f"{fleet.url}/tools/everything/echo")
        page.get_by_label("message").fill("hello from chromium")
        page.get_by_role("button", name="Run").click()
        expect(page.locator("#result pre.output")).to_have_text("Echo: hello from chromium")
        browsing.shot(page, "tool")
        page.get_by_role("link", name="audit log").click()
        row = page.locator("table.audit tbody tr").first
        expect(row).to_contain_text("local-fleet")
        expect(row).to_contain_text("everything")
        expect(row).to_contain_text("echo")
        expect(row.locator(".badge")).to_have_text("ok")
        browsing.shot(page, "audit")


def test_a_question_shows_the_route_and_the_ranked_candidates(
    browsing: Browsing, fleet: Fleet
) -> None:
    with browsing.context() as context:
        page = context.new_page()
        browsing.sign_in(page, fleet.token, "/ask")
        page.get_by_label("Question").fill("how much disk space is free on /")
        page.get_by_role("button", name="Decide").click()
        decision = page.locator("#decision")
        expect(decision.locator(".badge.route")).to_have_text("tool")
        expect(decision.locator("table.candidates tbody tr").first).to_contain_text(
            "homelab/disk_usage"
        )
        assert decision.locator("table.candidates tbody tr").count() >= 2
        browsing.shot(page, "ask")


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(
    browsing: Browsing, fleet: Fleet
) -> None:
    with browsing.context() as context:
        page = context.new_page()
        browsing.sign_in(page, fleet.token, "/tokens")
        page.get_by_label("Name").fill("browser-bot")
        page.get_by_label("homelab").check()
        page.get_by_role("button", name="Create token").click()
        secret = page.locator("#secret").input_value()
        assert secret.startswith("mcpf_")
        expect(page.locator('tr[data-token="browser-bot"]')).to_contain_text("homelab")
        browsing.shot(page, "tokens", hide="#secret")  # no token, even a dead one, in the docs
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke browser-bot").click()
        expect(page.get_by_role("status")).to_contain_text("Revoked “browser-bot”")
        expect(page.locator('tr[data-token="browser-bot"]')).to_have_count(0)
        assert secret not in page.content()
    with browsing.context() as stranger:
        page = stranger.new_page()
        page.goto(f"{fleet.url}/signin")
        page.get_by_label("Token").fill(secret)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("revoked")


def test_a_scoped_token_sees_only_its_server_and_not_another_servers_page(
    browsing: Browsing, fleet: Fleet
) -> None:
    with browsing.context() as admin:
        page = admin.new_page()
        browsing.sign_in(page, fleet.token, "/tokens")
        page.get_by_label("Name").fill("echo-only")
        page.get_by_label("everything").check()
        page.get_by_role("button", name="Create token").click()
        scoped = page.locator("#secret").input_value()
    with browsing.context() as context:
        page = context.new_page()
        browsing.sign_in(page, scoped)
        expect(page.locator('tr[data-server="everything"]')).to_have_count(1)
        expect(page.locator('tr[data-server="homelab"]')).to_have_count(0)
        expect(page.get_by_role("link", name="Tokens")).to_have_count(0)
        for path in ("/servers/homelab", "/tools/homelab/disk_usage"):
            response = page.goto(fleet.url + path)
            assert response is not None and response.status == 403
            expect(page.get_by_role("alert")).to_contain_text("may not use server 'homelab'")
        response = page.goto(f"{fleet.url}/tokens")
        assert response is not None and response.status == 403


def test_costs_show_spend_per_model_per_day_against_the_budget(
    browsing: Browsing, fleet: Fleet
) -> None:
    with browsing.context() as context:
        page = context.new_page()
        browsing.sign_in(page, fleet.token, "/costs")
        page.get_by_label("Days").select_option("7")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("svg rect.bar")).to_have_count(len(SPEND))
        expect(page.locator("svg line.budget-line")).to_have_count(1)
        expect(page.locator("figcaption .legend")).to_have_text(
            ["claude-haiku", "claude-sonnet", "gemini-flash"]
        )
        expect(page.locator(".summary strong").first).to_have_text("$5.05")  # today's spend
        browsing.shot(page, "costs")


def test_no_page_loads_anything_from_outside_the_fleet_and_the_csp_holds(
    browsing: Browsing, fleet: Fleet
) -> None:
    pages = {"server": "/servers/everything", "docs": "/docs"}
    _wait_for_the_proposal(fleet, "notes")
    with browsing.context() as context:
        page = context.new_page()
        browsing.sign_in(page, fleet.token, "/proposals")
        card = page.locator("#proposal-notes")
        expect(card).to_contain_text("discovery/add-notes")
        expect(card.locator(".badge.health-healthy").first).to_have_text("passed")
        expect(card.locator(".diff .d-add").first).to_be_visible()
        browsing.shot(page, "proposals")
        for name, path in pages.items():
            response = page.goto(fleet.url + path)
            assert response is not None and response.status == 200, path
            headers = response.headers
            assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            browsing.shot(page, name)
    foreign = [url for url in browsing.requests if not url.startswith(fleet.url + "/")]
    assert browsing.requests and foreign == []
    assert browsing.violations == []


def _wait_for_the_proposal(fleet: Fleet, name: str, within: float = 60.0) -> None:
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
