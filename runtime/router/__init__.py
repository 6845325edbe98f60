"""The multi-model router: ``catalog/models.yaml`` policy, provider SDKs, fallbacks, daily
budget, and per-call token and cost accounting in PostgreSQL and Prometheus.

Hosts open it with :func:`open_model_router` in their lifespan, put it on
``app.state.model_router`` and call :func:`install_router_api`; :func:`create_app` is the
router as a service of its own. The :class:`ModelRouter` is a
:class:`runtime.contracts.Completer`, which is how triage escalates to it.
"""

from runtime.router.api import install_router_api
from runtime.router.app import create_app
from runtime.router.errors import (
    AllModelsFailed,
    Attempt,
    AttemptStatus,
    InvalidRequest,
    PolicyError,
    ProviderError,
    RouterError,
)
from runtime.router.lifecycle import RouterSettings, open_model_router
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
    "RouterError",
    "RouterSettings",
    "create_app",
    "install_router_api",
    "open_model_router",
]
