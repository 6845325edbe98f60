"""The namespace everything runs in, with the Pod Security Standard enforced by the API server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Namespace as NamespaceSpec
from components.meta import child_options, object_meta

__all__ = ["Namespace", "NamespaceArgs", "pod_security_labels"]


def pod_security_labels(level: str, kubernetes_version: str) -> dict[str, str]:
    """Enforce, audit and warn at one level, pinned to the cluster's minor version.

    Pinning the version keeps an API-server upgrade from tightening the rules under running
    pods; bump it together with ``platform.cluster.kubernetesVersion``.
    """
    version = f"v{kubernetes_version}"
    return {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", level), ("-version", version))
    }


@dataclass(frozen=True)
class NamespaceArgs:
    namespace: NamespaceSpec
    kubernetes_version: str
    labels: Mapping[str, str] = field(default_factory=dict)
    """More labels, e.g. Argo CD's ``managed-by`` (see :mod:`components.gitops`)."""


class Namespace(pulumi.ComponentResource):
    """``mcp-system`` (or the catalog's name) with ``restricted`` pod security."""

    def __init__(
        self, name: str, args: NamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Namespace", name, None, opts)
        spec = args.namespace
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=object_meta(
                spec.name,
                component="namespace",
                extra_labels={
                    **pod_security_labels(spec.pod_security, args.kubernetes_version),
                    **args.labels,
                },
            ),
            opts=child_options(self),
        )
        self.name: pulumi.Output[str] = namespace.metadata.name
        self.register_outputs({"name": self.name})
