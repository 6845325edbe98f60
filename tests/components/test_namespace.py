"""The namespace enforces the catalog's pod-security level at the cluster's version."""

from __future__ import annotations

from catalog import Catalog
from components.namespace import Namespace, NamespaceArgs

from .conftest import render


def test_namespace_enforces_audits_and_warns_at_the_restricted_level(shipped: Catalog) -> None:
    platform = shipped.platform
    rendering = render(
        lambda: Namespace(
            "ns", NamespaceArgs(platform.namespace, platform.cluster.kubernetes_version)
        )
    )
    labels = rendering.find("Namespace", "mcp-system").manifest["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.33"
    assert labels["app.kubernetes.io/part-of"] == "mcpfleet"
