"""Run the components without a Pulumi engine or cluster and collect every object they make.

``mcpfleet render`` / ``plan`` and the tests use this; it is Pulumi's documented mock
runtime (``pulumi.runtime.set_mocks``) with a monitor that also records each resource's
parent, so the component tree and every Kubernetes object can be written out and checked.
"""

from components.render.mocks import Recorded, Recording, install_mocks, record
from components.render.objects import RenderedObject, Rendering
from components.render.run import FLEET_NAME, render_catalog

__all__ = [
    "FLEET_NAME",
    "Recorded",
    "Recording",
    "RenderedObject",
    "Rendering",
    "install_mocks",
    "record",
    "render_catalog",
]
