"""Operators the fleet's custom resources need: installed here with Helm, or prerequisites.

``platform.operators`` decides per operator. Chart versions are pinned to the releases
whose CRDs are vendored in ``components/checks/crds`` (the schemas the tests validate
against); bump both together.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Catalog
from components.meta import child_options

__all__ = [
    "CHARTS",
    "Chart",
    "Operators",
    "OperatorsArgs",
    "operators_needed",
    "prerequisites",
]


@dataclass(frozen=True)
class Chart:
    release: str
    chart: str
    version: str
    namespace: str
    repository: str | None = None
    """A Helm repository URL; ``None`` when ``chart`` is an ``oci://`` reference."""


CHARTS: dict[str, tuple[Chart, ...]] = {
    "toolhive": (
        Chart(
            "toolhive-operator-crds",
            "oci://ghcr.io/stacklok/toolhive/toolhive-operator-crds",
            "0.44.0",
            "toolhive-system",
        ),
        Chart(
            "toolhive-operator",
            "oci://ghcr.io/stacklok/toolhive/toolhive-operator",
            "0.44.0",
            "toolhive-system",
        ),
    ),
    "infisical": (
        Chart(
            "infisical-secrets-operator",
            "secrets-operator",
            "0.11.5",
            "infisical-operator-system",
            "https://dl.cloudsmith.io/public/infisical/helm-charts/helm/charts/",
        ),
    ),
    "cloudnative_pg": (
        Chart(
            "cloudnative-pg",
            "cloudnative-pg",
            "0.27.0",
            "cnpg-system",
            "https://cloudnative-pg.github.io/charts",
        ),
    ),
    "pulumi_operator": (
        Chart(
            "pulumi-kubernetes-operator",
            "oci://ghcr.io/pulumi/helm-charts/pulumi-kubernetes-operator",
            "2.9.0",
            "pulumi-kubernetes-operator",
        ),
    ),
}


def operators_needed(catalog: Catalog) -> dict[str, str]:
    """Operator → why this catalog needs it (operators nothing uses are left out)."""
    platform = catalog.platform
    needed: dict[str, str] = {}
    stdio = [s.name for s in catalog.servers if s.kind == "stdio"]
    if stdio:
        needed["toolhive"] = f"runs the stdio servers ({', '.join(stdio)})"
    if platform.secrets.backend == "infisical":
        needed["infisical"] = "syncs InfisicalSecrets (secrets.backend: infisical)"
    if platform.database.engine == "cloudnative-pg":
        needed["cloudnative_pg"] = "runs the database (database.engine: cloudnative-pg)"
    if platform.gitops.reconciler == "pulumi-operator":
        needed["pulumi_operator"] = "reconciles the Stack (gitops.reconciler: pulumi-operator)"
    return needed


def prerequisites(catalog: Catalog) -> list[str]:
    """What must exist in the cluster before ``pulumi up``; the stack does not create it."""
    platform = catalog.platform
    switches = platform.operators
    ns = platform.namespace.name
    needed = [
        f"{operator.replace('_', '-')} operator: {reason}"
        for operator, reason in operators_needed(catalog).items()
        if getattr(switches, operator) != "helm"
    ]
    needed.append("Cilium with LB-IPAM and L2 announcements enabled (the gateway's IP)")
    if platform.ingress.traefik.enabled:
        needed.append("Traefik v3 with its CRDs (the IngressRoute)")
    flavour = platform.observability.flavour
    needed.append(
        "prometheus-operator (ServiceMonitor, PrometheusRule)"
        if flavour == "prometheus-operator"
        else "VictoriaMetrics operator (VMServiceScrape, VMRule)"
    )
    if platform.observability.dashboards:
        label = platform.observability.dashboard_label
        needed.append(f"Grafana's dashboard sidecar watching ConfigMaps labelled `{label}`")
    if platform.secrets.backend == "infisical" and platform.secrets.infisical is not None:
        infisical = platform.secrets.infisical
        needed.append(
            f"Secret `{infisical.auth_secret}` in `{infisical.auth_secret_namespace or ns}` "
            "with the Infisical machine identity (clientId, clientSecret)"
        )
    if platform.gitops.reconciler == "pulumi-operator":
        needed.append(f"Secret `mcpfleet-pulumi-token` in `{ns}` (key accessToken)")
    return needed


@dataclass(frozen=True)
class OperatorsArgs:
    catalog: Catalog


class Operators(pulumi.ComponentResource):
    """A Helm release per needed operator set to ``helm``; the rest listed as prerequisites."""

    def __init__(
        self, name: str, args: OperatorsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Operators", name, None, opts)
        switches = args.catalog.platform.operators
        self.releases: dict[str, list[k8s.helm.v3.Release]] = {}
        self.prerequisites: dict[str, str] = {}
        for operator, reason in operators_needed(args.catalog).items():
            if getattr(switches, operator) != "helm":
                self.prerequisites[operator] = reason
                continue
            installed: list[k8s.helm.v3.Release] = []
            for chart in CHARTS[operator]:
                repository = (
                    k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository)
                    if chart.repository
                    else None
                )
                installed.append(
                    k8s.helm.v3.Release(
                        f"{name}-{chart.release}",
                        name=chart.release,
                        chart=chart.chart,
                        version=chart.version,
                        namespace=chart.namespace,
                        create_namespace=True,
                        repository_opts=repository,
                        atomic=True,
                        opts=child_options(self, depends_on=installed),
                    )
                )
            self.releases[operator] = installed
        self.register_outputs(
            {"installed": sorted(self.releases), "prerequisites": self.prerequisites}
        )

    def ready(self, operator: str) -> list[pulumi.Resource]:
        """The releases custom resources of ``operator`` must wait for (none if prerequisite)."""
        return list(self.releases.get(operator, []))
