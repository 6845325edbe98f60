"""The grant grammar: what ``SERVER[:TOOL[:ro]]`` allows, and what it refuses to mean."""

from __future__ import annotations

import pytest

from catalog.access import Grant, Grants, parse_grant


@pytest.mark.parametrize(
    ("text", "grant"),
    [
        ("grafana", Grant("grafana")),
        ("grafana:*", Grant("grafana")),
        ("kubernetes-prod:pods_*", Grant("kubernetes-prod", "pods_*")),
        ("*:*:ro", Grant("*", "*", read_only=True)),
        ("proxmox-*:vm.status", Grant("proxmox-*", "vm.status")),
        ("*", Grant("*")),
    ],
)
def test_grants_parse_into_server_tool_and_mode(text: str, grant: Grant) -> None:
    assert parse_grant(text) == grant


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Grafana", "is not a grant"),
        ("grafana:", "is not a grant"),
        ("grafana::ro", "is not a grant"),
        ("grafana:query:rw", "is not a grant"),
        ("grafana:what?", "is not a grant"),
        ("grafana:ro", "for read-only access to every tool of `grafana` write `grafana:*:ro`"),
        ("grafana:rw", "names a tool called `rw`"),
    ],
)
def test_malformed_or_ambiguous_grants_are_refused_with_a_hint(text: str, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_grant(text)
    assert says in str(raised.value)


def test_a_plain_server_name_still_means_every_tool_of_that_server() -> None:
    """Opaque tokens issued before per-tool grants hold plain server names."""
    grants = Grants.parse(["flaky"])
    assert grants.allows("flaky") and not grants.allows("everything")
    assert grants.allows_tool("flaky", "write", read_only=False)
    assert grants.allows_every_tool("flaky", read_only=False)


def test_tool_patterns_cover_only_the_matching_tools() -> None:
    grants = Grants.parse(["kubernetes-prod:pods_*"])
    assert grants.allows("kubernetes-prod")
    assert grants.allows_tool("kubernetes-prod", "pods_list", read_only=False)
    assert not grants.allows_tool("kubernetes-prod", "secrets_get", read_only=True)
    assert not grants.allows_tool("kubernetes-prods", "pods_list", read_only=True)
    assert not grants.allows_every_tool("kubernetes-prod", read_only=True)


def test_read_only_grants_cover_reads_only() -> None:
    grants = Grants.parse(["*:*:ro"])
    assert grants.allows("anything")
    assert grants.allows_tool("grafana", "query", read_only=True)
    assert not grants.allows_tool("grafana", "create_dashboard", read_only=False)
    assert grants.allows_every_tool("grafana", read_only=True)
    assert not grants.allows_every_tool("grafana", read_only=False)


def test_server_patterns_match_whole_names_only() -> None:
    grants = Grants.parse(["proxmox-*"])
    assert grants.allows("proxmox-ruapehu")
    assert not grants.allows("old-proxmox-ruapehu")
    assert not grants.allows("proxmox")


def test_grants_that_do_not_parse_grant_nothing() -> None:
    """A stored scope that no longer parses fails closed rather than open."""
    grants = Grants.parse(["Not A Grant", "grafana:ro"])
    assert grants.grants == frozenset()
    assert not grants.allows("grafana")


def test_a_grant_prints_in_its_shortest_form() -> None:
    shown = [str(parse_grant(t)) for t in ("grafana:*", "a:b", "a:*:ro")]
    assert shown == ["grafana", "a:b", "a:*:ro"]
