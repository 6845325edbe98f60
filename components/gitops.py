"""Optional in-cluster reconciliation: a Pulumi operator ``Stack`` or an Argo CD ``Application``.

With ``reconciler: none`` CI is the reconciler (``pulumi up`` on merge). The Pulumi
operator runs this same program from git; Argo CD instead syncs the manifests
``mcpfleet render`` writes, committed under ``gitops.path``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Platform
from components.meta import Manifest, child_options, object_meta

__all__ = [
    "ARGOCD_NAMESPACE",
    "PULUMI_TOKEN_SECRET",
    "GitOps",
    "GitOpsArgs",
    "argocd_application",
    "pulumi_stack",
]

ARGOCD_NAMESPACE = "argocd"
PULUMI_TOKEN_SECRET = "mcpfleet-pulumi-token"
"""Prerequisite Secret (key ``accessToken``): the Pulumi Cloud token the operator uses."""
_ACCOUNT = "mcpfleet-pulumi"


def pulumi_stack(platform: Platform) -> Manifest:
    gitops = platform.gitops
    return {
        "stack": gitops.stack,
        "projectRepo": gitops.repository,
        "branch": gitops.branch,
        "repoDir": gitops.path,
        "serviceAccountName": _ACCOUNT,
        "refresh": True,
        "destroyOnFinalize": False,
        "resyncFrequencySeconds": 600,
        "config": {"mcpfleet:inCluster": "true"},
        "envRefs": {
            "PULUMI_ACCESS_TOKEN": {
                "type": "Secret",
                "secret": {"name": PULUMI_TOKEN_SECRET, "key": "accessToken"},
            }
        },
    }


def argocd_application(platform: Platform) -> Manifest:
    gitops = platform.gitops
    return {
        "project": "default",
        "source": {
            "repoURL": gitops.repository,
            "targetRevision": gitops.branch,
            "path": gitops.path,
            "directory": {"recurse": True},
        },
        "destination": {
            "server": "https://kubernetes.default.svc",
            "namespace": platform.namespace.name,
        },
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": ["ServerSideApply=true"],
        },
    }


@dataclass(frozen=True)
class GitOpsArgs:
    platform: Platform
    namespace: pulumi.Input[str]


class GitOps(pulumi.ComponentResource):
    """Nothing, a ``Stack`` (with the account it deploys as), or an ``Application``."""

    def __init__(
        self, name: str, args: GitOpsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mcpfleet:index:GitOps", name, None, opts)
        platform, ns = args.platform, args.namespace
        reconciler = platform.gitops.reconciler
        if reconciler == "pulumi-operator":
            account = k8s.core.v1.ServiceAccount(
                f"{name}-serviceaccount",
                metadata=object_meta(_ACCOUNT, component="gitops", namespace=ns),
                automount_service_account_token=False,
                opts=child_options(self),
            )
            k8s.rbac.v1.ClusterRoleBinding(
                f"{name}-clusterrolebinding",
                metadata=object_meta(_ACCOUNT, component="gitops"),
                role_ref={
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "cluster-admin",
                },
                subjects=[{"kind": "ServiceAccount", "name": _ACCOUNT, "namespace": ns}],
                opts=child_options(self),
            )
            k8s.apiextensions.CustomResource(
                f"{name}-stack",
                api_version="pulumi.com/v1",
                kind="Stack",
                metadata=object_meta("mcpfleet", component="gitops", namespace=ns),
                spec=pulumi_stack(platform),
                opts=child_options(self, depends_on=[account]),
            )
        elif reconciler == "argocd":
            k8s.apiextensions.CustomResource(
                f"{name}-application",
                api_version="argoproj.io/v1alpha1",
                kind="Application",
                metadata=object_meta("mcpfleet", component="gitops", namespace=ARGOCD_NAMESPACE),
                spec=argocd_application(platform),
                opts=child_options(self),
            )
        self.register_outputs({"reconciler": reconciler})
