"""The multi-model router: ``catalog/models.yaml`` policy, provider SDKs, fallbacks, daily
budget, and per-call token and cost accounting in PostgreSQL and Prometheus.

Hosts open it with :func:`open_model_router` in their lifespan (or use
:func:`hosted_model_router` as a gateway extension's lifespan), which puts it on
``app.state.model_router``, and mount :func:`create_router_api`; :func:`create_app` is
the router as a service of its own (``mcpfleet serve router``). The :class:`ModelRouter` is a
:class:`runtime.contracts.Completer`, which is how triage escalates to it.
"""

from runtime.router.api import create_router_api, install_router_api
from runtime.router.app import create_app
from runtime.router.client import RouterClient
from runtime.router.errors import (
    AllModelsFailed,
    Attempt,
    AttemptStatus,
    InvalidRequest,
    PolicyError,
    ProviderError,
    RouterError,
    RouterUnreachable,
    Unauthorized,
)
from runtime.router.lifecycle import RouterSettings, hosted_model_router, open_model_router
from runtime.router.policy import Policy, Route
from runtime.router.service import ModelRouter, Routed

__all__ = [
    "AllModelsFailed",
    "Attempt",
    "AttemptStatus",
    "InvalidRequest",
    "ModelRouter",
    "Policy",
    "PolicyError",
    "ProviderError",
    "Route",
    "Routed",
    "RouterClient",
    "RouterError",
    "RouterSettings",
    "RouterUnreachable",
    "Unauthorized",
    "create_app",
    "create_router_api",
    "hosted_model_router",
    "install_router_api",
    "open_model_router",
]
