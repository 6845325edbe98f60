"""In-cluster reconciliation is a catalog switch: none, the Pulumi operator, or Argo CD."""

from __future__ import annotations

from catalog import Catalog
from components.checks import SchemaValidator
from components.gitops import GitOps, GitOpsArgs, namespace_labels
from components.render import Rendering, render_catalog

from .conftest import render, with_platform


def _render(catalog: Catalog) -> Rendering:
    return render(lambda: GitOps("gitops", GitOpsArgs(catalog.platform, "mcp-system")))


def test_reconciler_none_leaves_reconciliation_to_ci(shipped: Catalog) -> None:
    assert _render(shipped).objects == []


def test_the_pulumi_operator_runs_this_program_from_the_catalog_repository(
    shipped: Catalog,
) -> None:
    rendering = _render(with_platform(shipped, gitops={"reconciler": "pulumi-operator"}))
    spec = rendering.find("Stack", "mcpfleet").manifest["spec"]
    assert spec["stack"] == "prod"
    assert spec["projectRepo"] == "https://github.com/charlieshreck/monit_homelab.git"
    assert spec["branch"] == "main"
    assert spec["serviceAccountName"] == "mcpfleet-pulumi"
    assert spec["config"] == {"mcpfleet:inCluster": "true"}  # no kubectl context in a pod
    assert spec["envRefs"]["PULUMI_ACCESS_TOKEN"]["secret"]["name"] == "mcpfleet-pulumi-token"
    assert rendering.find("ServiceAccount", "mcpfleet-pulumi")


def test_argocd_mode_is_the_seeds_applicationset_over_the_manifests_directory(
    shipped: Catalog, validator: SchemaValidator
) -> None:
    rendering = _render(with_platform(shipped, gitops={"reconciler": "argocd"}))
    (appset,) = rendering.of_kind("ApplicationSet")
    manifest = appset.manifest
    assert manifest["apiVersion"] == "argoproj.io/v1alpha1"
    assert (manifest["metadata"]["name"], manifest["metadata"]["namespace"]) == (
        "mcp-servers",
        "argocd",
    )
    (generator,) = manifest["spec"]["generators"]
    assert generator == {
        "git": {
            "repoURL": "https://github.com/charlieshreck/monit_homelab.git",
            "revision": "main",
            "directories": [{"path": "kubernetes/platform/mcp-servers/*"}],
        }
    }
    template = manifest["spec"]["template"]
    assert template["metadata"] == {"name": "{{path.basename}}"}
    assert template["spec"]["project"] == "platform"
    assert template["spec"]["source"] == {
        "repoURL": "https://github.com/charlieshreck/monit_homelab.git",
        "targetRevision": "main",
        "path": "{{path}}",
    }
    assert template["spec"]["destination"] == {
        "server": "https://kubernetes.default.svc",
        "namespace": "mcp-system",
    }
    assert template["spec"]["syncPolicy"] == {"automated": {"prune": True, "selfHeal": True}}
    assert rendering.of_kind("Application") == []
    assert validator.problems(manifest) == []  # the vendored Argo CD v3.5.1 CRD


def test_argocd_mode_labels_the_namespace_managed_by_argocd(shipped: Catalog) -> None:
    assert namespace_labels(shipped.platform) == {}
    argocd = with_platform(shipped, gitops={"reconciler": "argocd"})
    assert namespace_labels(argocd.platform) == {"argocd.argoproj.io/managed-by": "argocd"}
    fleet = render_catalog(argocd)
    labels = fleet.find("Namespace", "mcp-system").manifest["metadata"]["labels"]
    assert labels["argocd.argoproj.io/managed-by"] == "argocd"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_separate_revision_is_where_argocd_syncs_from(shipped: Catalog) -> None:
    gitops = shipped.platform.gitops
    catalog = with_platform(
        shipped,
        gitops=gitops.model_copy(
            update={
                "reconciler": "argocd",
                "argocd": gitops.argocd.model_copy(update={"revision": "deploy"}),
            }
        ),
    )
    spec = _render(catalog).find("ApplicationSet", "mcp-servers").manifest["spec"]
    assert spec["generators"][0]["git"]["revision"] == "deploy"
    assert spec["template"]["spec"]["source"]["targetRevision"] == "deploy"
