"""Optional in-cluster reconciliation: a Pulumi operator ``Stack`` or Argo CD.

With ``reconciler: none`` CI is the reconciler (``pulumi up`` on merge). The Pulumi
operator runs this same program from git. Argo CD is the seed plan's way: an
``ApplicationSet`` (``mcp-servers``) whose git generator makes one ``Application`` per
directory under ``gitops.argocd.path``; CI writes the rendered manifests there on merge
(``mcpfleet gitops publish``, :mod:`components.publish`), one directory per component.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from catalog.model import Platform
from components.meta import Manifest, child_options, object_meta

__all__ = [
    "ARGOCD_MANAGED_BY",
    "PULUMI_TOKEN_SECRET",
    "GitOps",
    "GitOpsArgs",
    "application_set",
    "argocd_revision",
    "namespace_labels",
    "pulumi_stack",
]

ARGOCD_MANAGED_BY = "argocd.argoproj.io/managed-by"
"""The seed's namespace label: which Argo CD instance may manage the namespace."""
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


def argocd_revision(platform: Platform) -> str:
    """The branch the manifests are published to and Argo CD syncs from."""
    return platform.gitops.argocd.revision or platform.gitops.branch


def application_set(platform: Platform) -> Manifest:
    """The seed's ApplicationSet: one Application per rendered component directory."""
    gitops = platform.gitops
    argocd = gitops.argocd
    revision = argocd_revision(platform)
    return {
        "generators": [
            {
                "git": {
                    "repoURL": gitops.repository,
                    "revision": revision,
                    "directories": [{"path": f"{argocd.path}/*"}],
                }
            }
        ],
        "template": {
            "metadata": {"name": "{{path.basename}}"},
            "spec": {
                "project": argocd.project,
                "source": {
                    "repoURL": gitops.repository,
                    "targetRevision": revision,
                    "path": "{{path}}",
                },
                "destination": {
                    "server": "https://kubernetes.default.svc",
                    "namespace": platform.namespace.name,
                },
                "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
            },
        },
    }


def namespace_labels(platform: Platform) -> dict[str, str]:
    """Labels the fleet's namespace carries for the reconciler (Argo CD's managed-by)."""
    if platform.gitops.reconciler == "argocd":
        return {ARGOCD_MANAGED_BY: platform.gitops.argocd.namespace}
    return {}


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
            argocd = platform.gitops.argocd
            k8s.apiextensions.CustomResource(
                f"{name}-applicationset",
                api_version="argoproj.io/v1alpha1",
                kind="ApplicationSet",
                metadata=object_meta(
                    argocd.application_set, component="gitops", namespace=argocd.namespace
                ),
                spec=application_set(platform),
                opts=child_options(self),
            )
        self.register_outputs({"reconciler": reconciler})
