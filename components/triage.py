"""The triage layer: Ollama (local LLM) and the triage API that decides how to answer."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Catalog, Resources
from catalog.naming import runtime_resource_name, runtime_url
from components.meta import child_options, object_meta
from components.ollama import ollama_claim, ollama_deployment, ollama_service
from components.pods import env_from_secret
from components.services import RuntimeService, RuntimeServiceArgs
from components.workload import CatalogMount, RuntimeWorkload

__all__ = [
    "DISCOVERY_RESOURCES",
    "ROUTER_RESOURCES",
    "TRIAGE_RESOURCES",
    "TRIAGE_TOKEN_KEY",
    "Triage",
    "TriageArgs",
]

TRIAGE_TOKEN_ENV = "MCPFLEET_TRIAGE_TOKEN"
TRIAGE_TOKEN_KEY = "TRIAGE_TOKEN"
"""Optional: a gateway token (``mcpfleet token create --name triage``) issued after the first
deploy, so triage starts without it and authenticates once it is stored."""

TRIAGE_RESOURCES = Resources(
    requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "2", "memory": "2Gi"}
)
"""The seed's "Triage API" allocation (the catalog sizes Ollama)."""
ROUTER_RESOURCES = Resources(
    requests={"cpu": "500m", "memory": "512Mi"}, limits={"cpu": "1", "memory": "1Gi"}
)
"""The seed's "Multi-Model Router" allocation."""
DISCOVERY_RESOURCES = Resources(
    requests={"cpu": "200m", "memory": "256Mi"}, limits={"cpu": "500m", "memory": "512Mi"}
)
"""The seed's "Discovery" allocation; its "PR Automation" (the same figures) is part of
discovery here, in the same pod."""


@dataclass(frozen=True)
class TriageArgs:
    catalog: Catalog
    namespace: pulumi.Input[str]
    catalog_mount: CatalogMount
    database_secret: str
    gateway_secret: str | None
    """The gateway path's Secret; ``TRIAGE_TOKEN`` there is triage's gateway/router token."""


class Triage(pulumi.ComponentResource):
    """Ollama Deployment + model PVC + Service, and the triage API Deployment + Service."""

    def __init__(
        self, name: str, args: TriageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:Triage", name, None, opts)
        platform = args.catalog.platform
        ns = args.namespace
        ollama = runtime_resource_name("ollama")
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-ollama-models",
            metadata=object_meta(f"{ollama}-models", component="ollama", namespace=ns),
            spec=ollama_claim(platform),
            opts=child_options(self),
        )
        k8s.apps.v1.Deployment(
            f"{name}-ollama",
            metadata=object_meta(ollama, component="ollama", namespace=ns),
            spec=ollama_deployment(args.catalog, f"{ollama}-models"),
            opts=child_options(self, depends_on=[claim]),
        )
        k8s.core.v1.Service(
            f"{name}-ollama-service",
            metadata=object_meta(ollama, component="ollama", namespace=ns),
            spec=ollama_service(platform),
            opts=child_options(self),
        )
        api = RuntimeService(
            f"{name}-api",
            RuntimeServiceArgs(
                platform=platform,
                namespace=ns,
                workload=RuntimeWorkload(
                    service="triage",
                    replicas=platform.triage.replicas,
                    resources=TRIAGE_RESOURCES,
                    catalog=args.catalog_mount,
                    database_secret=args.database_secret,
                    env=[
                        {"name": "MCPFLEET_OLLAMA_URL", "value": runtime_url("ollama", platform)},
                        *(
                            [
                                env_from_secret(
                                    TRIAGE_TOKEN_ENV,
                                    args.gateway_secret,
                                    TRIAGE_TOKEN_KEY,
                                    optional=True,
                                )
                            ]
                            if args.gateway_secret
                            else []
                        ),
                    ],
                    extra_args=(
                        "--gateway-url",
                        runtime_url("gateway", platform),
                        "--router-url",
                        runtime_url("router", platform),
                    ),
                ),
            ),
            opts=child_options(self),
        )
        self.ollama_url = runtime_url("ollama", platform)
        self.url = runtime_url("triage", platform)
        self.service_name = api.service_name
        self.register_outputs({"url": self.url, "ollamaUrl": self.ollama_url})
