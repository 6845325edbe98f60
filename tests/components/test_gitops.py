"""In-cluster reconciliation is a catalog switch: none, the Pulumi operator, or Argo CD."""

from __future__ import annotations

from catalog import Catalog
from components.gitops import GitOps, GitOpsArgs
from components.render import Rendering

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
    assert spec["projectRepo"] == "https://github.com/shreck/mcpfleet"
    assert spec["branch"] == "main"
    assert spec["serviceAccountName"] == "mcpfleet-pulumi"
    assert spec["config"] == {"mcpfleet:inCluster": "true"}  # no kubectl context in a pod
    assert spec["envRefs"]["PULUMI_ACCESS_TOKEN"]["secret"]["name"] == "mcpfleet-pulumi-token"
    assert rendering.find("ServiceAccount", "mcpfleet-pulumi")


def test_argocd_syncs_the_rendered_manifests_into_the_namespace(shipped: Catalog) -> None:
    rendering = _render(with_platform(shipped, gitops={"reconciler": "argocd"}))
    app = rendering.find("Application", "mcpfleet").manifest
    assert app["metadata"]["namespace"] == "argocd"
    assert app["spec"]["destination"]["namespace"] == "mcp-system"
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
