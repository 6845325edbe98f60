"""Check one server file against the running catalog, the way ``check_catalog`` would.

``check_catalog`` re-reads every file, which costs a few hundred milliseconds on this
machine; proposals arrive in bursts, so the catalog's files are parsed once (again only
when one of them changes) and each proposal adds just its own file before the
cross-file rules run. The rules and messages are the catalog's own.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from catalog import Problem
from catalog.checks import cross_check
from catalog.loader import Loaded, validate_document
from catalog.source import Document, read_document

__all__ = ["CatalogCheck"]

Stamp = tuple[tuple[str, int, int], ...]


class CatalogCheck:
    """The catalog in ``directory``, parsed and kept, to validate proposed server files."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._stamp: Stamp | None = None
        self._platform: Loaded | None = None
        self._models: Loaded | None = None
        self._servers: list[Loaded] = []
        self._problems: list[Problem] = []

    def problems(self, name: str, text: str) -> list[Problem]:
        """Every problem the catalog would have with ``servers/<name>.yaml`` set to ``text``."""
        file = Path("servers") / f"{name}.yaml"
        try:
            doc = Document(file, YAML(typ="rt").load(text))
        except YAMLError as exc:
            return [Problem(file, 1, 1, "", "yaml.syntax", f"invalid YAML: {exc}")]
        model, problems = validate_document(doc, "server")
        if model is None:
            return problems
        with self._lock:
            self._refresh()
            others = [s for s in self._servers if s.doc.file.stem != name]
            base = [p for p in self._problems if p.file.stem != name]
            return sorted(
                base + cross_check(self._platform, self._models, [*others, Loaded(doc, model)])
            )

    def _refresh(self) -> None:
        stamp = self._stamp_now()
        if stamp == self._stamp:
            return
        problems: list[Problem] = []
        self._platform = self._load(self._directory / "platform.yaml", "platform", problems)
        self._models = self._load(self._directory / "models.yaml", "models", problems)
        self._servers = [
            loaded
            for file in sorted((self._directory / "servers").glob("*.yaml"))
            if (loaded := self._load(file, "server", problems)) is not None
        ]
        self._problems, self._stamp = problems, stamp

    def _stamp_now(self) -> Stamp:
        files = sorted(self._directory.rglob("*.yaml"))
        stats = [(str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.is_file()]
        return tuple(stats)

    @staticmethod
    def _load(file: Path, kind: str, problems: list[Problem]) -> Loaded | None:
        if not file.is_file():
            problems.append(Problem(file, 1, 1, "", "file.missing", f"missing {kind} file"))
            return None
        doc = read_document(file)
        if isinstance(doc, Problem):
            problems.append(doc)
            return None
        model, found = validate_document(doc, kind)
        problems += found
        return Loaded(doc, model) if model is not None else None
