"""The audit writer: never blocks a call, loses nothing on shutdown or while the DB is down."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import psycopg

from runtime.db import Database, EmbeddedPostgres
from runtime.store import AuditWriter, redact_arguments
from runtime.store.audit_records import REDACTED, AuditRecord, SpillFile

REPO = Path(__file__).resolve().parents[3]


async def _count(db: Database) -> int:
    async with db.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM audit_log")
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def _journal_lines(directory: Path) -> list[list[str]]:
    return [path.read_text().splitlines() for path in directory.glob("audit-journal-*.jsonl")]


def _spilled_lines(directory: Path) -> list[str]:
    """Lines of the spill file and of any file a replay claimed (and could not finish)."""
    files = sorted(directory.glob("audit-spill.jsonl*"))
    return [line for file in files for line in file.read_text().splitlines()]


def _record_calls(writer: AuditWriter, n: int, *, start: int = 0) -> None:
    for i in range(start, start + n):
        writer.record(
            client="ci-bot",
            server="everything",
            tool="echo",
            status="ok",
            latency_ms=1.5,
            arguments={"message": f"call {i}"},
        )


async def test_a_burst_of_records_is_all_in_the_table_after_aclose(
    db: Database, tmp_path: Path
) -> None:
    writer = AuditWriter(db, spill_dir=tmp_path, batch_size=200)
    await writer.start()
    _record_calls(writer, 2500)
    await writer.aclose()
    assert await _count(db) == 2500
    assert not writer.spill_path.exists()


async def test_records_queue_while_the_table_is_locked_and_land_after(
    db: Database, pg_url: str, tmp_path: Path
) -> None:
    """record() only appends to memory: a writer stuck on a lock does not hold up callers."""
    writer = AuditWriter(db, spill_dir=tmp_path)
    await writer.start()
    async with await psycopg.AsyncConnection.connect(pg_url) as blocker:
        await blocker.execute("LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE")
        _record_calls(writer, 50)  # returns at once although no insert can proceed
        assert writer.queued == 50
        await blocker.rollback()
    async with asyncio.timeout(10):
        await writer.flush()
    assert await _count(db) == 50
    await writer.aclose()


async def test_arguments_are_redacted_by_default_and_secrets_even_when_kept(
    db: Database, tmp_path: Path
) -> None:
    default = AuditWriter(db, spill_dir=tmp_path)
    keeping = AuditWriter(db, spill_dir=tmp_path, keep_argument_values=True)
    for writer in (default, keeping):
        await writer.start()
        writer.record(
            client="c",
            server="s",
            tool="t",
            status="ok",
            latency_ms=1,
            arguments={"path": "/etc", "apiKey": "sk-123", "nested": {"password": "pw"}},
        )
        await writer.aclose()
    async with db.connection() as conn:
        cur = await conn.execute("SELECT arguments FROM audit_log ORDER BY at")
        rows = [row[0] for row in await cur.fetchall()]
    assert rows == [
        {"path": REDACTED, "apiKey": REDACTED, "nested": REDACTED},
        {"path": "/etc", "apiKey": REDACTED, "nested": {"password": REDACTED}},
    ]


def test_long_values_are_clipped_when_values_are_kept() -> None:
    kept = redact_arguments({"body": "x" * 5000}, keep_values=True)
    assert kept["body"].startswith("x" * 1024) and kept["body"].endswith("(+3976 chars)")


async def test_nul_characters_do_not_poison_a_batch(db: Database, tmp_path: Path) -> None:
    writer = AuditWriter(db, spill_dir=tmp_path, keep_argument_values=True)
    await writer.start()
    writer.record(
        client="c\x00",
        server="s",
        tool="t",
        status="error",
        latency_ms=1,
        arguments={"q": "a\x00b"},
        error="bad\x00byte",
    )
    _record_calls(writer, 3)
    await writer.aclose()
    assert await _count(db) == 4


async def test_a_record_the_database_refuses_is_set_aside_and_the_rest_of_its_batch_lands(
    db: Database, tmp_path: Path
) -> None:
    async with db.connection() as conn:
        await conn.execute("ALTER TABLE audit_log ADD CONSTRAINT short CHECK (length(tool) < 9)")
    writer = AuditWriter(db, spill_dir=tmp_path)
    await writer.start()
    _record_calls(writer, 3)
    writer.record(client="c", server="s", tool="far-too-long", status="ok", latency_ms=1)
    _record_calls(writer, 3)
    await writer.aclose()
    assert await _count(db) == 6
    rejected = (tmp_path / "audit-rejected.jsonl").read_text().splitlines()
    assert [json.loads(line)["tool"] for line in rejected] == ["far-too-long"]


async def test_with_the_database_down_records_are_spilled_and_replayed_on_next_start(
    private_pg_server: EmbeddedPostgres, embedding_dim: int, tmp_path: Path
) -> None:
    url = private_pg_server.url()
    db = await Database.open(url, embedding_dim=embedding_dim, wait_timeout=2)
    writer = AuditWriter(db, spill_dir=tmp_path, max_queue=40, connect_timeout=0.5)
    await writer.start()
    _record_calls(writer, 10)
    async with asyncio.timeout(10):
        await writer.flush()

    private_pg_server.stop()  # the database goes away mid-run
    _record_calls(writer, 100, start=10)  # a full queue (40) goes to disk, twice
    assert writer.queued == 18
    assert len(_spilled_lines(tmp_path)) == 82  # two full queues, handed over from the journal
    await writer.aclose(grace=3)  # still down: what is queued is spilled too
    await db.close()
    lines = _spilled_lines(tmp_path)
    assert len(lines) == 100
    assert {json.loads(line)["arguments"]["message"] for line in lines} == {REDACTED}

    private_pg_server.start()  # next start of the process
    db = await Database.open(url, embedding_dim=embedding_dim)
    try:
        replayer = AuditWriter(db, spill_dir=tmp_path)
        await replayer.start()
        async with asyncio.timeout(10):
            await replayer.flush()
        await replayer.aclose()
        assert await _count(db) == 110
        assert not writer.spill_path.exists()
        assert _files(tmp_path) == []
    finally:
        await db.close()


async def test_a_replay_repeated_after_a_crash_inserts_nothing_twice(
    db: Database, tmp_path: Path
) -> None:
    spill = SpillFile(tmp_path)
    records = [AuditRecord("c", "s", "t", "ok", 1.0) for _ in range(5)]
    spill.append(records)
    claimed = spill.claim()  # a replay began, then the process died before unlinking
    assert claimed is not None
    async with db.connection() as conn:
        await conn.execute(
            "INSERT INTO audit_log (id, at, client, server, tool, status, latency_ms) "
            "VALUES (%s, %s, 'c', 's', 't', 'ok', 1)",
            (records[0].id, records[0].at),
        )
    spill.append(records[3:])  # and the same records were spilled again
    writer = AuditWriter(db, spill_dir=tmp_path)
    await writer.start()
    async with asyncio.timeout(10):
        await writer.flush()
    await writer.aclose()
    assert await _count(db) == 5
    assert _files(tmp_path) == []


async def test_an_unreadable_spill_line_is_kept_aside_not_dropped(
    db: Database, tmp_path: Path
) -> None:
    spill = SpillFile(tmp_path)
    spill.append([AuditRecord("c", "s", "t", "ok", 1.0)])
    with spill.path.open("a") as handle:
        handle.write("{not json\n")
    writer = AuditWriter(db, spill_dir=tmp_path)
    await writer.start()
    async with asyncio.timeout(10):
        await writer.flush()
    await writer.aclose()
    assert await _count(db) == 1
    assert (tmp_path / "audit-rejected.jsonl").read_text() == "{not json\n"


async def test_records_after_close_go_to_the_spill_file(db: Database, tmp_path: Path) -> None:
    writer = AuditWriter(db, spill_dir=tmp_path)
    await writer.start()
    await writer.aclose()
    _record_calls(writer, 2)
    assert len(writer.spill_path.read_text().splitlines()) == 2


CRASHING_WRITER = """
import asyncio, os, signal, sys
from pathlib import Path
from runtime.db import Database
from runtime.store import AuditWriter

