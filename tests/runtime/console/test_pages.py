"""The console over HTTP against a real fleet: sign-in, every page, scopes, forms, CSRF.

What a browser adds (the script, the live table, no foreign requests) is in
``test_in_browser.py``; here the server's side is checked directly.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from psycopg.types.json import Jsonb

from runtime.console import CONTENT_SECURITY_POLICY
from runtime.store import ModelUsage, TokenStore

from .conftest import Fleet, csrf_of


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


async def test_root_is_the_console_and_sends_a_stranger_to_the_sign_in_form(fleet: Fleet) -> None:
    async with fleet.client() as client:
        root = await client.get("/")
        assert root.status_code == 303
        assert root.headers["location"] == "/signin?next=%2F"
        form = await client.get(root.headers["location"])
        assert form.status_code == 200
        assert form.headers["content-type"].startswith("text/html")
        assert '<input id="token" name="token" type="password"' in form.text
        assert '<input type="hidden" name="next" value="/">' in form.text


async def test_signing_in_sets_an_httponly_samesite_strict_cookie_and_lands_where_asked(
    fleet: Fleet,
) -> None:
    async with fleet.client() as client:
        answer = await client.post("/signin", data={"token": fleet.admin_token, "next": "/audit"})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/audit"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("mcpfleet_session=mcpf_")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "Max-Age" not in cookie and "expires" not in cookie.lower()  # a session cookie
        assert "Secure" not in cookie  # plain http on loopback; https sets it
        page = await client.get("/audit")
        assert page.status_code == 200
        assert "operator · admin" in page.text


async def test_sign_in_never_redirects_off_site(fleet: Fleet) -> None:
    async with fleet.client() as client:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            answer = await client.post("/signin", data={"token": fleet.admin_token, "next": target})
            assert answer.headers["location"] == "/"


async def test_a_wrong_or_revoked_token_is_refused_on_the_sign_in_page_with_the_reason(
    fleet: Fleet,
) -> None:
    async with fleet.client() as client:
        wrong = await client.post("/signin", data={"token": "mcpf_" + "x" * 43})
        assert wrong.status_code == 401
        assert "unknown token" in wrong.text
        assert "set-cookie" not in wrong.headers
    store = TokenStore(fleet.db)
    token = (await store.create("short-lived")).token
    async with fleet.session(token) as client:
        await store.revoke("short-lived")
        store.forget()
        fleet.app.state.guard.verifier.tokens.forget()  # the gateway's own cache (5 s TTL)
        page = await client.get("/tools")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/signin?next=%2Ftools&reason=")
        assert "revoked" in page.headers["location"]


async def test_a_form_from_another_origin_or_without_its_token_is_refused(fleet: Fleet) -> None:
    async with fleet.session(fleet.admin_token) as client:
        page = await client.get("/tokens")
        csrf = csrf_of(page.text)
        foreign = await client.post(
            "/tokens",
            data={"csrf": csrf, "name": "from-elsewhere"},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        assert "another site" in foreign.text
        missing = await client.post("/tokens", data={"name": "no-csrf"})
        assert missing.status_code == 403
        forged = await client.post("/tokens", data={"name": "forged", "csrf": "0" * 64})
        assert forged.status_code == 403
        names = {t.name for t in await TokenStore(fleet.db).list_tokens()}
        assert not names & {"from-elsewhere", "no-csrf", "forged"}


async def test_every_console_page_carries_a_csp_without_inline_script_or_style(
    fleet: Fleet,
) -> None:
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    pages = ["/", "/tools?q=echo", "/tools/everything/echo", "/ask?q=uptime", "/proposals"]
    pages += ["/audit", "/costs", "/tokens", "/docs", "/servers/homelab", "/signin"]
    async with fleet.session(fleet.admin_token) as client:
        for path in pages:
            page = await client.get(path)
            assert page.status_code == 200, (path, page.text[:500])
            assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["cache-control"] == "no-store"
            html = page.text
            assert "<style" not in html and " style=" not in html, path
            scripts = re.findall(r"<script[^>]*>", html)
            assert all(" src=" in tag for tag in scripts), (path, scripts)
            assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers
            for url in re.findall(r'(?:src|href)="([^"]+)"', html):
                assert url.startswith(("/", "#", "data:")), (path, url)


async def test_assets_are_the_packaged_files_only_and_cacheable(fleet: Fleet) -> None:
    async with fleet.client() as client:
        page = await client.get("/signin")
        css = re.search(r'href="(/assets/console\.css\?v=[0-9a-f]+)"', page.text)
        assert css
        style = await client.get(css.group(1))
        assert style.status_code == 200
        assert style.headers["content-type"].startswith("text/css")
        assert "immutable" in style.headers["cache-control"]
        for bad in ("/assets/..%2Fhost.py", "/assets/host.py", "/assets/%2e%2e/gate.py"):
            assert (await client.get(bad)).status_code == 404, bad


async def test_the_fleet_shows_each_server_with_health_breaker_transport_and_tools(
    fleet: Fleet,
) -> None:
    async with fleet.session(fleet.admin_token) as client:
        page = await client.get("/")
        main = _main(page.text)
        for name in ("everything", "homelab"):
            row = main.split(f'<tr data-server="{name}">', 1)[1].split("</tr>", 1)[0]
            assert "badge health-healthy" in row
            assert "badge circuit-closed" in row
            assert "<td>stdio</td>" in row
        assert "<strong>2</strong> of <strong>2</strong> servers healthy" in main
        assert 'data-live="/fleet/table"' in main
        table = await client.get("/fleet/table", headers={"X-Console-Fragment": "1"})
        assert table.status_code == 200
        assert '<tr data-server="homelab">' in table.text and "<html" not in table.text
        server = await client.get("/servers/homelab")
        assert "disk_usage" in server.text and "read-only" in server.text


async def test_a_scoped_token_sees_only_its_servers_and_is_refused_the_others_pages(
    fleet: Fleet,
) -> None:
    async with fleet.session(fleet.everything_token) as client:
        main = _main((await client.get("/")).text)
        assert 'data-server="everything"' in main and 'data-server="homelab"' not in main
        for path in ("/servers/homelab", "/tools/homelab/disk_usage", "/audit?server=homelab"):
            refused = await client.get(path)
            assert refused.status_code == 403, path
            assert "may not" in refused.text
        csrf = csrf_of((await client.get("/tools/everything/echo")).text)
        posted = await client.post(
            "/tools/homelab/disk_usage", data={"csrf": csrf, "arg.path": "/"}
        )
        assert posted.status_code == 403
        found = _main((await client.get("/tools?q=disk+usage+free+space")).text)
        assert "homelab/" not in found
        assert "/tokens" not in main and (await client.get("/tokens")).status_code == 403
        audit = _main((await client.get("/audit")).text)
        assert "<option>homelab</option>" not in audit


async def test_tool_search_is_find_tools_and_ranks_echo_first(fleet: Fleet) -> None:
    async with fleet.session(fleet.admin_token) as client:
        main = _main((await client.get("/tools", params={"q": "echo"})).text)
        first = re.search(r'class="tool-name">([^<]+)</a>', main)
        assert first and first.group(1) == "everything/echo"
        assert "score " in main


async def test_the_try_it_form_follows_the_input_schema_and_runs_a_read_only_tool(
    fleet: Fleet,
) -> None:
    async with fleet.session(fleet.admin_token) as client:
        page = await client.get("/tools/everything/get-annotated-message")
        html = page.text
        assert '<select id="f-1" name="arg.messageType" required' in html  # a required enum
        assert '<option value="&#34;error&#34;">error</option>' in html
        assert 'name="arg.includeImage"' in html  # an optional boolean: a select with unset
        summed = await client.post(
            "/tools/everything/get-sum",
            data={"csrf": csrf_of(html), "arg.a": "2", "arg.b": "3.5"},
        )
        assert summed.status_code == 200, summed.text
        result = summed.text.split('id="result"', 1)[1]
        assert "5.5" in result and "badge health-healthy" in result


async def test_bad_arguments_come_back_beside_their_field_with_what_was_typed(
    fleet: Fleet,
) -> None:
    async with fleet.session(fleet.admin_token) as client:
        csrf = csrf_of((await client.get("/tools/everything/get-sum")).text)
        answer = await client.post(
            "/tools/everything/get-sum", data={"csrf": csrf, "arg.a": "two", "arg.b": ""}
        )
        assert answer.status_code == 400
        html = answer.text
        assert "must be a number" in html and "required" in html
        assert 'name="arg.a" type="number" step="any" value="two"' in html
        assert 'id="result"' not in html


async def _audited(fleet: Fleet, tool: str) -> int:
    await fleet.app.state.audit.flush()
    async with fleet.db.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM audit_log WHERE tool = %s", (tool,))
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def test_a_tool_that_may_change_things_runs_only_after_an_explicit_confirm(
    fleet: Fleet,
) -> None:
    tool = "toggle-simulated-logging"
    async with fleet.session(fleet.admin_token) as client:
        page = await client.get(f"/tools/everything/{tool}")
        assert "may change things" in page.text and "Review and run" in page.text
        before = await _audited(fleet, tool)
        review = await client.post(
            f"/tools/everything/{tool}", data={"csrf": csrf_of(page.text), "arguments": "{}"}
        )
        assert review.status_code == 200
        assert 'id="confirm-step"' in review.text and 'id="result"' not in review.text
        assert await _audited(fleet, tool) == before, "nothing may run before the confirm"
        confirmed = re.search(r'name="confirmed" value="([^"]*)"', review.text)
        assert confirmed
        ran = await client.post(
            f"/tools/everything/{tool}",
            data={
                "csrf": csrf_of(review.text),
                "confirm": "yes",
                "confirmed": confirmed.group(1).replace("&#34;", '"'),
            },
        )
        assert ran.status_code == 200
        assert 'id="result"' in ran.text
        assert await _audited(fleet, tool) == before + 1
        # toggle it back, so the shared upstream is as the other tests expect it
        await client.post(
            f"/tools/everything/{tool}",
            data={"csrf": csrf_of(ran.text), "confirm": "yes", "confirmed": "{}"},
        )


async def test_ask_shows_the_route_ranked_candidates_scores_and_arguments(fleet: Fleet) -> None:
    question = "how much disk space is free on /"
    async with httpx.AsyncClient(base_url=fleet.url) as api:
        decided = await api.post(
            "/api/v1/triage",
            json={"text": question},
            headers={"Authorization": f"Bearer {fleet.admin_token}"},
        )
    truth = decided.json()
    assert truth["candidates"], truth
    async with fleet.session(fleet.admin_token) as client:
        page = await client.get("/ask", params={"q": question})
        assert page.status_code == 200
        decision = page.text.split('id="decision"', 1)[1]
        assert f'<span class="badge route">{truth["route"]}</span>' in decision
        shown = re.findall(r'<th scope="row"><a href="/tools/([^"]+)">', decision)
        assert shown == [f"{c['server']}/{c['tool']}" for c in truth["candidates"]]
        for candidate in truth["candidates"]:
            assert f'<td class="num">{candidate["score"]:.3f}</td>' in decision
        assert f"{truth['confidence'] * 100:.0f} %" in decision
        for name in truth["arguments"]:
            assert f"&#34;{name}&#34;" in decision  # the arguments read off the question


async def test_ask_answers_through_the_query_api_and_runs_a_read_only_tool(fleet: Fleet) -> None:
    async with fleet.session(fleet.admin_token) as client:
        csrf = csrf_of((await client.get("/ask")).text)
        answer = await client.post(
            "/ask", data={"csrf": csrf, "q": "how much disk space is free on /"}
        )
        assert answer.status_code == 200, answer.text
        section = answer.text.split('id="answer"', 1)[1]
        assert "free_bytes" in section
        assert 'id="needs-confirm"' not in section
    async with fleet.db.connection() as conn:
        cur = await conn.execute("SELECT client, route FROM query_history ORDER BY id DESC LIMIT 1")
        assert await cur.fetchone() == ("operator", "tool")


async def test_the_audit_page_filters_by_server_tool_token_and_status_and_pages_back(
    fleet: Fleet,
) -> None:
    async with fleet.session(fleet.admin_token) as client:
        csrf = csrf_of((await client.get("/tools/everything/echo")).text)
        for i in range(3):
            ran = await client.post(
                "/tools/everything/echo", data={"csrf": csrf, "arg.message": f"audit {i}"}
            )
            assert ran.status_code == 200
        await fleet.app.state.audit.flush()
        page = await client.get(
            "/audit",
            params={"server": "everything", "tool": "echo", "client": "operat", "status": "ok"},
        )
        rows = re.findall(r"<td>operator</td><td>everything</td><td>echo</td>", page.text)
        assert len(rows) >= 3
        none = await client.get("/audit", params={"tool": "echo", "status": "failed"})
        assert "No calls match." in none.text
        later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        assert "No calls match." in (await client.get("/audit", params={"since": later})).text
        bad = await client.get("/audit", params={"since": "yesterday"})
        assert bad.status_code == 400 and "is not a date and time" in bad.text
        cursor = await client.get("/audit", params={"cursor": "bm90LWEtY3Vyc29y"})
        assert cursor.status_code == 400


async def test_costs_chart_spend_per_model_per_day_against_the_budget(fleet: Fleet) -> None:
    usage = ModelUsage(fleet.db)
    today = datetime.now(UTC)
    await usage.add("claude-sonnet", provider="anthropic", task_type="reasoning", status="ok",
                    input_tokens=1000, output_tokens=500, cost_usd=2.5, at=today)  # fmt: skip
    await usage.add("gemini-flash", provider="google", task_type="chat", status="ok",
                    cost_usd=0.75, at=today - timedelta(days=1))  # fmt: skip
    async with fleet.session(fleet.admin_token) as client:
        page = await client.get("/costs", params={"days": 7})
        main = _main(page.text)
        bars = re.findall(r'<rect class="bar series-\d"[^>]*><title>([^<]+)</title>', main)
        assert any("claude-sonnet: $2.5000" in b for b in bars), bars
        assert any("gemini-flash: $0.7500" in b for b in bars), bars
        assert 'class="budget-line"' in main and "budget $10.00/day" in main
        # The seed alerts at the budget itself (alertThreshold 1.0): one line, not two.
        assert 'class="alert-line"' not in main
        assert "<strong>$2.50</strong> of a $10.00 daily budget" in main


async def test_proposals_show_the_branch_diff_validation_and_drift(fleet: Fleet) -> None:
    diff = (
        "--- /dev/null\n+++ b/catalog/servers/weather.yaml\n@@ -0,0 +1,2 @@\n"
        "+server:\n+  name: weather\n"
    )
    proposal = {"status": "opened", "branch": "discovery/add-weather", "url": "refs/heads/x",
                "fingerprint": "ab12", "diff": diff, "validation": "passed",
                "at": datetime.now(UTC).isoformat()}  # fmt: skip
    async with fleet.db.connection() as conn:
        await conn.execute(
            "INSERT INTO mcp_servers (name, kind, transport, source, discovery) "
            "VALUES ('weather', 'remote', 'streamable-http', 'discovery', %s)",
            (Jsonb({"proposal": proposal, "origin": "file weather.yaml"}),),
        )
        await conn.execute(
            "UPDATE mcp_servers SET drift = %s WHERE name = 'homelab'",
            (Jsonb({"reasons": ["tools"], "tools_added": ["new_tool"]}),),
        )
    try:
        async with fleet.session(fleet.admin_token) as client:
            main = _main((await client.get("/proposals")).text)
            card = main.split('id="proposal-weather"', 1)[1].split("</article>", 1)[0]
            assert "discovery/add-weather" in card and ">opened<" in card
            assert "passed</span> the catalog schema" in card
            assert '<span class="d-add">+  name: weather</span>' in card
            assert "tools not in the catalog: new_tool" in main
        async with fleet.session(fleet.everything_token) as client:
            scoped = _main((await client.get("/proposals")).text)
            assert "weather" not in scoped and "new_tool" not in scoped
    finally:
        async with fleet.db.connection() as conn:
            await conn.execute("DELETE FROM mcp_servers WHERE name = 'weather'")
            await conn.execute("UPDATE mcp_servers SET drift = '{}' WHERE name = 'homelab'")


async def test_an_admin_creates_a_token_sees_the_secret_once_and_revokes_it(fleet: Fleet) -> None:
    async with fleet.session(fleet.admin_token) as client:
        csrf = csrf_of((await client.get("/tokens")).text)
        made = await client.post(
            "/tokens",
            data={"csrf": csrf, "name": "grafana-bot", "scopes": ["homelab"], "ttl": "12h"},
        )
        assert made.status_code == 200, made.text
        secret = re.search(r'id="secret" class="secret" readonly value="(mcpf_[^"]+)"', made.text)
        assert secret
        principal = await TokenStore(fleet.db, cache_ttl=0).verify(secret.group(1))
        assert principal.scopes == frozenset({"homelab"}) and not principal.admin
        assert principal.expires_at is not None
        again = await client.get("/tokens")
        assert secret.group(1) not in again.text and "grafana-bot" in again.text
        taken = await client.post(
            "/tokens", data={"csrf": csrf, "name": "grafana-bot", "ttl": "1d"}
        )
        assert taken.status_code == 400 and "revoke it first" in taken.text
        unknown = await client.post(
            "/tokens", data={"csrf": csrf, "name": "x-bot", "scopes": ["nope"], "ttl": "1d"}
        )
        assert unknown.status_code == 400 and "unknown server(s): nope" in unknown.text
        assert 'value="x-bot"' in unknown.text  # nothing typed is lost
        revoked = await client.post("/tokens/grafana-bot/revoke", data={"csrf": csrf})
        assert revoked.status_code == 303
        assert (
            "grafana-bot" not in _main((await client.get("/tokens")).text).split("Live tokens")[1]
        )
    async with fleet.client() as stranger:
        refused = await stranger.post("/signin", data={"token": secret.group(1)})
        assert refused.status_code == 401 and "revoked" in refused.text


async def test_the_api_reference_is_local_and_the_cdn_pages_are_gone(fleet: Fleet) -> None:
    async with fleet.client() as client:
        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert "/api/v1/mcp/{server}/tools/{tool}" in docs.text
        assert "cdn" not in docs.text.lower() and "swagger" not in docs.text.lower()
        assert (await client.get("/redoc")).headers["location"] == "/docs"
        assert (await client.get("/openapi.json")).status_code == 200
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert "/" not in paths and "/tools" not in paths  # console pages are not the API


async def test_the_api_still_answers_json_not_pages(fleet: Fleet) -> None:
    async with httpx.AsyncClient(base_url=fleet.url) as client:
        refused = await client.get("/api/v1/servers")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/json"
