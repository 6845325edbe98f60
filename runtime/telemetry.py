"""Prometheus series that more than one service observes, one per process.

``ollama_request_duration_seconds`` is the seed's LLMHighLatency signal: the router's
Ollama provider and triage's local LLM both observe it, so the alert sees every call to
Ollama whichever service made it. Like :mod:`runtime.db.metrics`, the series is made on
first use (never at import) and each service's ``/metrics`` registry includes it through
:func:`register_process_series`.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from runtime.db.metrics import register_vector_series

__all__ = ["OLLAMA_METRIC", "ollama_request_seconds", "ollama_timer", "register_process_series"]

OLLAMA_METRIC = "ollama_request_duration_seconds"
OLLAMA_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 120.0, 300.0)
"""Buckets on both sides of the alert's 30 s, so its p95 can be seen above it."""


@functools.cache
def ollama_request_seconds() -> Histogram:
    """Duration of each Ollama chat call, failed ones included, by caller and model."""
    return Histogram(
        OLLAMA_METRIC,
        "Duration of each call to Ollama (failed ones included), by caller and model.",
        ["caller", "model"],
        buckets=OLLAMA_BUCKETS,
        registry=None,
    )


def ollama_timer(caller: str, model: str) -> Any:
    """A context manager observing the block's duration for ``caller`` and ``model``."""
    return ollama_request_seconds().labels(caller, model).time()


def register_process_series(registry: CollectorRegistry) -> None:
    """Export the shared series (Ollama calls, vector searches) from ``registry``; repeatable."""
    with contextlib.suppress(ValueError):  # already registered with this registry
        registry.register(ollama_request_seconds())
    register_vector_series(registry)
