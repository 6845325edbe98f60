"""Which calls count as the follow-up of a ``find_tools`` search (no I/O: a fake clock)."""

from __future__ import annotations

import numpy as np

from runtime.triage.follow_up import RecentSearches


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


VECTOR = np.ones(4, dtype=np.float32)


def test_a_call_to_an_offered_tool_follows_the_search_once() -> None:
    searches = RecentSearches(ttl=60, clock=Clock())
    searches.searched("ops", "dhcp leases", VECTOR, ["router/leases", "router/hosts"])
    assert searches.follow_up("ops", "router", "reboot") is None  # not offered: kept
    search = searches.follow_up("ops", "router", "hosts")
    assert search is not None and search.query == "dhcp leases"
    assert searches.follow_up("ops", "router", "leases") is None  # used up


def test_only_the_same_client_and_only_within_the_ttl() -> None:
    clock = Clock()
    searches = RecentSearches(ttl=60, clock=clock)
    searches.searched("ops", "dhcp leases", VECTOR, ["router/leases"])
    assert searches.follow_up("someone-else", "router", "leases") is None
    clock.now = 61
    assert searches.follow_up("ops", "router", "leases") is None
    assert len(searches) == 0  # the expired search is dropped


def test_a_new_search_replaces_the_last_and_clients_are_bounded() -> None:
    searches = RecentSearches(ttl=60, max_clients=2, clock=Clock())
    searches.searched("ops", "first", VECTOR, ["a/x"])
    searches.searched("ops", "second", VECTOR, ["a/y"])
    assert searches.follow_up("ops", "a", "x") is None
    searches.searched("b", "q", VECTOR, ["a/x"])
    searches.searched("c", "q", VECTOR, ["a/x"])
    assert len(searches) == 2
    assert searches.follow_up("ops", "a", "y") is None  # the oldest client was forgotten
    assert searches.follow_up("c", "a", "x") is not None
