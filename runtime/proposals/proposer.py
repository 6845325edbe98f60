"""One proposal per server, whatever the forge: the decision every proposer shares.

A forge (a GitHub repository, a local git clone) only knows how to read the base
branch, find a proposal branch's state and write to it. :class:`Proposer` decides:

* the base already has this entry → nothing to do;
* an open proposal exists → update it in place when the entry changed, else leave it;
* a proposal with this very entry was closed without merging → respect that, do nothing;
* otherwise → open one.

The entry is validated twice before anything is written: on its own by the catalog's
schema (:func:`catalog.writer.render_server`) and against the running catalog's files
(:class:`~runtime.proposals.validation.CatalogCheck`, the catalog's own cross-file rules:
unique names, ports, secret paths).
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ruamel.yaml import YAML

from catalog import CatalogError
from catalog.model import ServerFile
from catalog.writer import render_server
from runtime.proposals.entry import AnyServer, entry_fingerprint
from runtime.proposals.errors import PermanentProposalError
from runtime.proposals.validation import CatalogCheck

__all__ = [
    "LABELS",
    "Existing",
    "Forge",
    "Outcome",
    "Proposal",
    "Proposer",
    "Status",
    "commit_trailer",
    "fingerprint_in",
    "render_body",
]

LABELS = ("auto-generated", "mcp-infrastructure")
Action = Literal["add", "update"]
Status = Literal["opened", "updated", "unchanged", "declined", "in-catalog"]
_MARKER = "mcpfleet-fingerprint"
_MARKER_RE = re.compile(rf"{_MARKER}[:=]\s*([0-9a-f]{{8,64}})", re.IGNORECASE)


@dataclass(frozen=True)
class Proposal:
    """What to propose: the entry, and what a reviewer needs to judge it."""

    server: AnyServer
    action: Action = "add"
    details: Mapping[str, str] = field(default_factory=dict)
    tools: Sequence[Mapping[str, Any]] = ()
    reasons: Sequence[str] = ()

    @property
    def branch(self) -> str:
        return f"discovery/{self.action}-{self.server.name}"

    @property
    def title(self) -> str:
        verb = "Add" if self.action == "add" else "Update"
        return f"{verb} MCP server `{self.server.name}` to the catalog"


@dataclass(frozen=True)
class Existing:
    """An open proposal on a forge: where it is and which entry it carries."""

    fingerprint: str | None
    url: str
    handle: Any = None


@dataclass(frozen=True)
class Outcome:
    status: Status
    branch: str
    fingerprint: str
    url: str | None = None
    diff: str | None = None
    """The proposed file against the base branch's (unified diff), when an entry was
    rendered and validated; what a reviewer (and the console's Proposals page) reads."""


class Forge(Protocol):
    """The few repository operations a proposal needs; implementations are synchronous."""

    def base_file(self, path: str) -> str | None:
        """The file's text on the base branch, or None when it does not exist."""
        ...

    def open_proposal(self, branch: str) -> Existing | None: ...

    def declined(self, branch: str) -> list[str]:
        """Fingerprints of proposals on ``branch`` closed without being merged."""
        ...

    def create(self, branch: str, path: str, text: str, title: str, body: str) -> str:
        """Branch from base, commit the file, open the proposal; return its URL."""
        ...

    def update(self, existing: Existing, path: str, text: str, title: str, body: str) -> str:
        """Commit the new file on the open proposal's branch and refresh its text."""
        ...


class Proposer:
    """Makes or refreshes the one proposal a server should have on ``forge``."""

    def __init__(self, forge: Forge, *, catalog_dir: Path | None, repo_catalog: str = "catalog"):
        self._forge = forge
        self._check = CatalogCheck(catalog_dir) if catalog_dir is not None else None
        self._repo_catalog = repo_catalog.strip("/")

    def propose(self, proposal: Proposal) -> Outcome:
        """Decide and act; see the module docstring.

        Raises:
            PermanentProposalError: the entry does not validate, or the forge refuses.
            RetryableProposalError: the forge is unreachable or failing for now.
        """
        name = proposal.server.name
        path = f"{self._repo_catalog}/servers/{name}.yaml"
        base_text = self._forge.base_file(path)
        if proposal.action == "add" and base_text is not None:
            return Outcome("in-catalog", proposal.branch, entry_fingerprint(proposal.server))
        text, entry = self._render(proposal, base_text)
        fingerprint = entry_fingerprint(entry)
        if base_text is not None and _fingerprint_of(base_text) == fingerprint:
            return Outcome("in-catalog", proposal.branch, fingerprint)
        body = render_body(proposal, fingerprint)
        diff = _diff(path, base_text, text)
        existing = self._forge.open_proposal(proposal.branch)
        if existing is not None:
            if existing.fingerprint == fingerprint:
                return Outcome("unchanged", proposal.branch, fingerprint, existing.url, diff)
            url = self._forge.update(existing, path, text, proposal.title, body)
            return Outcome("updated", proposal.branch, fingerprint, url, diff)
        if fingerprint in self._forge.declined(proposal.branch):
            return Outcome("declined", proposal.branch, fingerprint, diff=diff)
        url = self._forge.create(proposal.branch, path, text, proposal.title, body)
        return Outcome("opened", proposal.branch, fingerprint, url, diff)

    def _render(self, proposal: Proposal, base_text: str | None) -> tuple[str, AnyServer]:
        """The file text (merged into the base file for updates) and the entry it holds."""
        name = proposal.server.name
        try:
            if base_text is None:
                text = render_server(proposal.server)
            else:
                with tempfile.TemporaryDirectory(prefix="mcpfleet-proposal-") as tmp:
                    existing = Path(tmp) / f"{name}.yaml"
                    existing.write_text(base_text, encoding="utf-8")
                    text = render_server(proposal.server, existing=existing)
            problems = self._check.problems(name, text) if self._check else []
            if problems:
                raise CatalogError(problems)
        except CatalogError as exc:
            raise PermanentProposalError(
                f"the entry for {name} does not validate:\n"
                + "\n".join(f"  {p}" for p in exc.problems)
            ) from exc
        return text, _parse(text)


def render_body(proposal: Proposal, fingerprint: str) -> str:
    """The pull request text: what was found, where, its tools, and why it is proposed."""
    server = proposal.server
    found = (
        "which the catalog does not have."
        if proposal.action == "add"
        else "drifting from its catalog entry."
    )
    lines = [f"Discovery found the MCP server **{server.name}** {found}", ""]
    if proposal.reasons:
        lines += ["### Why", "", *[f"- {r}" for r in proposal.reasons], ""]
    if proposal.details:
        lines += ["### Service", "", "| | |", "|---|---|"]
        lines += [f"| {k} | `{v}` |" for k, v in proposal.details.items()]
        lines.append("")
    lines += [f"### Tools ({len(proposal.tools)})", ""]
    if proposal.tools:
        lines += ["| tool | read-only | description |", "|---|---|---|"]
        for tool in sorted(proposal.tools, key=lambda t: str(t["name"])):
            hint = (tool.get("annotations") or {}).get("readOnlyHint")
            ro = "yes" if hint is True else ("no" if hint is False else "?")
            lines.append(f"| `{tool['name']}` | {ro} | {_one_line(tool.get('description'))} |")
    else:
        lines.append("_The server listed no tools (or could not be probed)._")
    lines += [
        "",
        "### Review",
        "",
        f"Check `{server.kind}` is the right kind, tighten `egress`, add `secrets` it needs, "
        "then merge. Closing this without merging is remembered: discovery will not propose "
        "this same entry again, only a changed one.",
        "",
        f"<!-- {_MARKER}: {fingerprint} -->",
    ]
    return "\n".join(lines)


def fingerprint_in(text: str | None) -> str | None:
    """The entry fingerprint a proposal's body or commit message carries."""
    match = _MARKER_RE.search(text or "")
    return match.group(1) if match else None


def commit_trailer(fingerprint: str) -> str:
    return f"{_MARKER.title()}: {fingerprint}"


def _parse(text: str) -> AnyServer:
    data = YAML(typ="safe").load(text)
    return ServerFile.model_validate(data).server


def _fingerprint_of(text: str) -> str | None:
    try:
        return entry_fingerprint(_parse(text))
    except ValueError:
        return None


def _diff(path: str, base_text: str | None, text: str) -> str:
    before = (base_text or "").splitlines(keepends=True)
    return "".join(
        difflib.unified_diff(
            before,
            text.splitlines(keepends=True),
            fromfile="/dev/null" if base_text is None else f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def _one_line(text: object) -> str:
    first = str(text or "").strip().splitlines()
    return (first[0] if first else "").replace("|", "\\|")[:160]
