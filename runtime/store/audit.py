"""The audit log writer: ``record()`` costs a tool call nothing, and no record is lost.

``record()`` appends to an in-memory queue and returns; a background task inserts batches
(one ``INSERT … SELECT unnest(…)`` per batch). When the database is unreachable the
queue keeps the records and the task retries with back-off; when the queue is full, or at
shutdown with the database still down, records go to a JSONL spill file in the data
directory, replayed once the database takes writes again (or on the next start). Record
ids are made here, so a replay that is interrupted and repeated inserts nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from runtime.db import Database
from runtime.store.audit_records import AuditRecord, SpillFile, redact_arguments

__all__ = ["AuditWriter"]

log = logging.getLogger(__name__)

_INSERT = """
INSERT INTO audit_log
       (id, at, client, server, tool, status, latency_ms, arguments, error, on_behalf_of)
SELECT id, at, client, server, tool, status, latency_ms, arguments::jsonb, error, on_behalf_of
  FROM unnest(%s::uuid[], %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[],
              %s::float8[], %s::text[], %s::text[], %s::text[])
       AS r(id, at, client, server, tool, status, latency_ms, arguments, error, on_behalf_of)
ON CONFLICT (id) DO NOTHING
"""


class AuditWriter:
    """Queues audit records and writes them in batches; see the module docstring."""

    def __init__(
        self,
        db: Database,
        *,
        spill_dir: Path,
        keep_argument_values: bool = False,
        max_queue: int = 10_000,
        batch_size: int = 500,
        connect_timeout: float = 2.0,
        retry_max: float = 5.0,
        linger: float = 0.01,
    ) -> None:
        self._db = db
        self._linger = linger  # gather sequential calls into one insert, at a 10 ms cost
        self._spill = SpillFile(spill_dir)
        self._rejects = SpillFile(spill_dir, "audit-rejected.jsonl")
        self._keep_values = keep_argument_values
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._connect_timeout = connect_timeout
        self._retry_max = retry_max
        self._queue: deque[AuditRecord] = deque()
        self._inflight: list[AuditRecord] = []  # the batch being inserted right now
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._closing = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._replay_due = True
        self.written = 0
        self.spilled = 0

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def spill_path(self) -> Path:
        return self._spill.path

    async def start(self) -> None:
        """Start the background writer; it first replays any spill file left behind."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")
            self._drained.clear()  # flush() also waits for the replay
            self._wake.set()

    def record(
        self,
        *,
        client: str,
        server: str,
        tool: str,
        status: str,
        latency_ms: float,
        arguments: Mapping[str, Any] | None = None,
        error: str | None = None,
        at: datetime | None = None,
        on_behalf_of: str | None = None,
    ) -> None:
        """Queue one tool call's record; never blocks, never raises for a full queue.

        ``on_behalf_of`` is the end user a service token called for (see the gateway's
        ``X-Mcpfleet-On-Behalf-Of``); None when the client acted for itself.
        """
        fields: dict[str, Any] = {
            "client": _clean(client),
            "server": _clean(server),
            "tool": _clean(tool),
            "status": _clean(status),
            "latency_ms": float(latency_ms),
            "arguments": _clean_tree(redact_arguments(arguments, keep_values=self._keep_values)),
            "error": None if error is None else _clean(error),
            "on_behalf_of": None if on_behalf_of is None else _clean(on_behalf_of),
        }
        if at is not None:
            fields["at"] = at
        entry = AuditRecord(**fields)
        if self._closed:
            self._spill_now([entry])
            return
        if len(self._queue) >= self._max_queue:
            # Full (the database is down or slow): move the whole queue to disk in one write
            # rather than one fsync per record, and start filling memory again.
            self._spill_now([*self._queue, entry])
            self._queue.clear()
            return
        self._queue.append(entry)
        self._drained.clear()
        self._wake.set()

    async def flush(self) -> None:
        """Wait until every queued record is written (bound it with ``asyncio.timeout``)."""
        await self._drained.wait()

    async def aclose(self, grace: float = 10.0) -> None:
        """Write what is queued; whatever the database will not take within ``grace``
        seconds is spilled to the file."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        if self._task is None and self._queue:
            await self.start()
        self._wake.set()
        if self._task is not None:
            try:
                async with asyncio.timeout(grace):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        # A batch cut off mid-insert may have landed too; its ids make the replay skip it.
        self._spill_now([*self._inflight, *self._queue])
        self._inflight = []
        self._queue.clear()
        self._drained.set()

    # ------------------------------------------------------------------ background

    async def _run(self) -> None:
        delay = 0.1
        while True:
            await self._wake.wait()
            if self._linger and len(self._queue) < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._linger):
                        await self._closing.wait()
            self._wake.clear()
            try:
                if self._replay_due:
                    await self._replay()
                while self._queue:
                    count = min(self._batch_size, len(self._queue))
                    batch = self._inflight = [self._queue.popleft() for _ in range(count)]
                    try:
                        await self._write(batch)
                    except Exception:
                        self._queue.extendleft(reversed(batch))
                        self._inflight = []
                        raise
                    # (if cancelled mid-insert, _inflight stays for aclose to spill)
                    self._inflight = []
                    self.written += len(batch)
                delay = 0.1
                self._drained.set()
            except Exception as exc:  # the task's top level: it must outlive any failure
                if self._closing.is_set():
                    return  # aclose spills what is left
                if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
                    log.warning("audit log: database unavailable (%s); retry in %.1fs", exc, delay)
                else:
                    log.exception("audit log: writer failed; retrying in %.1fs", delay)
                self._replay_due = True
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._closing.wait()
                delay = min(delay * 2, self._retry_max)
                self._wake.set()
                continue
            if self._closing.is_set():
                return

    async def _write(self, batch: list[AuditRecord]) -> None:
        """Insert one batch. If the database refuses it as data, the records are retried one
        by one and only those it still refuses are set aside in the rejects file."""
        try:
            async with self._db.pool.connection(timeout=self._connect_timeout) as conn:
                await conn.execute(_INSERT, _columns(batch))
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise
        except psycopg.Error as exc:
            if len(batch) > 1:
                for record in batch:
                    await self._write([record])
                return
            where = self._rejects.path
            log.error("audit log: a record was rejected (%s); kept in %s", exc, where)
            self._rejects.append(batch)

    async def _replay(self) -> None:
        """Insert the records of earlier spill files (this process's or a previous run's)."""
        while (claimed := self._spill.claim()) is not None:
            started = time.monotonic()
            batch: list[AuditRecord] = []
            count = 0
            for item in SpillFile.read(claimed):
                if isinstance(item, str):
                    log.error("audit log: unreadable spill line kept in %s", self._rejects.path)
                    self._append_raw(item)
                    continue
                batch.append(item)
                if len(batch) >= self._batch_size:
                    await self._write(batch)
                    count += len(batch)
                    batch = []
            if batch:
                await self._write(batch)
                count += len(batch)
            claimed.unlink(missing_ok=True)
            self.written += count
            elapsed = time.monotonic() - started
            log.info("audit log: replayed %d spilled records in %.2fs", count, elapsed)
        self._replay_due = False

    # ------------------------------------------------------------------ spilling

    def _spill_now(self, records: list[AuditRecord]) -> None:
        if not records:
            return
        self._spill.append(records)
        self.spilled += len(records)
        self._replay_due = True
        log.warning("audit log: %d records spilled to %s", len(records), self._spill.path)

    def _append_raw(self, line: str) -> None:
        path = self._rejects.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line if line.endswith("\n") else line + "\n")


def _columns(batch: list[AuditRecord]) -> tuple[list[Any], ...]:
    return (
        [r.id for r in batch],
        [r.at for r in batch],
        [r.client for r in batch],
        [r.server for r in batch],
        [r.tool for r in batch],
        [r.status for r in batch],
        [r.latency_ms for r in batch],
        [json.dumps(r.arguments, separators=(",", ":"), default=str) for r in batch],
        [r.error for r in batch],
        [r.on_behalf_of for r in batch],
    )


def _clean(text: str) -> str:
    """PostgreSQL text cannot hold NUL; keep everything else as given."""
    return str(text).replace("\x00", "\ufffd")


def _clean_tree(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {_clean(str(k)): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_tree(v) for v in value]
    return value
