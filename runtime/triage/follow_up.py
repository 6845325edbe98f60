"""Learning from ``find_tools``: a search followed by a call to one of the tools it offered.

An MCP client that searches with ``find_tools`` and then calls one of the offered tools
has told us which tool fits its words — the same signal as a confirmed ``/api/v1/query``,
given without anyone filling in a form. ``RecentSearches`` keeps each client's last search
for a short while; when the gateway reports a successful call (``CallObserver``), the
search it followed is remembered once, with source ``find_tools``.

Only the last search per client counts and only for ``ttl`` seconds: a call long after a
search, or to a tool the search did not offer, says nothing about the search's words.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np

__all__ = ["FOLLOW_UP_TTL", "RecentSearches", "Search"]

#: How long after a search a call still counts as its follow-up (seconds).
FOLLOW_UP_TTL = 600.0
#: Clients tracked at once; the oldest is forgotten first (bounded memory per process).
MAX_CLIENTS = 10_000


@dataclass(frozen=True)
class Search:
    """One ``find_tools`` search: its words, their vector and the tools offered."""

    query: str
    vector: np.ndarray
    offered: frozenset[str]  # "server/tool"
    at: float


class RecentSearches:
    """Each client's latest ``find_tools`` search, until a follow-up call or ``ttl``."""

    def __init__(
        self,
        ttl: float = FOLLOW_UP_TTL,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_clients
        self._clock = clock
        self._by_client: OrderedDict[str, Search] = OrderedDict()

    def searched(
        self, client: str, query: str, vector: np.ndarray, offered: Collection[str]
    ) -> None:
        """Note ``client``'s search (replacing its previous one)."""
        self._by_client.pop(client, None)
        self._by_client[client] = Search(query, vector, frozenset(offered), self._clock())
        while len(self._by_client) > self._max:
            self._by_client.popitem(last=False)

    def follow_up(self, client: str, server: str, tool: str) -> Search | None:
        """The search this call follows up, at most once per search; None when it follows
        none (no recent search by ``client``, expired, or the tool was not offered)."""
        search = self._by_client.get(client)
        if search is None:
            return None
        if self._clock() - search.at > self._ttl:
            del self._by_client[client]
            return None
        if f"{server}/{tool}" not in search.offered:
            return None
        del self._by_client[client]
        return search

    def __len__(self) -> int:
        return len(self._by_client)