async def main() -> None:
    db = await Database.open(sys.argv[1], embedding_dim=int(sys.argv[3]), run_migrations=False)
    writer = AuditWriter(db, spill_dir=Path(sys.argv[2]), linger=60)
    await writer.start()
    for i in range(50):
        writer.record(client="crashed", server="s", tool="t", status="ok", latency_ms=1.0,
                      arguments={"n": i})
    os.kill(os.getpid(), signal.SIGKILL)  # no aclose, no flush: as an OOM kill would

asyncio.run(main())
"""


async def test_records_of_a_process_killed_before_writing_them_are_replayed_by_the_next(
    db: Database, pg_url: str, embedding_dim: int, tmp_path: Path
) -> None:
    """The records were only in a (SIGKILLed) process's memory and journal: the next
    writer on the same data directory finds the journal and inserts every record once."""
    killed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CRASHING_WRITER,
        pg_url,
        str(tmp_path),
        str(embedding_dim),
        cwd=REPO,
    )
    assert await killed.wait() == -signal.SIGKILL
    assert await _count(db) == 0  # nothing reached the database before the crash
    writer = AuditWriter(db, spill_dir=tmp_path)
    await writer.start()
    async with asyncio.timeout(10):
        await writer.flush()
    await writer.aclose()
    async with db.connection() as conn:
        cur = await conn.execute("SELECT count(DISTINCT arguments) FROM audit_log")
        distinct = (await cur.fetchone() or (0,))[0]
    assert await _count(db) == 50 and distinct == 1  # keys only: values are redacted
    assert _files(tmp_path) == []


async def test_the_journal_is_emptied_once_its_records_are_written(
    db: Database, tmp_path: Path
) -> None:
    writer = AuditWriter(db, spill_dir=tmp_path, linger=0)
    await writer.start()
    _record_calls(writer, 20)
    assert [len(lines) for lines in _journal_lines(tmp_path)] == [20]
    async with asyncio.timeout(10):
        await writer.flush()
    assert _journal_lines(tmp_path) == [[]]  # written: nothing left to replay
    await writer.aclose()
    assert await _count(db) == 20 and _files(tmp_path) == []


async def test_the_subject_and_client_id_of_an_access_token_are_recorded(
    db: Database, tmp_path: Path
) -> None:
    writer = AuditWriter(db, spill_dir=tmp_path)
    await writer.start()
    writer.record(
        client="keycloak:alice",
        server="everything",
        tool="echo",
        status="ok",
        latency_ms=1.0,
        subject="alice",
        client_id="claude-desktop",
    )
    writer.record(client="ci-bot", server="everything", tool="echo", status="ok", latency_ms=1.0)
    await writer.aclose()
    async with db.connection() as conn:
        cur = await conn.execute("SELECT client, subject, client_id FROM audit_log ORDER BY client")
        rows = await cur.fetchall()
    assert rows == [("ci-bot", None, None), ("keycloak:alice", "alice", "claude-desktop")]


def test_spill_lines_keep_the_identity_and_older_lines_still_read() -> None:
    record = AuditRecord(
        client="keycloak:alice",
        server="s",
        tool="t",
        status="ok",
        latency_ms=1.0,
        subject="alice",
        client_id="cli",
    )
    assert AuditRecord.from_json(record.to_json()) == record
    older = json.loads(record.to_json())
    del older["subject"], older["client_id"]  # written before the columns existed
    parsed = AuditRecord.from_json(json.dumps(older))
    assert parsed.subject is None and parsed.client_id is None and parsed.id == record.id
