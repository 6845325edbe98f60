"""Which model answers a request: ``catalog/models.yaml`` rules, fallbacks and the budget.

Pure and synchronous (no I/O), so every policy decision can be tested on its own and the
HTTP layer can show a decision without calling a model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import get_args

from catalog.model import Model, ModelsFile, Rule, TaskType
from runtime.router.errors import PolicyError

__all__ = ["TASK_TYPES", "Policy", "Route", "estimate_tokens"]

TASK_TYPES: tuple[str, ...] = tuple(t for t in get_args(TaskType) if t != "any")
"""Task types a request may name; ``any`` is only a rule wildcard."""

_CHARS_PER_TOKEN = 4


def estimate_tokens(*texts: str | None) -> int:
    """Estimate a prompt's size in tokens without calling a provider.

    About four characters per token for English across the three providers' tokenizers;
    good enough to pick a rule and to keep a prompt out of a model whose window it overflows.
    """
    return sum(math.ceil(len(text) / _CHARS_PER_TOKEN) for text in texts if text)


@dataclass(frozen=True)
class Route:
    """The models to try for one request, in order, and why the first one was chosen."""

    chain: tuple[str, ...]
    rule: str | None
    budget_exhausted: bool

    @property
    def primary(self) -> str:
        return self.chain[0]


class Policy:
    """Routing rules from ``models.yaml``: first matching rule, else the default model.

    Raises:
        PolicyError: a rule, fallback or the budget names a model that is not a chat model.
    """

    def __init__(self, spec: ModelsFile) -> None:
        self.spec = spec
        self._models = {m.name: m for m in spec.models}
        names = [rule.model for rule in spec.rules]
        names += [spec.default_model, spec.budget.when_exhausted]
        for primary, chain in spec.fallbacks.items():
            names += [primary, *chain]
        for name in names:
            self.model(name)

    def model(self, name: str) -> Model:
        """The chat model called ``name``.

        Raises:
            PolicyError: no chat model has that name.
        """
        model = self._models.get(name)
        if model is None or model.purpose != "chat":
            raise PolicyError(f"models.yaml: `{name}` is not a chat model")
        return model

    def match(self, task_type: str, context_tokens: int) -> Rule | None:
        """The first rule that covers the task type or whose context threshold is reached."""
        for rule in self.spec.rules:
            if task_type in rule.task_types or "any" in rule.task_types:
                return rule
            if rule.min_context_tokens is not None and context_tokens >= rule.min_context_tokens:
                return rule
        return None

    def route(self, task_type: str, context_tokens: int, *, budget_exhausted: bool) -> Route:
        """The chain of models to try: the chosen model, then its fallbacks in catalog order.

        Once the day's budget is spent the chain starts at ``budget.whenExhausted`` and
        keeps only fallbacks that cost no more than it, so a spent budget never escalates
        to a dearer model.
        """
        if budget_exhausted:
            first = self.spec.budget.when_exhausted
            ceiling = _unit_price(self.model(first))
            rest = [m for m in self._fallbacks(first) if _unit_price(self.model(m)) <= ceiling]
            return Route(chain=_unique(first, rest), rule=None, budget_exhausted=True)
        rule = self.match(task_type, context_tokens)
        first = rule.model if rule else self.spec.default_model
        return Route(
            chain=_unique(first, self._fallbacks(first)),
            rule=rule.name if rule else None,
            budget_exhausted=False,
        )

    def _fallbacks(self, name: str) -> list[str]:
        return list(self.spec.fallbacks.get(name, []))


def _unit_price(model: Model) -> float:
    return model.input_usd_per_mtok + model.output_usd_per_mtok


def _unique(first: str, rest: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([first, *rest]))
