"""Proposals as branches in a local git repository, for operators without GitHub.

Everything is done with git plumbing (a private index, ``commit-tree``, ``update-ref``),
so the operator's working tree, index and checked-out branch are never touched. The
local stand-in for "closing a pull request" is deleting its branch: discovery keeps the
last commit it proposed under ``refs/mcpfleet/proposals/<branch>``, so a deleted,
unmerged branch is remembered as declined, and its fingerprint (a commit trailer) tells
whether a new proposal would carry anything new.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from runtime.proposals.errors import PermanentProposalError, RetryableProposalError
from runtime.proposals.proposer import Existing, commit_trailer, fingerprint_in

__all__ = ["LocalGitForge"]

_RECORDS = "refs/mcpfleet/proposals"


class LocalGitForge:
    """A :class:`~runtime.proposals.proposer.Forge` over a local repository."""

    def __init__(
        self,
        repo: Path,
        *,
        base: str = "main",
        author: tuple[str, str] = ("mcpfleet discovery", "discovery@mcpfleet.invalid"),
    ) -> None:
        self._repo = repo
        self._base = base
        self._author = author
        if not (repo / ".git").exists() and not (repo / "HEAD").exists():
            raise PermanentProposalError(f"{repo} is not a git repository")

    # ----------------------------------------------------------------- Forge

    def base_file(self, path: str) -> str | None:
        base = self._tip(self._base)
        if base is None:
            raise PermanentProposalError(f"{self._repo} has no branch {self._base!r}")
        result = self._git("cat-file", "blob", f"{base}:{path}", check=False)
        return result.stdout if result.returncode == 0 else None

    def open_proposal(self, branch: str) -> Existing | None:
        tip = self._tip(branch)
        if tip is None or self._merged(tip):
            return None
        message = self._git("log", "-1", "--format=%B", tip).stdout
        return Existing(fingerprint_in(message), self._where(branch, tip), handle=(branch, tip))

    def declined(self, branch: str) -> list[str]:
        record = self._tip(f"{_RECORDS}/{branch}", ref=True)
        if record is None or self._tip(branch) is not None or self._merged(record):
            return []
        fingerprint = fingerprint_in(self._git("log", "-1", "--format=%B", record).stdout)
        return [fingerprint] if fingerprint else []

    def create(self, branch: str, path: str, text: str, title: str, body: str) -> str:
        base = self._tip(self._base)
        if base is None:
            raise PermanentProposalError(f"{self._repo} has no branch {self._base!r}")
        old = self._tip(branch)
        commit = self._commit(base, path, text, title, body)
        self._move(f"refs/heads/{branch}", commit, old)
        self._move(f"{_RECORDS}/{branch}", commit, None)
        return self._where(branch, commit)

    def update(self, existing: Existing, path: str, text: str, title: str, body: str) -> str:
        branch, tip = existing.handle
        commit = self._commit(tip, path, text, title, body)
        self._move(f"refs/heads/{branch}", commit, tip)
        self._move(f"{_RECORDS}/{branch}", commit, None)
        return self._where(branch, commit)

    # ----------------------------------------------------------------- plumbing

    def _commit(self, parent: str, path: str, text: str, title: str, body: str) -> str:
        """A commit of ``parent``'s tree with ``path`` set to ``text``, built off-index."""
        fingerprint = fingerprint_in(body) or ""
        message = f"{title}\n\n{body}\n\n{commit_trailer(fingerprint)}\n"
        with tempfile.TemporaryDirectory(prefix="mcpfleet-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._git("read-tree", parent, env=env)
            blob = self._git("hash-object", "-w", "--stdin", input=text).stdout.strip()
            self._git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = self._git("write-tree", env=env).stdout.strip()
        name, email = self._author
        who = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        return self._git("commit-tree", tree, "-p", parent, input=message, env=who).stdout.strip()

    def _move(self, ref: str, new: str, old: str | None) -> None:
        """Point ``ref`` at ``new``, failing if someone moved it since we looked."""
        args = ["update-ref", "-m", "mcpfleet discovery proposal", ref, new]
        if old is not None:
            args.append(old)
        result = self._git(*args, check=False)
        if result.returncode != 0:
            raise RetryableProposalError(f"{ref} moved while proposing: {result.stderr.strip()}")

    def _tip(self, name: str, *, ref: bool = False) -> str | None:
        full = name if ref else f"refs/heads/{name}"
        result = self._git("rev-parse", "--verify", "-q", f"{full}^{{commit}}", check=False)
        return result.stdout.strip() or None

    def _merged(self, commit: str) -> bool:
        base = self._tip(self._base)
        if base is None:
            return False
        return self._git("merge-base", "--is-ancestor", commit, base, check=False).returncode == 0

    def _where(self, branch: str, commit: str) -> str:
        return f"{self._repo}#{branch}@{commit[:12]}"

    def _git(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
        try:
            result = subprocess.run(
                ["git", "-C", str(self._repo), *args],
                input=input,
                capture_output=True,
                text=True,
                env=full_env,
                timeout=60,
                check=False,
            )
        except FileNotFoundError as exc:
            raise PermanentProposalError("git is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise RetryableProposalError(f"git {args[0]} timed out") from exc
        if check and result.returncode != 0:
            raise PermanentProposalError(f"git {args[0]} failed: {result.stderr.strip()}")
        return result
