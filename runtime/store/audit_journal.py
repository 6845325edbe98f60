"""The audit writer's journal: every record is on disk before ``record()`` returns.

Batching inserts (a linger, large batches) saves database work per call but keeps records
in memory for a while; a process that crashes (OOM kill, SIGKILL, a segfault in an
extension) would lose them. So each record is first appended to this process's journal
file (one ``write`` on an ``O_APPEND`` descriptor, no ``fsync``: the kernel keeps it
through a process crash; a machine crash may lose the last moments, as PostgreSQL's own
``synchronous_commit = off`` would). When every journaled record has been inserted the
file is emptied (one ``ftruncate``). What is left of a dead process's journal, or a
journal handed over while the database is down, becomes a spill file
(``audit-spill.jsonl.replay-<pid>-…``) that the writer replays: record ids make the
replay insert nothing twice.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from runtime.store.audit_records import AuditRecord

__all__ = ["Journal"]

PREFIX = "audit-journal-"
_LIVE: set[str] = set()  # journals open in this process (several writers may share a dir)


class Journal:
    """This process's journal in ``directory``; ``generation`` counts hand-overs."""

    def __init__(self, directory: Path, spill_name: str) -> None:
        self._directory = directory
        self._spill_name = spill_name
        self.path = directory / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}.jsonl"
        _LIVE.add(self.path.name)
        self._fd: int | None = None
        self.pending = 0  # journaled, not yet known to be in the database
        self.generation = 0

    def append(self, record: AuditRecord) -> int:
        """Write one record; returns the generation it belongs to."""
        if self._fd is None:
            self._directory.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(self._fd, (record.to_json() + "\n").encode())
        self.pending += 1
        return self.generation

    def written(self, generation: int, count: int) -> None:
        """``count`` records of ``generation`` are in the database; empty the file when all are."""
        if generation != self.generation:
            return  # they were handed over with an earlier file (its replay skips them)
        self.pending -= count
        if self.pending <= 0 and self._fd is not None:
            self.pending = 0
            os.ftruncate(self._fd, 0)

    def hand_over(self) -> Path | None:
        """Make the journal a spill file for replay (its records leave memory); start anew."""
        self.generation += 1
        self.pending = 0
        if self._fd is None:
            return None
        os.close(self._fd)
        self._fd = None
        if self.path.stat().st_size == 0:
            self.path.unlink(missing_ok=True)
            return None
        return _to_spill(self.path, self._spill_name)

    def close(self) -> None:
        """Remove an empty journal, or hand over what it still holds."""
        if self.pending:
            self.hand_over()
        elif self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self.path.unlink(missing_ok=True)
        _LIVE.discard(self.path.name)

    def adopt_orphans(self) -> int:
        """Hand over the journals no live writer owns: those of processes that no longer
        run, and this pid's own from an earlier process (a container's pid 1 restarts)."""
        adopted = 0
        for path in sorted(self._directory.glob(f"{PREFIX}*.jsonl")):
            owner = path.name.removeprefix(PREFIX).split("-", 1)[0]
            if not owner.isdigit() or path.name in _LIVE:
                continue
            if int(owner) != os.getpid() and _alive(int(owner)):
                continue
            if path.stat().st_size == 0:
                path.unlink(missing_ok=True)
                continue
            _to_spill(path, self._spill_name)
            adopted += 1
        return adopted


def _to_spill(path: Path, spill_name: str) -> Path:
    """Rename to a replay file this process owns (see :meth:`SpillFile.claim`)."""
    target = path.with_name(f"{spill_name}.replay-{os.getpid()}-{uuid.uuid4().hex}")
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, target)
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
