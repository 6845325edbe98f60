"""Words for the keyword side of retrieval: tokenising, light stemming, query expansion.

Tool names are identifiers (``opn_list_dhcp_leases``, ``listPrometheusLabelValues``) and
queries are colloquial, sometimes German or Spanish; this module brings both to the same
stemmed English terms, and expands a query with the operator vocabulary in
``lexicon.yaml`` so "kick the laptop off the wifi" can meet ``force_reconnect_client``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ruamel.yaml import YAML

__all__ = ["Lexicon", "Term", "lexicon", "stem", "tokens"]

LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z0-9äöüßáéíóúñ]+(?:[.:][a-z0-9]+)*")
_BRAND = re.compile(r"\b[A-Za-z][a-z]*[A-Z][A-Za-z]*\b")
_NUMERIC = re.compile(r"^[0-9.:]+$")


def stem(word: str) -> str:
    """Strip common English inflections so "leases", "leased" and "lease" meet ("leas").

    Deliberately light (no dictionary): over-stemming merges words operators keep apart.
    A final "e" goes too, so "enable" and "enabled" agree.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    base = word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + keep
            if suffix in ("ing", "ed"):
                base = _undouble(base)
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            base = word[:-1]
    if len(base) > 4 and base.endswith("e"):
        base = base[:-1]
    return base


def _undouble(word: str) -> str:
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case words of ``text``, splitting identifiers on ``_``, ``-``, ``/`` and camelCase.

    A short camel-cased brand stays whole as well as split: "GitHub" gives ``git``, ``hub``
    and ``github``, so a tool described as "from a GitHub repository" meets "on github".
    """
    plain = text.replace("_", " ").replace("-", " ").replace("/", " ")
    spaced = _CAMEL.sub(" ", plain)
    out = _WORD.findall(spaced.lower())
    for brand in _BRAND.findall(plain):
        if len(brand) <= 14 and _CAMEL.search(brand):
            out.append(brand.lower())
    return out


def tokens(text: str, stopwords: frozenset[str] = frozenset()) -> list[str]:
    """Stemmed terms of ``text`` without stopwords or bare numbers/addresses."""
    return [
        stem(w) for w in words(text) if w not in stopwords and not _NUMERIC.match(w) and len(w) > 1
    ]


@dataclass(frozen=True)
class Term:
    """A query term and how much it counts (1 for the user's own words, less for expansions)."""

    text: str
    weight: float


@dataclass(frozen=True)
class Lexicon:
    """Stopwords, synonym groups and translations, all stemmed, ready for lookup."""

    stopwords: frozenset[str]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # term -> group terms
    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "a b" -> group terms
    translations: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def translate(self, text: str) -> str:
        """Word-by-word English rendering of a (partly) German or Spanish query."""
        out: list[str] = []
        for raw in re.findall(r"\S+", text):
            word = raw.lower().strip(".,;:!?¿¡()\"'")
            out.extend(self.translations.get(word, (raw,)))
        return " ".join(out)

    def expand(self, text: str, expansion_weight: float = 0.4) -> list[Term]:
        """The query's own terms (weight 1) plus synonyms of them (``expansion_weight``)."""
        translated = self.translate(text)
        own = tokens(translated, self.stopwords)
        terms: dict[str, float] = {}
        for t in own:
            terms[t] = 1.0
        lowered = " ".join(words(translated))
        related: list[str] = []
        for phrase, group in self.phrases.items():
            if f" {phrase} " in f" {lowered} ":
                related.extend(group)
        for t in own:
            related.extend(self.synonyms.get(t, ()))
        for t in related:
            if t not in terms and t not in self.stopwords:
                terms[t] = expansion_weight
        return [Term(t, w) for t, w in terms.items()]


def _group_terms(entries: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for entry in entries:
        for t in tokens(str(entry)):
            if t not in out:
                out.append(t)
    return tuple(out)


@cache
def lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """Load ``lexicon.yaml`` once per process."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    stop = frozenset(str(w) for w in data.get("stopwords", []))
    synonyms: dict[str, tuple[str, ...]] = {}
    phrases: dict[str, tuple[str, ...]] = {}
    for group in data.get("synonyms", []):
        members = _group_terms(group)
        for entry in group:
            entry_words = words(str(entry))
            if len(entry_words) > 1:
                phrases[" ".join(entry_words)] = members
            else:
                for t in tokens(str(entry)):
                    synonyms[t] = tuple(
                        dict.fromkeys(synonyms.get(t, ()) + tuple(m for m in members if m != t))
                    )
    translations = {
        str(k).lower(): tuple(str(v) for v in vs)
        for k, vs in (data.get("translations") or {}).items()
    }
    return Lexicon(stopwords=stop, synonyms=synonyms, phrases=phrases, translations=translations)
