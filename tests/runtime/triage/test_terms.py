"""Tokenising identifiers and queries, light stemming, and lexicon expansion."""

from __future__ import annotations

from runtime.triage.terms import lexicon, stem, tokens, words


def test_identifiers_split_on_underscores_dashes_and_camel_case() -> None:
    assert words("opn_list_dhcp_leases") == ["opn", "list", "dhcp", "leases"]
    assert words("listPrometheusLabelValues") == ["list", "prometheus", "label", "values"]
    assert words("get-resource-links") == ["get", "resource", "links"]


def test_inflections_meet_at_one_stem() -> None:
    assert stem("leases") == stem("lease") == stem("leased")
    assert stem("enabled") == stem("enable")
    assert stem("policies") == stem("policy")
    assert stem("running") == "run"
    assert stem("status") == "status"


def test_tokens_drop_stopwords_and_bare_numbers() -> None:
    assert tokens("show the 10.0.0.1 leases", frozenset({"the", "show"})) == [stem("lease")]


def test_expansion_keeps_own_words_at_full_weight_and_adds_synonyms_lower() -> None:
    terms = {t.text: t.weight for t in lexicon().expand("restart the vm")}
    assert terms["restart"] == 1.0
    assert terms["vm"] == 1.0
    assert 0 < terms["reboot"] < 1
    assert 0 < terms["virtual"] < 1


def test_multi_word_synonyms_match_as_phrases() -> None:
    terms = {t.text for t in lexicon().expand("open a pull request")}
    assert "pr" in terms


def test_german_and_spanish_words_are_translated_before_matching() -> None:
    assert lexicon().translate("Zeige alle Knoten") == "show all node"
    assert {t.text for t in lexicon().expand("muestra los registros")} >= {"log"}


def test_camel_cased_brands_stay_whole_as_well_as_split() -> None:
    found = words("Get a file from a GitHub repository via listPrometheusLabelValues")
    assert {"git", "hub", "github"} <= set(found)
    assert {"list", "prometheus", "label", "values"} <= set(found)
    assert "listprometheuslabelvalues" not in found  # an identifier, not a brand
