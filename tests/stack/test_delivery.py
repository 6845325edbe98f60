"""The Dockerfile and the GitHub workflows agree with the catalog and the compiler."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from catalog import load_catalog
from components.pods import RUNTIME_UID

from .conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def _workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _runs(workflow: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in _steps(workflow))


def _uses(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(workflow) if s.get("uses", "").startswith(action)]


def _final_stage(dockerfile: Path) -> list[str]:
    lines = [line.strip() for line in dockerfile.read_text().splitlines()]
    last_from = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return lines[last_from:]


def test_the_runtime_image_runs_as_the_uid_the_pods_require() -> None:
    stage = _final_stage(REPO / "Dockerfile")
    assert f"USER {RUNTIME_UID}:{RUNTIME_UID}" in stage
    assert 'ENTRYPOINT ["mcpfleet"]' in stage
    assert 'CMD ["serve", "gateway", "--host", "0.0.0.0"]' in stage
    env = " ".join(line for line in stage if "=" in line)
    assert "MCPFLEET_CATALOG=/etc/mcpfleet/catalog" in env
    assert "HOME=/tmp" in env


def test_the_build_context_leaves_out_tests_state_and_vendored_crds() -> None:
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert "**" in ignored
    for package in ("catalog", "components", "runtime", "mcpfleet"):
        assert f"!{package}" in ignored
    assert "components/checks/crds" in ignored


def test_pull_requests_validate_test_and_post_a_preview() -> None:
    workflow = _workflow("pr.yml")
    assert "pull_request" in workflow["on"]
    runs = _runs(workflow)
    assert "mcpfleet catalog validate catalog/" in runs
    assert "bash .ci/run" in runs  # make test on a fresh clone, then a make up smoke check
    ci = (REPO / ".ci" / "run").read_text()
    assert "git clone" in ci and "\nmake test\n" in ci and ".ci/up-smoke" in ci
    assert "mcpfleet render --out" in runs
    (preview,) = _uses(workflow, "pulumi/actions@")
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["comment-on-pr"] is True
    assert (
        preview["with"]["stack-name"]
        == "prod"
        == load_catalog(REPO / "catalog").platform.gitops.stack
    )


def test_merges_to_main_run_pulumi_up_one_at_a_time() -> None:
    workflow = _workflow("deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    (up,) = _uses(workflow, "pulumi/actions@")
    assert up["with"]["command"] == "up"


def test_in_argocd_mode_merges_publish_the_manifests_instead_of_pulumi_up() -> None:
    workflow = _workflow("deploy.yml")
    jobs = workflow["jobs"]
    assert jobs["up"]["if"] == "needs.reconciler.outputs.reconciler != 'argocd'"
    assert jobs["publish"]["if"] == "needs.reconciler.outputs.reconciler == 'argocd'"
    assert jobs["publish"]["permissions"] == {"contents": "write"}
    runs = "\n".join(step.get("run", "") for step in jobs["publish"]["steps"])
    assert "mcpfleet gitops publish --repo . --catalog catalog --push" in runs
    read = "\n".join(step.get("run", "") for step in jobs["reconciler"]["steps"])
    assert "platform.gitops.reconciler" in read
    assert load_catalog(REPO / "catalog").platform.gitops.reconciler == "none"  # the default


def test_the_image_workflow_pushes_the_image_the_catalog_deploys() -> None:
    workflow = _workflow("image.yml")
    assert workflow["permissions"]["packages"] == "write"
    image = workflow["env"]["IMAGE"]
    catalog_image = load_catalog(REPO / "catalog").platform.images.runtime
    repository, _, tag = catalog_image.rpartition(":")
    assert re.sub(r"\$\{\{ github.repository_owner \}\}", "charlieshreck", image) == repository
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", tag), "catalog pins a released version"
    (build,) = _uses(workflow, "docker/build-push-action@")
    assert build["with"]["push"] == "${{ github.event_name == 'push' }}"


def test_the_compiler_is_installed_where_pulumi_runs_and_left_out_of_the_image() -> None:
    for name in ("pr.yml", "deploy.yml"):
        assert "pip install --quiet '.[iac]'" in _runs(_workflow(name)), name
    installs = [
        line for line in (REPO / "Dockerfile").read_text().splitlines() if "pip install" in line
    ]
    assert installs and all("[iac]" not in line for line in installs)
