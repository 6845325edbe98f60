"""The console in a real browser against the real local fleet.

``mcpfleet up`` runs as a user starts it (on the test's PostgreSQL through ``DATABASE_URL``,
with the stdio servers ``everything`` and ``homelab``, triage, the router, and discovery
proposing into a scratch git clone); Debian's Chromium, driven by Playwright for Python
through ``executable_path`` (Playwright's own browser download is not used), signs in and
works every page. Every request the browser makes is recorded: none may leave the fleet's
origin, and the Content-Security-Policy must hold without a single violation.

Screenshots of each page (1280x800, and the fleet at phone width) are written to
``$MCPFLEET_CONSOLE_SCREENSHOTS`` (``docs/console`` refreshes the ones in the docs), or to
a temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Playwright, expect, sync_playwright

from runtime.console import CONTENT_SECURITY_POLICY

from .browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGES,
    PHONE,
    SPEND,
    Browsing,
    Fleet,
    running_fleet,
    wait_for_the_proposal,
)


@pytest.fixture(scope="module")
def fleet(module_db_url: str) -> Iterator[Fleet]:
    with running_fleet(module_db_url) as running:
        yield running


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
    wait_for_the_proposal(fleet, "notes")
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
