"""Discovery's own settings (environment ``MCPFLEET_DISCOVERY_*``), over the catalog's.

The catalog says what the operator decided (``platform.discovery``: interval, proposals,
proposeDrift, the annotation prefix); these settings say how this process reaches things
(a kubeconfig, an endpoints directory, a git clone, a GitHub token). Unset values fall
back to the catalog, so a pod needs nothing but its token.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalog import Catalog

__all__ = ["DiscoveryConfig", "github_repository", "repository_root"]


class DiscoveryConfig(BaseSettings):
    """How this discovery process finds, probes and proposes."""

    model_config = SettingsConfigDict(
        env_prefix="MCPFLEET_DISCOVERY_", extra="ignore", frozen=True, validate_by_name=True
    )

    kubernetes: Literal["auto", "on", "off"] = Field(
        default="auto", description="Watch Services: auto = when running in a cluster."
    )
    kubeconfig: Path | None = Field(default=None, description="Outside a cluster: kubeconfig.")
    addressing: Literal["dns", "cluster-ip"] = Field(
        default="dns", description="Probe Services by DNS name or by cluster IP."
    )
    endpoints_dir: Path | None = Field(
        default=None, description="Directory of endpoint files (the file source)."
    )
    poll_every: float = Field(default=1.0, gt=0, description="File source poll interval (s).")
    probe_timeout: float = Field(default=10.0, gt=0, description="Seconds per probe.")
    proposals: Literal["github", "local", "off"] | None = Field(
        default=None, description="Override platform.discovery.proposals."
    )
    propose_drift: bool | None = Field(
        default=None, description="Override platform.discovery.proposeDrift."
    )
    git_repo: Path | None = Field(
        default=None, description="Local proposals: the clone (default: the catalog's repo)."
    )
    github_repository: str | None = Field(
        default=None, description="owner/name (default: from platform.gitops.repository)."
    )
    github_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GITHUB_TOKEN", "MCPFLEET_DISCOVERY_GITHUB_TOKEN"),
    )
    github_api_url: str = "https://api.github.com"
    base_branch: str | None = Field(
        default=None, description="Branch proposals target (default: platform.gitops.branch)."
    )
    repo_catalog_path: str | None = Field(
        default=None, description="The catalog's path inside the repository."
    )

    def proposal_mode(self, catalog: Catalog) -> Literal["github", "local", "off"]:
        return self.proposals or catalog.platform.discovery.proposals

    def drift_proposals(self, catalog: Catalog) -> bool:
        if self.propose_drift is not None:
            return self.propose_drift
        return catalog.platform.discovery.propose_drift


def github_repository(url: str) -> str | None:
    """``owner/name`` of a GitHub remote URL (https or ssh), else None."""
    match = re.match(r"^(?:https://github\.com/|git@github\.com:)([^/]+/[^/]+?)(?:\.git)?/?$", url)
    return match.group(1) if match else None


def repository_root(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None outside one."""
    try:
        result = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 else None
