"""Reading the audit log back: filters, the caller's server bound, keyset pages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from psycopg.types.json import Jsonb

from runtime.db import Database
from runtime.store import AuditFilter, AuditSearch

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


async def _record(
    db: Database, at: datetime, client: str, server: str, tool: str, status: str
) -> None:
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO audit_log (id, at, client, server, tool, status, latency_ms, arguments) "
            "VALUES (%s, %s, %s, %s, %s, %s, 1.5, %s)",
            (uuid.uuid4(), at, client, server, tool, status, Jsonb({"path": "/"})),
        )


@pytest.fixture
async def search(db: Database) -> AuditSearch:
    for i in range(7):
        await _record(db, T0 + timedelta(minutes=i), "ops", "homelab", "disk_usage", "ok")
    await _record(db, T0 + timedelta(minutes=10), "ci-bot", "everything", "echo", "ok")
    await _record(
        db, T0 + timedelta(minutes=11), "ci-bot", "everything", "echo", "upstream_timeout"
    )
    await _record(db, T0 + timedelta(minutes=12), "ops", "opnsense", "reboot", "tool_error")
    return AuditSearch(db)


async def test_only_the_servers_the_caller_may_see_are_searched(search: AuditSearch) -> None:
    page = await search.page(AuditFilter(servers=["everything"]))
    assert {r.server for r in page.rows} == {"everything"} and len(page.rows) == 2
    assert (await search.page(AuditFilter(servers=[]))).rows == []


async def test_filters_narrow_by_server_tool_client_status_and_time(search: AuditSearch) -> None:
    every = ["homelab", "everything", "opnsense"]
    assert len((await search.page(AuditFilter(every, tool="DISK"))).rows) == 7
    assert len((await search.page(AuditFilter(every, client="bot"))).rows) == 2
    failed = await search.page(AuditFilter(every, status="failed"))
    assert {r.status for r in failed.rows} == {"upstream_timeout", "tool_error"}
    assert len((await search.page(AuditFilter(every, status="tool_error"))).rows) == 1
    window = AuditFilter(every, since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    assert [r.at for r in (await search.page(window)).rows] == [
        T0 + timedelta(minutes=3),
        T0 + timedelta(minutes=2),
    ]
    assert (await search.page(AuditFilter(every, tool="100%_"))).rows == []  # literal LIKE


async def test_pages_follow_a_cursor_newest_first_without_gaps_or_repeats(
    search: AuditSearch, db: Database
) -> None:
    where = AuditFilter(servers=["homelab"])
    first = await search.page(where, limit=3)
    assert [r.at.minute for r in first.rows] == [6, 5, 4] and first.next_cursor
    # a newer call arriving between pages shifts nothing
    await _record(db, T0 + timedelta(minutes=30), "ops", "homelab", "disk_usage", "ok")
    second = await search.page(where, limit=3, cursor=first.next_cursor)
    assert [r.at.minute for r in second.rows] == [3, 2, 1]
    third = await search.page(where, limit=3, cursor=second.next_cursor)
    assert [r.at.minute for r in third.rows] == [0] and third.next_cursor is None
    assert third.rows[0].arguments == {"path": "/"}


async def test_a_foreign_cursor_or_limit_is_refused(search: AuditSearch) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        await search.page(AuditFilter(["homelab"]), cursor="bm90LWEtY3Vyc29y")
    with pytest.raises(ValueError, match="limit"):
        await search.page(AuditFilter(["homelab"]), limit=0)


async def test_the_servers_in_the_log_are_listed_once_each(search: AuditSearch) -> None:
    assert await search.servers() == ["everything", "homelab", "opnsense"]


async def test_an_empty_log_lists_no_servers(db: Database) -> None:
    assert await AuditSearch(db).servers() == []
