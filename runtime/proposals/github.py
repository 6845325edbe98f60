"""Proposals as GitHub pull requests, through PyGithub.

One branch per server (``discovery/add-<name>``), one commit of the catalog file through
the contents API, one pull request labelled ``auto-generated`` and
``mcp-infrastructure``. The entry's fingerprint sits in the pull request body as an HTML
comment, so the forge itself remembers what each open or closed proposal carried: no
local state is needed to honour "one proposal per server" or a reviewer's "no".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from github.PullRequest import PullRequest
from github.Repository import Repository

from runtime.proposals.errors import PermanentProposalError, RetryableProposalError
from runtime.proposals.proposer import LABELS, Existing, fingerprint_in

__all__ = ["GitHubForge"]

_LABEL_COLOURS = {"auto-generated": "ededed", "mcp-infrastructure": "1d76db"}
_RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


class GitHubForge:
    """A :class:`~runtime.proposals.proposer.Forge` over one GitHub repository.

    ``repository`` is ``owner/name``; ``api_url`` points at GitHub Enterprise or, in
    tests, at a local server speaking the same REST API. The token is used only in the
    Authorization header and never appears in errors or logs.
    """

    def __init__(
        self,
        repository: str,
        token: str,
        *,
        base: str = "main",
        api_url: str = "https://api.github.com",
        timeout: int = 15,
        seconds_between_writes: float = 0.2,
    ) -> None:
        self._full_name = repository
        self._owner = repository.split("/", 1)[0]
        self._base = base
        self._github = Github(
            auth=Auth.Token(token),
            base_url=api_url,
            timeout=timeout,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=seconds_between_writes,
        )
        self._repo: Repository | None = None

    def close(self) -> None:
        self._github.close()

    # ----------------------------------------------------------------- Forge

    def base_file(self, path: str) -> str | None:
        with _translated(f"reading {path} on {self._base}"):
            try:
                content = self._repository().get_contents(path, ref=self._base)
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise
            if isinstance(content, list):
                raise PermanentProposalError(f"{path} is a directory on {self._base}")
            return content.decoded_content.decode("utf-8")

    def open_proposal(self, branch: str) -> Existing | None:
        with _translated(f"listing pull requests for {branch}"):
            for pull in self._pulls("open", branch):
                return Existing(fingerprint_in(pull.body), pull.html_url, handle=pull)
        return None

    def declined(self, branch: str) -> list[str]:
        with _translated(f"listing closed pull requests for {branch}"):
            return [
                fp
                for pull in self._pulls("closed", branch)
                if pull.merged_at is None and (fp := fingerprint_in(pull.body))
            ]

    def create(self, branch: str, path: str, text: str, title: str, body: str) -> str:
        repo = self._repository()
        with _translated(f"creating branch {branch}"):
            sha = repo.get_branch(self._base).commit.sha
            try:
                repo.create_git_ref(f"refs/heads/{branch}", sha)
            except GithubException as exc:
                if exc.status != 422:  # 422: left over from a closed proposal; restart it
                    raise
                ref = repo.get_git_ref(f"heads/{branch}")
                ref.edit(sha, force=True)
        self._commit(branch, path, text, title)
        with _translated(f"opening the pull request for {branch}"):
            pull = repo.create_pull(base=self._base, head=branch, title=title, body=body)
            self._ensure_labels()
            pull.add_to_labels(*LABELS)
        return str(pull.html_url)

    def update(self, existing: Existing, path: str, text: str, title: str, body: str) -> str:
        pull: PullRequest = existing.handle
        branch = pull.head.ref
        self._commit(branch, path, text, title)
        with _translated(f"updating pull request #{pull.number}"):
            pull.edit(title=title, body=body)
        return str(pull.html_url)

    # ----------------------------------------------------------------- helpers

    def _repository(self) -> Repository:
        if self._repo is None:
            with _translated(f"opening {self._full_name}"):
                self._repo = self._github.get_repo(self._full_name)
        return self._repo

    def _pulls(self, state: str, branch: str) -> list[PullRequest]:
        pulls = self._repository().get_pulls(
            state=state, head=f"{self._owner}:{branch}", base=self._base
        )
        return list(pulls)

    def _commit(self, branch: str, path: str, text: str, title: str) -> None:
        repo = self._repository()
        with _translated(f"committing {path} on {branch}"):
            try:
                current: Any = repo.get_contents(path, ref=branch)
            except GithubException as exc:
                if exc.status != 404:
                    raise
                repo.create_file(path, title, text, branch=branch)
                return
            if current.decoded_content.decode("utf-8") != text:
                repo.update_file(path, title, text, current.sha, branch=branch)

    def _ensure_labels(self) -> None:
        repo = self._repository()
        for name in LABELS:
            try:
                repo.get_label(name)
            except GithubException as exc:
                if exc.status != 404:
                    raise
                repo.create_label(name, _LABEL_COLOURS[name], "Opened by mcpfleet discovery")


@contextlib.contextmanager
def _translated(doing: str) -> Iterator[None]:
    """GitHub failures as proposal errors: retry what time can fix, stop on the rest."""
    try:
        yield
    except RateLimitExceededException as exc:
        raise RetryableProposalError(f"GitHub rate limit hit while {doing}") from exc
    except GithubException as exc:
        message = _message(exc)
        if exc.status in _RETRYABLE:
            raise RetryableProposalError(f"GitHub {exc.status} while {doing}: {message}") from exc
        hint = {
            401: " (the token was rejected)",
            403: " (the token lacks permission)",
            404: " (repository or branch not found, or not visible to the token)",
        }.get(exc.status, "")
        raise PermanentProposalError(
            f"GitHub {exc.status} while {doing}: {message}{hint}"
        ) from exc
    except requests.RequestException as exc:
        raise RetryableProposalError(
            f"cannot reach GitHub while {doing}: {type(exc).__name__}"
        ) from exc


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict):
        return str(data.get("message") or "")
    return ""
