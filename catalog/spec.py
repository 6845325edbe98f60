"""The base every catalog object shares, and the small value types several files use.

Kept apart from :mod:`catalog.model` so sections with a module of their own (the gateway's
``auth``, :mod:`catalog.auth`) build on the same base without importing the whole model.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

__all__ = [
    "DNS_LABEL",
    "DURATION",
    "SIZE",
    "ByteSize",
    "Duration",
    "Name",
    "Spec",
    "parse_duration",
    "parse_size",
]

DNS_LABEL = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
# At most 6 digits per part: larger ones overflow a timedelta at run time.
DURATION = r"^([0-9]{1,6}(ms|s|m|h|d))+$"
SIZE = r"^[1-9][0-9]{0,9}(Ki|Mi|Gi)?$"

Name = Annotated[str, StringConstraints(pattern=DNS_LABEL)]
Duration = Annotated[str, StringConstraints(pattern=DURATION, max_length=32)]
ByteSize = Annotated[str, StringConstraints(pattern=SIZE, max_length=16)]
"""Bytes, optionally in KiB, MiB or GiB: ``4Mi``."""

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_BYTES = {"": 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


def parse_duration(text: str) -> timedelta:
    """Turn a catalog duration such as ``30s``, ``1h30m`` or ``30d`` into a timedelta."""
    parts = re.findall(r"([0-9]+)(ms|s|m|h|d)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h30m, 30d)")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def parse_size(text: str) -> int:
    """Turn a catalog size such as ``4Mi`` or ``65536`` into bytes."""
    match = re.fullmatch(SIZE, text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 65536, 512Ki, 4Mi)")
    return int(text.removesuffix(match.group(1) or "")) * _BYTES[match.group(1) or ""]


class Spec(BaseModel):
    """Base for every catalog object: immutable, camelCase in YAML, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=True,
    )
