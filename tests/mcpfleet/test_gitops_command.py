"""`mcpfleet gitops publish`, as the deploy workflow runs it in Argo CD mode: the path the
ApplicationSet syncs holds exactly what `render` produces, one directory per Application.

Git is real (a clone with a bare ``origin``); Argo CD cannot run here, so the test reads
the committed tree the way its git directory generator does (``<path>/*``).
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from typer.testing import CliRunner

from catalog import load_catalog
from components.checks import SchemaValidator
from components.publish import application_directory
from components.render import render_catalog
from mcpfleet.cli import app

from ..catalog.conftest import SHIPPED

runner = CliRunner()
MANIFESTS = "kubernetes/platform/mcp-servers"
BOOTSTRAP = "kubernetes/argocd-apps/platform/mcp-servers-appset.yaml"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def clone_with_argocd(tmp_path: Path, *, revision: str | None = None) -> tuple[Path, Path]:
    """A clone on ``main`` whose catalog says ``reconciler: argocd``, and its bare origin."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    repo = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(repo)], check=True)
    git(repo, "checkout", "-q", "-b", "main")
    git(repo, "config", "user.name", "Operator")
    git(repo, "config", "user.email", "op@example.invalid")
    shutil.copytree(SHIPPED, repo / "catalog", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    platform = repo / "catalog" / "platform.yaml"
    text = platform.read_text().replace("reconciler: none", "reconciler: argocd")
    if revision:
        argocd = "    namespace: argocd\n"
        text = text.replace(argocd, f"{argocd}    revision: {revision}\n")
    platform.write_text(text)
    git(repo, "add", "catalog")
    git(repo, "commit", "-q", "-m", "catalog in Argo CD mode")
    git(repo, "push", "-q", "origin", "main")
    return repo, origin


def publish(repo: Path, *extra: str) -> Any:
    result = runner.invoke(
        app, ["gitops", "publish", "--repo", str(repo), "--catalog", str(repo / "catalog"), *extra]
    )
    assert result.exit_code == 0, result.output
    return result


def committed(repo: Path, revision: str) -> dict[str, str]:
    """Every file under the manifests path on ``revision``, as the generator sees the tree."""
    names = git(repo, "ls-tree", "-r", "--name-only", revision, "--", MANIFESTS).split()
    return {name: git(repo, "show", f"{revision}:{name}") for name in names}


def test_the_synced_path_holds_exactly_what_render_produces(tmp_path: Path) -> None:
    repo, origin = clone_with_argocd(tmp_path)
    result = publish(repo, "--push")
    assert f"under {MANIFESTS} on main: committed" in result.output
    files = committed(origin, "main")  # what Argo CD fetches: the pushed branch

    catalog = load_catalog(repo / "catalog")
    rendering = render_catalog(catalog)
    expected = {
        (o.kind, o.namespace, o.object_name): o.redacted()
        for o in rendering.kubernetes_objects
        if o.kind != "ApplicationSet"
    }
    found = {}
    for name, text in files.items():
        if PurePosixPath(name).name == ".mcpfleet-render":
            continue
        manifest = yaml.safe_load(text)
        meta = manifest["metadata"]
        key = (manifest["kind"], meta.get("namespace"), meta["name"])
        assert key not in found, f"{key} committed twice"
        found[key] = manifest
    assert found == expected  # every object render makes, each once, and nothing else
    assert not [o for o in rendering.objects if o.is_helm_release and o.is_kubernetes]


def test_each_component_is_a_directory_the_applicationset_generator_finds(
    tmp_path: Path,
) -> None:
    repo, _ = clone_with_argocd(tmp_path)
    publish(repo)
    files = committed(repo, "main")
    directories = {str(PurePosixPath(f).parent) for f in files if f.endswith(".yaml")}
    appset = yaml.safe_load(git(repo, "show", f"main:{BOOTSTRAP}"))
    assert appset["kind"] == "ApplicationSet"
    (generator,) = appset["spec"]["generators"]
    pattern = generator["git"]["directories"][0]["path"]
    assert pattern == f"{MANIFESTS}/*"
    for directory in directories:  # one level below the path, as `<path>/*` matches
        assert fnmatch.fnmatch(directory, pattern), directory
        assert directory.count("/") == pattern.count("/"), directory
    apps = {PurePosixPath(d).name for d in directories}
    assert {"mcp-gateway", "ollama-triage", "postgres-vector-db", "discovery-service"} <= apps
    assert {"multi-model-router", "kubernetes-prod-mcp", "proxmox-ruapehu-mcp"} <= apps
    assert application_directory("server-opnsense") == "opnsense-mcp"
    validator = SchemaValidator(load_catalog(repo / "catalog").platform.cluster.kubernetes_version)
    assert validator.problems(appset) == []


def test_publishing_twice_commits_once_and_a_catalog_change_is_a_new_commit(
    tmp_path: Path,
) -> None:
    repo, _ = clone_with_argocd(tmp_path)
    publish(repo)
    head = git(repo, "rev-parse", "HEAD")
    assert "already up to date" in publish(repo).output
    assert git(repo, "rev-parse", "HEAD") == head
    server = repo / "catalog" / "servers" / "caddy.yaml"
    server.write_text(server.read_text().replace("0.2.0", "0.2.1"))
    git(repo, "commit", "-q", "-am", "caddy 0.2.1")
    publish(repo)
    changed = set(git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split())
    assert f"{MANIFESTS}/caddy-mcp/mcpserver-caddy-mcp.yaml" in changed
    assert f"{MANIFESTS}/mcp-catalog/configmap-mcpfleet-catalog.yaml" in changed
    rolled = changed - {
        f"{MANIFESTS}/caddy-mcp/mcpserver-caddy-mcp.yaml",
        f"{MANIFESTS}/mcp-catalog/configmap-mcpfleet-catalog.yaml",
    }
    # the runtime Deployments roll with the catalog's checksum; nothing else changes
    assert rolled and all("/deployment-" in f for f in rolled), sorted(rolled)


def test_a_separate_revision_gets_the_manifests_and_main_is_untouched(tmp_path: Path) -> None:
    repo, origin = clone_with_argocd(tmp_path, revision="deploy")
    main = git(repo, "rev-parse", "main")
    publish(repo, "--push")
    assert git(repo, "rev-parse", "main") == main
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert committed(origin, "deploy")
    assert git(repo, "ls-tree", "--name-only", "main", "--", MANIFESTS) == ""
    appset = yaml.safe_load(git(origin, "show", f"deploy:{BOOTSTRAP}"))
    assert appset["spec"]["generators"][0]["git"]["revision"] == "deploy"


def test_without_argocd_mode_nothing_is_published(tmp_path: Path) -> None:
    repo, _ = clone_with_argocd(tmp_path)
    platform = repo / "catalog" / "platform.yaml"
    platform.write_text(platform.read_text().replace("reconciler: argocd", "reconciler: none"))
    result = runner.invoke(
        app, ["gitops", "publish", "--repo", str(repo), "--catalog", str(repo / "catalog")]
    )
    assert result.exit_code == 2
    assert "pulumi up" in result.output
    assert git(repo, "ls-tree", "--name-only", "HEAD", "--", "kubernetes") == ""


def test_argocd_mode_refuses_secret_values_that_would_land_in_git(tmp_path: Path) -> None:
    repo, _ = clone_with_argocd(tmp_path)
    platform = repo / "catalog" / "platform.yaml"
    platform.write_text(platform.read_text().replace("backend: infisical", "backend: pulumi"))
    result = runner.invoke(
        app, ["gitops", "publish", "--repo", str(repo), "--catalog", str(repo / "catalog")]
    )
    assert result.exit_code == 1
    assert "use secrets.backend `infisical`" in result.output
    assert git(repo, "ls-tree", "--name-only", "HEAD", "--", "kubernetes") == ""
