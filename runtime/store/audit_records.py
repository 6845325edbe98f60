"""What one audit record holds, how its arguments are redacted, and its JSONL spill file.

Kept apart from the writer so the redaction rules and the on-disk format can be read (and
tested) on their own.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import Field, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["COLUMNS", "REDACTED", "AuditRecord", "SpillFile", "redact_arguments"]

REDACTED = "[redacted]"
_SENSITIVE_KEY = re.compile(r"pass|secret|token|key|auth|credential|cookie|session", re.I)
_MAX_STRING = 1024


@dataclass(frozen=True)
class AuditRecord:
    """One tool call as the audit log keeps it (arguments already redacted).

    The one place that lists the columns: the writer's insert, the spill files and their
    replay are all derived from these fields (a new column is a migration plus a field
    here, with a default so older spill files still replay).
    """

    client: str = field(metadata={"sql": "text"})
    server: str = field(metadata={"sql": "text"})
    tool: str = field(metadata={"sql": "text"})
    status: str = field(metadata={"sql": "text"})
    latency_ms: float = field(metadata={"sql": "float8"})
    arguments: dict[str, Any] = field(default_factory=dict, metadata={"sql": "jsonb"})
    error: str | None = field(default=None, metadata={"sql": "text"})
    #: The access token's subject, when the caller came with one from an issuer.
    subject: str | None = field(default=None, metadata={"sql": "text"})
    #: The OAuth client that obtained that token.
    client_id: str | None = field(default=None, metadata={"sql": "text"})
    #: The end user a service token called for (``X-Mcpfleet-On-Behalf-Of``), if any.
    on_behalf_of: str | None = field(default=None, metadata={"sql": "text"})
    at: datetime = field(default_factory=lambda: datetime.now(UTC), metadata={"sql": "timestamptz"})
    id: uuid.UUID = field(default_factory=uuid.uuid4, metadata={"sql": "uuid"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "latency_ms", float(self.latency_ms))

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in COLUMNS}
        data["at"] = self.at.isoformat()
        data["id"] = str(self.id)
        return json.dumps(data, separators=(",", ":"), default=str)

    @classmethod
    def from_json(cls, line: str) -> AuditRecord:
        """Parse one spill-file line (a column it lacks takes the field's default).

        Raises:
            ValueError: the line is not a record this module wrote.
        """
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not an audit record: not an object")
        try:
            values = {
                f.name: _PARSE.get(f.name, _text)(data[f.name]) for f in COLUMNS if f.name in data
            }
            return cls(**values)
        except (TypeError, KeyError) as exc:
            raise ValueError(f"not an audit record: {exc}") from exc

    def values(self) -> tuple[Any, ...]:
        """The record's column values in :data:`COLUMNS` order, as the database takes them."""
        return tuple(
            json.dumps(getattr(self, f.name), separators=(",", ":"), default=str)
            if f.metadata["sql"] == "jsonb"
            else getattr(self, f.name)
            for f in COLUMNS
        )


COLUMNS: tuple[Field[Any], ...] = fields(AuditRecord)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


_PARSE: dict[str, Any] = {
    "latency_ms": float,
    "arguments": dict,
    "at": datetime.fromisoformat,
    "id": uuid.UUID,
}


def redact_arguments(arguments: Mapping[str, Any] | None, *, keep_values: bool) -> dict[str, Any]:
    """Arguments fit to store: keys only by default; with ``keep_values``, values too, but
    never those under secret-looking keys (password, token, api_key, ...), and long strings
    clipped."""
    if not arguments:
        return {}
    if not keep_values:
        return {str(key): REDACTED for key in arguments}
    return {str(key): _keep(str(key), value) for key, value in arguments.items()}


def _keep(key: str, value: Any) -> Any:
    if _SENSITIVE_KEY.search(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): _keep(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_keep("", v) for v in value]
    if isinstance(value, str) and len(value) > _MAX_STRING:
        return f"{value[:_MAX_STRING]}…(+{len(value) - _MAX_STRING} chars)"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class SpillFile:
    """The JSONL file records go to when the database cannot take them; replayed later.

    Appends are whole lines in one ``write`` on an ``O_APPEND`` descriptor, so writers in
    several processes sharing a data directory do not interleave. A replay first renames
    the file, so records spilled during the replay land in a fresh file.
    """

    def __init__(self, directory: Path, name: str = "audit-spill.jsonl") -> None:
        self.path = directory / name
        self._directory = directory

    def append(self, records: list[AuditRecord]) -> None:
        if not records:
            return
        self._directory.mkdir(parents=True, exist_ok=True)
        payload = "".join(record.to_json() + "\n" for record in records).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)

    def exists(self) -> bool:
        return self.path.exists()

    def claim(self) -> Path | None:
        """Move the current spill file aside for replay; None when there is nothing.

        A claimed file is named after the claiming process; one left by this process or by
        a process that no longer runs (a replay cut short) is claimed again first.
        """
        for pending in sorted(self._directory.glob(f"{self.path.name}.replay-*")):
            owner = pending.name.rsplit(".replay-", 1)[1].split("-", 1)[0]
            if not owner.isdigit() or int(owner) == os.getpid() or not _alive(int(owner)):
                return pending
        claimed = self.path.with_name(f"{self.path.name}.replay-{os.getpid()}-{uuid.uuid4().hex}")
        try:
            os.replace(self.path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    @staticmethod
    def read(path: Path) -> Iterator[AuditRecord | str]:
        """Records of a claimed file; an unparseable line is yielded as-is to keep aside."""
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    yield AuditRecord.from_json(line)
                except ValueError:
                    yield line


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
