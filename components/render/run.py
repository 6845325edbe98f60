"""Render a catalog: the stack's own components under the mock runtime."""

from __future__ import annotations

from catalog.model import Catalog
from components.fleet import FLEET_NAME, Fleet, FleetArgs
from components.render.mocks import record
from components.render.objects import Rendering
from components.secret_refs import required_keys
from components.secrets import SecretValues

__all__ = ["FLEET_NAME", "render_catalog"]


def render_catalog(catalog: Catalog, secrets: SecretValues | None = None) -> Rendering:
    """Everything ``pulumi up`` would create for ``catalog``, without an engine or cluster.

    With no ``secrets``, each key the catalog references gets a placeholder naming it,
    so a ``pulumi``-backend catalog renders without any secret value at hand.
    """

    def program() -> None:
        # Outputs (the placeholders) must be made inside the run, on its event loop.
        values = (
            secrets if secrets is not None else SecretValues.placeholders(required_keys(catalog))
        )
        Fleet(FLEET_NAME, FleetArgs(catalog, values))

    return Rendering(record(program))
