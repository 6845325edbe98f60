"""How federated names are made: ``<server>__<tool>`` (prompts the same way).

Server names are DNS labels, so they never contain ``__``; splitting at the first ``__``
is therefore unambiguous even when the upstream's own tool name contains one.
"""

from __future__ import annotations

__all__ = ["SEPARATOR", "federated_name", "split_name"]

SEPARATOR = "__"


def federated_name(server: str, name: str) -> str:
    return f"{server}{SEPARATOR}{name}"


def split_name(federated: str) -> tuple[str, str] | None:
    """``(server, name)`` for a federated name, or ``None`` when it has no server part."""
    server, sep, name = federated.partition(SEPARATOR)
    if not sep or not server or not name:
        return None
    return server, name
