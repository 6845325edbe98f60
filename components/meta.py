"""Object metadata and resource options every component writes the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from catalog.naming import labels

__all__ = ["Manifest", "child_options", "object_meta"]

Manifest = dict[str, Any]
"""A Kubernetes object or fragment in its wire form (camelCase keys), as the API takes it."""


def object_meta(
    name: str,
    *,
    component: str,
    instance: str | None = None,
    namespace: pulumi.Input[str] | None = None,
    annotations: Mapping[str, str] | None = None,
    extra_labels: Mapping[str, str] | None = None,
) -> Manifest:
    """Metadata with the recommended labels; ``instance`` defaults to the object's name."""
    meta: Manifest = {
        "name": name,
        "labels": {**labels(component, instance or name), **(extra_labels or {})},
    }
    if namespace is not None:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def child_options(
    parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = ()
) -> pulumi.ResourceOptions:
    """Options for a component's child: parented (so providers and aliases flow down)."""
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on) or None)
