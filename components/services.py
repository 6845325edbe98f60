"""A runtime service (router, discovery, and the core of gateway and triage) as a component."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Platform
from catalog.naming import runtime_resource_name
from components.meta import Manifest, child_options, object_meta
from components.workload import RuntimeWorkload, runtime_deployment, runtime_service

__all__ = ["DISCOVERY_RULES", "RuntimeService", "RuntimeServiceArgs"]

DISCOVERY_RULES: tuple[Manifest, ...] = (
    {
        "apiGroups": [""],
        "resources": ["services", "namespaces", "pods"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["discovery.k8s.io"],
        "resources": ["endpointslices"],
        "verbs": ["get", "list", "watch"],
    },
)
"""Discovery watches annotated Services in every namespace, reads their endpoints, and the
images of the pods behind them (for its catalog proposals)."""


@dataclass(frozen=True)
class RuntimeServiceArgs:
    platform: Platform
    namespace: pulumi.Input[str]
    workload: RuntimeWorkload
    cluster_rules: Sequence[Manifest] = field(default_factory=tuple)
    service_type: str = "ClusterIP"
    service_annotations: Mapping[str, str] = field(default_factory=dict)
    service_labels: Mapping[str, str] = field(default_factory=dict)
    alias_services: Sequence[str] = field(default_factory=tuple)
    """More ClusterIP Services in front of the same pods (the seed's other names for them)."""


class RuntimeService(pulumi.ComponentResource):
    """ServiceAccount, optional cluster-wide read RBAC, Deployment and Service."""

    def __init__(
        self, name: str, args: RuntimeServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:RuntimeService", name, None, opts)
        service = args.workload.service
        resource_name = runtime_resource_name(service)
        meta = object_meta(resource_name, component=service, namespace=args.namespace)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-serviceaccount",
            metadata=meta,
            automount_service_account_token=False,
            opts=child_options(self),
        )
        workload = args.workload
        if args.cluster_rules:
            role = k8s.rbac.v1.ClusterRole(
                f"{name}-clusterrole",
                metadata=object_meta(resource_name, component=service),
                rules=list(args.cluster_rules),
                opts=child_options(self),
            )
            k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-clusterrolebinding",
                metadata=object_meta(resource_name, component=service),
                role_ref={
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": role.metadata.name,
                },
                subjects=[
                    {"kind": "ServiceAccount", "name": resource_name, "namespace": args.namespace}
                ],
                opts=child_options(self),
            )
            workload = _with_account(workload, resource_name, automount=True)
        else:
            workload = _with_account(workload, resource_name, automount=False)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta,
            spec=runtime_deployment(args.platform, workload),
            opts=child_options(self, depends_on=[account]),
        )
        svc = k8s.core.v1.Service(
            f"{name}-service",
            metadata=object_meta(
                resource_name,
                component=service,
                namespace=args.namespace,
                annotations=args.service_annotations,
                extra_labels=args.service_labels,
            ),
            spec=runtime_service(args.platform, service, service_type=args.service_type),
            opts=child_options(self),
        )
        for alias in args.alias_services:
            k8s.core.v1.Service(
                f"{name}-service-{alias}",
                metadata=object_meta(
                    alias, component=service, instance=resource_name, namespace=args.namespace
                ),
                spec=runtime_service(args.platform, service),
                opts=child_options(self),
            )
        self.deployment_name: pulumi.Output[str] = deployment.metadata.name
        self.service_name: pulumi.Output[str] = svc.metadata.name
        self.register_outputs({"deployment": self.deployment_name, "service": self.service_name})


def _with_account(workload: RuntimeWorkload, account: str, *, automount: bool) -> RuntimeWorkload:
    return replace(workload, service_account=account, automount_token=automount)
