"""Typo tolerance: one unambiguous edit to a word the index knows, nothing more."""

from __future__ import annotations

from runtime.triage.spelling import correction

VOCABULARY = frozenset({"process", "lease", "leases", "snapshot", "reboot", "rebook"})


def test_a_single_typo_of_a_known_word_is_corrected() -> None:
    assert correction("proces", VOCABULARY) == "process"  # a missing letter
    assert correction("snapshto", VOCABULARY) == "snapshot"  # two letters swapped
    assert correction("snapzhot", VOCABULARY) == "snapshot"  # a wrong letter


def test_known_short_ambiguous_and_distant_words_are_left_alone() -> None:
    assert correction("process", VOCABULARY) is None  # already known
    assert correction("lese", VOCABULARY) is None  # too short to guess at
    assert correction("reboox", VOCABULARY) is None  # reboot or rebook: no correction
    assert correction("snpshto", VOCABULARY) is None  # two edits away
    assert correction("v1234", VOCABULARY) is None  # not a word
