"""Typo tolerance for the keyword side: "proceses" should still meet ``talos_processes``.

Only words the index has never seen are corrected, only to a word one edit away (a
missing, extra, swapped or wrong letter), and only when that word is unambiguous — a
correction that could go two ways is no correction.
"""

from __future__ import annotations

from collections.abc import Container

__all__ = ["correction"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: Shorter words are too often another real word one letter away ("pod" / "pad").
MIN_LENGTH = 5


def _one_edit(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | swaps | replaces | inserts) - {word}


def correction(word: str, vocabulary: Container[str]) -> str | None:
    """The one vocabulary word ``word`` is a single typo of, if there is exactly one."""
    if len(word) < MIN_LENGTH or not word.isalpha() or word in vocabulary:
        return None
    found = [w for w in _one_edit(word) if w in vocabulary]
    return found[0] if len(found) == 1 else None
