"""The rendered manifests in the layout Argo CD syncs: one directory per Application.

With ``gitops.reconciler: argocd`` the seed plan's ApplicationSet makes one Application
per directory under ``gitops.argocd.path`` (``kubernetes/platform/mcp-servers/*``). This
module lays ``mcpfleet render``'s objects out that way, under the plan's directory names
(``mcp-gateway``, ``ollama-triage``, ``postgres-vector-db``, ``kubernetes-prod-mcp`` …);
the ApplicationSet itself goes to ``gitops.argocd.bootstrapPath``, applied once by hand.
Helm releases (operators the stack would install) are not manifests Argo CD can sync:
they are returned separately, to be installed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from catalog.model import Platform
from catalog.naming import runtime_resource_name, server_resource_name
from components.render import RenderedObject, Rendering
from components.render.objects import obj_yaml

__all__ = ["MARKER", "Publication", "application_directory", "publication"]

MARKER = ".mcpfleet-render"
"""Marks the manifests directory as written by ``mcpfleet gitops publish`` (safe to replace)."""
_BY_GROUP = {
    "gateway": runtime_resource_name("gateway"),
    "triage": runtime_resource_name("ollama"),
    "database": runtime_resource_name("postgres"),
    "discovery": runtime_resource_name("discovery"),
    "router": runtime_resource_name("router"),
}
_SERVER_GROUP = "server-"


@dataclass(frozen=True)
class Publication:
    """What to commit: manifests under ``path`` by Application, and the bootstrap file."""

    path: PurePosixPath
    files: dict[PurePosixPath, str]
    """Relative to the repository root: ``<path>/<application>/<Kind>-<name>.yaml``."""
    bootstrap: PurePosixPath
    bootstrap_text: str
    helm_releases: list[RenderedObject]

    @property
    def applications(self) -> list[str]:
        """The directories the ApplicationSet's ``<path>/*`` generator will find."""
        return sorted({f.relative_to(self.path).parts[0] for f in self.files})


def application_directory(group: str) -> str:
    """The Application (directory) a render group belongs to: the seed's names."""
    if group in _BY_GROUP:
        return _BY_GROUP[group]
    if group.startswith(_SERVER_GROUP):
        return server_resource_name(group.removeprefix(_SERVER_GROUP))
    return f"mcp-{group}"


def publication(rendering: Rendering, platform: Platform) -> Publication:
    """Lay ``rendering`` out for Argo CD; the ApplicationSet goes to the bootstrap file."""
    argocd = platform.gitops.argocd
    root = PurePosixPath(argocd.path)
    files: dict[PurePosixPath, str] = {}
    bootstrap: list[RenderedObject] = []
    helm: list[RenderedObject] = []
    for relative, (obj, text) in rendering.files().items():
        if obj.is_helm_release:
            helm.append(obj)
        elif obj.kind == "ApplicationSet" and obj.api_version.startswith("argoproj.io/"):
            bootstrap.append(obj)
        elif obj.is_kubernetes:
            group = relative.parts[0]
            files[root / application_directory(group) / relative.name] = text
    return Publication(
        path=root,
        files=files,
        bootstrap=PurePosixPath(argocd.bootstrap_path),
        bootstrap_text="".join(obj_yaml(o) for o in bootstrap[:1]) + _rest(bootstrap[1:]),
        helm_releases=helm,
    )


def _rest(objects: list[RenderedObject]) -> str:
    return "".join(f"---\n{obj_yaml(o)}" for o in objects)
