"""Operator words for well-known MCP server software (``profiles.yaml``).

A catalog server says what it is in one line ("OPNsense edge firewall and router ...");
operators also call it "the router", "pf", "kea". The profile of its software adds those
words to server-level ranking. Matching is by the server's name, package or image.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ruamel.yaml import YAML

from runtime.triage.terms import words

__all__ = ["Profile", "profile_for", "profiles"]

PROFILES_PATH = Path(__file__).with_name("profiles.yaml")


@dataclass(frozen=True)
class Profile:
    software: str
    match: tuple[str, ...]
    description: str
    keywords: tuple[str, ...]


@cache
def profiles(path: Path = PROFILES_PATH) -> tuple[Profile, ...]:
    """All profiles, loaded once per process."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    return tuple(
        Profile(
            software=str(name),
            match=tuple(str(m).lower() for m in spec.get("match", [name])),
            description=" ".join(str(spec.get("description", "")).split()),
            keywords=tuple(str(k) for k in spec.get("keywords", [])),
        )
        for name, spec in data.items()
    )


def profile_for(name: str, hints: Iterable[str] = ()) -> Profile | None:
    """The profile whose match words appear in the server's name or hints (package, image)."""
    haystacks = [name, *hints]
    for profile in profiles():
        for text in haystacks:
            tokens = set(words(text))
            joined = text.lower()
            if any(m in tokens or (len(m) > 4 and m in joined) for m in profile.match):
                return profile
    return None
