"""``mcpfleet gitops publish``: commit the rendered manifests where Argo CD syncs them.

With ``gitops.reconciler: argocd`` CI runs this on every merge (``.github/workflows/
deploy.yml``): it renders the catalog exactly as ``mcpfleet render`` does, lays the
objects out one directory per Application under ``gitops.argocd.path`` (the seed's
``kubernetes/platform/mcp-servers``), writes the ApplicationSet to
``gitops.argocd.bootstrapPath``, and commits both on the branch the ApplicationSet syncs
(``gitops.argocd.revision``, default ``gitops.branch``) — in place when that branch is
checked out, else in a temporary worktree, so the caller's checkout is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console

from mcpfleet.commands.render import DEFAULT_CATALOG, _findings, _load, _require_compiler

__all__ = ["app", "publish"]

app = typer.Typer(help="GitOps with Argo CD: publish the rendered manifests.")
_AUTHOR = ("-c", "user.name=mcpfleet", "-c", "user.email=mcpfleet@users.noreply.github.com")


class GitError(Exception):
    """A git command failed; the message has its stderr."""


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    identity = () if _has_identity(repo) else _AUTHOR
    done = subprocess.run(
        ["git", *identity, "-C", str(repo), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and done.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done


def _has_identity(repo: Path) -> bool:
    done = subprocess.run(
        ["git", "-C", str(repo), "config", "user.email"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return bool(done.stdout.strip())


def _branch(repo: Path) -> str | None:
    done = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return done.stdout.strip() or None


def _exists(repo: Path, ref: str) -> bool:
    return _git(repo, "rev-parse", "--verify", "--quiet", ref, check=False).returncode == 0


def _checkout(repo: Path, revision: str, remote: str, into: Path) -> None:
    """A worktree of ``revision`` at ``into``: the local branch, the remote's, or a new one."""
    if _exists(repo, f"refs/heads/{revision}"):
        _git(repo, "worktree", "add", str(into), revision)
    elif _exists(repo, f"refs/remotes/{remote}/{revision}"):
        _git(repo, "worktree", "add", "-b", revision, str(into), f"{remote}/{revision}")
    else:
        _git(repo, "worktree", "add", "--detach", str(into))
        _git(into, "checkout", "--orphan", revision)
        _git(into, "rm", "-r", "-q", "--cached", "--ignore-unmatch", ".")
        for child in into.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()


def _write(root: Path, files: dict[str, str], manifests: str, marker: str) -> None:
    """Replace the manifests directory (only one this command wrote) and the bootstrap file."""
    target = root / manifests
    if target.exists() and any(target.iterdir()) and not (target / marker).exists():
        raise typer.BadParameter(
            f"{manifests} exists and was not written by `mcpfleet gitops publish`; move it "
            "or set gitops.argocd.path to another directory"
        )
    if target.exists():
        shutil.rmtree(target)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (target / marker).write_text("written by `mcpfleet gitops publish`; do not edit\n")


def _commit(root: Path, paths: Sequence[str], message: str) -> bool:
    _git(root, "add", "-A", "--", *paths)
    if _git(root, "diff", "--cached", "--quiet", check=False).returncode == 0:
        return False
    _git(root, "commit", "-q", "-m", message)
    return True


@app.command("publish")
def publish(
    repo: Path = typer.Option(Path("."), "--repo", help="The git clone to commit in."),
    catalog_dir: Path = typer.Option(DEFAULT_CATALOG, "--catalog", "-c", help="Catalog directory."),
    push: bool = typer.Option(False, help="Push the branch to the remote afterwards."),
    remote: str = typer.Option("origin", help="The remote to push to (and look up branches)."),
) -> None:
    """Render, lay out one directory per Argo CD Application, commit on the synced branch."""
    _require_compiler()
    from components.gitops import argocd_revision
    from components.publish import MARKER, publication
    from components.render import render_catalog

    err = Console(stderr=True)
    catalog = _load(catalog_dir)
    platform = catalog.platform
    if platform.gitops.reconciler != "argocd":
        err.print(
            f"[red]✗[/red] gitops.reconciler is `{platform.gitops.reconciler}`: CI deploys with "
            "`pulumi up`; set it to `argocd` to publish manifests for Argo CD",
            highlight=False,
        )
        raise typer.Exit(2)
    rendering = render_catalog(catalog)
    findings = _findings(rendering, catalog, err)
    for finding in findings:
        err.print(f"[red]✗[/red] {finding}", highlight=False, soft_wrap=True)
    if findings:
        raise typer.Exit(1)
    published = publication(rendering, platform)
    files = {str(p): text for p, text in published.files.items()}
    files[str(published.bootstrap)] = published.bootstrap_text
    revision = argocd_revision(platform)
    source = _git(repo, "rev-parse", "--short", "HEAD", check=False).stdout.strip() or "catalog"
    message = f"mcpfleet: manifests rendered from {source}"
    paths = [str(published.path), str(published.bootstrap)]
    try:
        if _branch(repo) == revision:
            _write(repo, files, str(published.path), MARKER)
            committed = _commit(repo, paths, message)
        else:
            with tempfile.TemporaryDirectory(prefix="mcpfleet-publish-") as tmp:
                worktree = Path(tmp) / "worktree"
                _checkout(repo, revision, remote, worktree)
                try:
                    _write(worktree, files, str(published.path), MARKER)
                    committed = _commit(worktree, paths, message)
                finally:
                    _git(repo, "worktree", "remove", "--force", str(worktree), check=False)
        if push:
            _git(repo, "push", remote, f"refs/heads/{revision}:refs/heads/{revision}")
    except GitError as exc:
        err.print(f"[red]✗[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    for release in published.helm_releases:
        err.print(
            f"[yellow]![/yellow] install first (not synced by Argo CD): Helm release "
            f"{release.object_name}",
            highlight=False,
        )
    state = "committed" if committed else "already up to date"
    typer.echo(
        f"{len(published.files)} manifests in {len(published.applications)} applications "
        f"under {published.path} on {revision}: {state}"
    )
