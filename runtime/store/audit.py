"""The audit log writer: ``record()`` costs a tool call next to nothing, and no record is lost.

``record()`` appends the record to this process's journal file (one ``write``, see
:mod:`runtime.store.audit_journal`) and to an in-memory queue, and returns; a background
task inserts batches (one multi-row ``INSERT … SELECT unnest(…)`` per batch, in
autocommit: one round trip), lingering briefly after a quiet spell so sequential calls
share a batch. The journal is what makes batching safe: a process that crashes leaves
its records on disk, and the next writer in that data directory replays them. When the
database is unreachable the queue keeps the records and the task retries with back-off;
when the queue is full, or at shutdown with the database still down, the journal is
handed over as a spill file and memory is freed; spill files are replayed once the
database takes writes again (or on the next start). Record ids are made here, so a
replay that is interrupted and repeated inserts nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from runtime.db import Database
from runtime.store.audit_journal import Journal
from runtime.store.audit_records import COLUMNS, AuditRecord, SpillFile, redact_arguments

__all__ = ["AuditWriter"]

log = logging.getLogger(__name__)


def _insert_sql() -> str:
    """The batch insert, derived from :data:`COLUMNS` (one array parameter per column)."""
    names = ", ".join(f.name for f in COLUMNS)
    arrays = ", ".join(
        f"%s::{'text' if f.metadata['sql'] == 'jsonb' else f.metadata['sql']}[]" for f in COLUMNS
    )
    picks = ", ".join(
        f"{f.name}::jsonb" if f.metadata["sql"] == "jsonb" else f.name for f in COLUMNS
    )
    return (
        f"INSERT INTO audit_log ({names}) SELECT {picks} FROM unnest({arrays}) AS r({names}) "
        "ON CONFLICT (id) DO NOTHING"
    )


_INSERT = _insert_sql()
Queued = tuple[AuditRecord, int]  # a record and the journal generation it was written to


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
        retry_max: float = 1.0,
        linger: float = 0.05,
    ) -> None:
        self._db = db
        self._linger = linger  # sequential calls share an insert (the journal keeps them safe)
        self._spill = SpillFile(spill_dir)
        self._rejects = SpillFile(spill_dir, "audit-rejected.jsonl")
        self._keep_values = keep_argument_values
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._connect_timeout = connect_timeout
        self._retry_max = retry_max
        self._journal = Journal(spill_dir, self._spill.path.name)
        self._queue: deque[Queued] = deque()
        self._inflight: list[Queued] = []  # the batch being inserted right now
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
        """Start the background writer; it first replays any spill file left behind
        (and the journals of processes that died with records in them)."""
        if self._task is None:
            adopted = self._journal.adopt_orphans()
            if adopted:
                log.warning("audit log: replaying %d journal(s) a crashed process left", adopted)
            self._task = asyncio.create_task(self._run(), name="audit-writer")
            self._drained.clear()  # flush() also waits for the replay
            self._wake.set()

    def record(
        self,
        *,
        arguments: Mapping[str, Any] | None = None,
        at: datetime | None = None,
        **columns: Any,
    ) -> None:
        """Queue one tool call's record; never blocks, never raises for a full queue.

        ``columns`` are the other fields of :class:`AuditRecord` (client, server, tool,
        status, latency_ms, error, …); text is cleaned of NUL characters.

        Raises:
            TypeError: a column :class:`AuditRecord` does not have (a programming error).
        """
        fields: dict[str, Any] = {
            name: _clean(value) if isinstance(value, str) else value
            for name, value in columns.items()
        }
        fields["arguments"] = _clean_tree(
            redact_arguments(arguments, keep_values=self._keep_values)
        )
        if at is not None:
            fields["at"] = at
        entry = AuditRecord(**fields)
        if self._closed:
            self._spill_now([entry])
            return
        generation = self._journal.append(entry)
        if len(self._queue) >= self._max_queue:
            # Full (the database is down or slow): everything since the last successful
            # insert is already in the journal; hand it over for replay and free memory.
            self._hand_over()
            return
        self._queue.append((entry, generation))
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
        # What is not known to be written (a batch cut off mid-insert may have landed too;
        # its ids make the replay skip it) is in the journal: hand it over for replay.
        if self._journal.pending:
            self._hand_over()
        self._journal.close()
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
                        await self._write([record for record, _ in batch])
                    except Exception:
                        # put back what was not handed over meanwhile (that is on disk)
                        current = self._journal.generation
                        self._queue.extendleft(reversed([q for q in batch if q[1] == current]))
                        self._inflight = []
                        raise
                    # (if cancelled mid-insert, _inflight stays: the journal still has it)
                    self._inflight = []
                    self.written += len(batch)
                    for generation in {g for _, g in batch}:
                        self._journal.written(generation, sum(g == generation for _, g in batch))
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
            async with self._db.connection(wait=self._connect_timeout, autocommit=True) as conn:
                await conn.execute(_INSERT, _columns(batch))  # one statement, one round trip
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

    def _hand_over(self) -> None:
        """Move the journal (everything not yet written) to a spill file; clear memory."""
        count = self._journal.pending
        path = self._journal.hand_over()
        self._queue.clear()
        self.spilled += count
        self._replay_due = True
        self._wake.set()
        log.warning("audit log: %d records handed over to %s for replay", count, path)

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
    """One list per column (the insert's arrays), in :data:`COLUMNS` order."""
    return tuple(list(column) for column in zip(*(r.values() for r in batch), strict=True))


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
