"""The routing policy read from ``models.yaml``: rules, fallbacks and a spent budget."""

from __future__ import annotations

import pytest

from runtime.router.errors import PolicyError
from runtime.router.policy import Policy, estimate_tokens
from tests.runtime.router.fakes import Fakes, models_spec


@pytest.fixture
def policy(fakes: Fakes) -> Policy:
    return Policy(models_spec(fakes))


@pytest.mark.parametrize(
    ("task_type", "model", "rule"),
    [
        ("summarization", "gemini-flash", "summarization"),
        ("reasoning", "claude-sonnet", "deep-work"),
        ("code", "claude-sonnet", "deep-work"),
        ("analysis", "claude-sonnet", "deep-work"),
        ("classification", "claude-haiku", "classification"),
        ("chat", "gemini-flash", None),
    ],
)
def test_the_first_rule_naming_the_task_type_picks_the_model(
    policy: Policy, task_type: str, model: str, rule: str | None
) -> None:
    route = policy.route(task_type, 1_000, budget_exhausted=False)

    assert (route.primary, route.rule) == (model, rule)


def test_a_context_past_the_threshold_goes_to_the_long_context_model(policy: Policy) -> None:
    """The long-context rule comes first, so it wins even for a task type of deep work."""
    assert policy.route("code", 99_999, budget_exhausted=False).primary == "claude-sonnet"

    route = policy.route("code", 100_000, budget_exhausted=False)

    assert (route.primary, route.rule) == ("gemini-flash", "long-context")


def test_the_chain_is_the_chosen_model_then_its_fallbacks_in_catalog_order(
    policy: Policy,
) -> None:
    route = policy.route("reasoning", 10, budget_exhausted=False)

    assert route.chain == ("claude-sonnet", "gemini-flash", "llama-local")


def test_a_model_without_fallbacks_is_tried_alone(fakes: Fakes) -> None:
    policy = Policy(models_spec(fakes, fallbacks={}))

    assert policy.route("chat", 10, budget_exhausted=False).chain == ("gemini-flash",)


def test_a_spent_budget_routes_to_the_exhausted_model_whatever_the_task(policy: Policy) -> None:
    route = policy.route("reasoning", 150_000, budget_exhausted=True)

    assert route.chain == ("llama-local",)
    assert route.budget_exhausted and route.rule is None


def test_a_spent_budget_never_falls_back_to_a_dearer_model(fakes: Fakes) -> None:
    spec = models_spec(
        fakes,
        budget={"dailyUsd": 1, "whenExhausted": "claude-haiku"},
        fallbacks={"claude-haiku": ["claude-sonnet", "gemini-flash", "llama-local"]},
    )

    chain = Policy(spec).route("chat", 10, budget_exhausted=True).chain

    assert chain == ("claude-haiku", "gemini-flash", "llama-local")


def test_a_rule_naming_an_unknown_or_embedding_model_is_refused(fakes: Fakes) -> None:
    with pytest.raises(PolicyError, match="`minilm` is not a chat model"):
        Policy(models_spec(fakes, defaultModel="minilm"))
    with pytest.raises(PolicyError, match="`gpt-9`"):
        Policy(models_spec(fakes, rules=[{"name": "x", "taskTypes": ["code"], "model": "gpt-9"}]))


def test_the_token_estimate_is_about_four_characters_a_token() -> None:
    assert estimate_tokens("a" * 400) == 100
    assert estimate_tokens("abcde", None, "") == 2
