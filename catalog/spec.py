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

__all__ = ["DNS_LABEL", "DURATION", "Duration", "Name", "Spec", "parse_duration"]

DNS_LABEL = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
DURATION = r"^([0-9]+(ms|s|m|h|d))+$"

Name = Annotated[str, StringConstraints(pattern=DNS_LABEL)]
Duration = Annotated[str, StringConstraints(pattern=DURATION)]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """Turn a catalog duration such as ``30s``, ``1h30m`` or ``30d`` into a timedelta."""
    parts = re.findall(r"([0-9]+)(ms|s|m|h|d)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h30m, 30d)")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


class Spec(BaseModel):
    """Base for every catalog object: immutable, camelCase in YAML, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=True,
    )
