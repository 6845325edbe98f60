"""Scrape configs, alert rules and the dashboard, for prometheus-operator or VictoriaMetrics."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Catalog
from catalog.naming import (
    HTTP_PORT_NAME,
    METRICS_PATH,
    METRICS_PORT_NAME,
    RuntimeService,
    runtime_resource_name,
    selector,
)
from components.alerts import alert_groups
from components.dashboard import dashboard_json
from components.meta import Manifest, child_options, object_meta

__all__ = ["SCRAPED", "Observability", "ObservabilityArgs", "scrape_spec"]

SCRAPED: tuple[RuntimeService, ...] = ("gateway", "triage", "router", "discovery")
"""Every runtime service serves ``/metrics``; the gateway's through its metrics Service."""

_APIS = {
    "prometheus-operator": ("monitoring.coreos.com/v1", "ServiceMonitor", "PrometheusRule"),
    "victoriametrics": ("operator.victoriametrics.com/v1beta1", "VMServiceScrape", "VMRule"),
}


def scrape_spec(service: RuntimeService, namespace: pulumi.Input[str], interval: str) -> Manifest:
    """ServiceMonitor / VMServiceScrape spec (the two share these fields)."""
    port = METRICS_PORT_NAME if service == "gateway" else HTTP_PORT_NAME
    return {
        "selector": {"matchLabels": selector(runtime_resource_name(service))},
        "namespaceSelector": {"matchNames": [namespace]},
        "endpoints": [{"port": port, "path": METRICS_PATH, "interval": interval}],
    }


@dataclass(frozen=True)
class ObservabilityArgs:
    catalog: Catalog
    namespace: pulumi.Input[str]


class Observability(pulumi.ComponentResource):
    """A scrape per runtime service, the alert rules, and the Grafana dashboard ConfigMap."""

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Observability", name, None, opts)
        platform = args.catalog.platform
        spec = platform.observability
        api, scrape_kind, rule_kind = _APIS[spec.flavour]
        ns = args.namespace
        for service in SCRAPED:
            resource_name = runtime_resource_name(service)
            k8s.apiextensions.CustomResource(
                f"{name}-{service}-scrape",
                api_version=api,
                kind=scrape_kind,
                metadata=object_meta(resource_name, component="observability", namespace=ns),
                spec=scrape_spec(service, ns, spec.scrape_interval),
                opts=child_options(self),
            )
        k8s.apiextensions.CustomResource(
            f"{name}-alerts",
            api_version=api,
            kind=rule_kind,
            metadata=object_meta("mcpfleet-alerts", component="observability", namespace=ns),
            spec={"groups": alert_groups(args.catalog)},
            opts=child_options(self),
        )
        if spec.dashboards:
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard",
                metadata=object_meta(
                    "mcpfleet-dashboard",
                    component="observability",
                    namespace=ns,
                    extra_labels={spec.dashboard_label: "1"},
                ),
                data={"mcp-infrastructure-overview.json": dashboard_json()},
                opts=child_options(self),
            )
        self.register_outputs({"flavour": spec.flavour})
