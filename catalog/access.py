"""Access grants: which servers and which of their tools a caller may use, in one grammar.

A grant is ``SERVER[:TOOL[:ro]]``:

* ``SERVER`` — a server name, or a pattern where ``*`` stands for any run of characters
  (``kubernetes-*``; ``*`` is every server);
* ``TOOL`` — a tool's own name on that server (not the gateway's ``server__tool``) or a
  pattern (``pods_*``); left out it means every tool;
* ``:ro`` — only the server's read-only tools (the gateway's notion: the catalog's
  ``readOnlyTools`` or the tool's own ``readOnlyHint``).

``grafana``, ``grafana:*``, ``kubernetes-prod:pods_*``, ``*:*:ro`` and ``*`` are grants.
Opaque mcpfleet tokens carry grants as their scopes (a plain server name, which is what
older tokens hold, keeps meaning "every tool of that server"), and the catalog's issuer
rules turn an access token's scopes and claims into grants, so both kinds of token are
judged by the same few lines below.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

__all__ = ["GRANT_PATTERN", "Grant", "Grants", "parse_grant"]

GRANT_PATTERN = r"^[a-z0-9*][-a-z0-9*]{0,62}(:[A-Za-z0-9_./*-]{1,128}(:ro)?)?$"
"""The grammar as one regular expression (the catalog's JSON Schema carries it too)."""

_SHAPE = re.compile(GRANT_PATTERN)
_MODE_WORDS = frozenset({"ro", "rw"})


@cache
def _matcher(pattern: str) -> re.Pattern[str]:
    # Names never contain `?` or `[` (the grammar forbids them), so fnmatch's only
    # wildcard left is `*`.
    return re.compile(fnmatch.translate(pattern))


@dataclass(frozen=True)
class Grant:
    """One parsed grant; see the module docstring for the grammar."""

    server: str
    tool: str = "*"
    read_only: bool = False

    def __str__(self) -> str:
        if self.read_only:
            return f"{self.server}:{self.tool}:ro"
        return self.server if self.tool == "*" else f"{self.server}:{self.tool}"

    def covers_server(self, server: str) -> bool:
        return _matcher(self.server).match(server) is not None

    def covers(self, server: str, tool: str, read_only: bool) -> bool:
        """True if this grant lets its holder call ``tool`` of ``server``."""
        if self.read_only and not read_only:
            return False
        return self.covers_server(server) and _matcher(self.tool).match(tool) is not None

    def covers_every_tool(self, server: str, read_only: bool) -> bool:
        """True if it covers any tool ``server`` has or will have (for reads, if asked)."""
        if self.read_only and not read_only:
            return False
        return self.covers_server(server) and set(self.tool) == {"*"}


@lru_cache(maxsize=65_536)
def _allows_tool(grants: frozenset[Grant], server: str, tool: str, read_only: bool) -> bool:
    """Memoised: ``tools/list`` and triage ask it for every tool of the fleet, per request."""
    return any(g.covers(server, tool, read_only) for g in grants)


def parse_grant(text: str) -> Grant:
    """The grant ``text`` spells.

    Raises:
        ValueError: ``text`` is not a grant (the message says how to write one).
    """
    if not _SHAPE.match(text):
        raise ValueError(
            f"`{text}` is not a grant: write SERVER[:TOOL[:ro]] with lowercase server names, "
            "tool names of letters, digits and _ . / -, and * as the wildcard "
            "(e.g. `grafana`, `kubernetes-prod:pods_*`, `*:*:ro`)"
        )
    server, _, rest = text.partition(":")
    tool, _, mode = rest.partition(":")
    if tool in _MODE_WORDS and not mode:
        raise ValueError(
            f"`{text}` names a tool called `{tool}`; for read-only access to every tool of "
            f"`{server}` write `{server}:*:ro`"
        )
    return Grant(server=server, tool=tool or "*", read_only=mode == "ro")


@dataclass(frozen=True)
class Grants:
    """A caller's grants; empty allows nothing (``None`` scopes, not this, mean everything)."""

    grants: frozenset[Grant] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, texts: Iterable[str]) -> Grants:
        """Grants from stored or issued strings; one that does not parse grants nothing."""
        parsed = set()
        for text in texts:
            try:
                parsed.add(parse_grant(text))
            except ValueError:
                continue
        return cls(frozenset(parsed))

    def allows(self, server: str) -> bool:
        """Some tool of ``server`` may be used (so the server is visible at all)."""
        return any(g.covers_server(server) for g in self.grants)

    def allows_tool(self, server: str, tool: str, read_only: bool) -> bool:
        return _allows_tool(self.grants, server, tool, read_only)

    def allows_every_tool(self, server: str, read_only: bool) -> bool:
        return any(g.covers_every_tool(server, read_only) for g in self.grants)
