"""Nothing the tests, benchmarks or CI read may live outside the repository.

A contributor, a user and a GitHub runner have only the clone; data the suite needs is
vendored (``eval/``, ``components/checks/crds``). This scans the files that decide what the
suite reads for paths that climb out of the checkout.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Ways a path escapes the clone: the sibling ``shared/`` directory, or the repository
#: root's parent used as a base.
ESCAPES = re.compile(r"\.\./shared|REPO\.parent\b|ROOT\.parent\b|parents\[\d+\]\s*/\s*\"shared\"")


def _scanned() -> list[Path]:
    files = [*REPO.glob("tests/**/*.py"), *REPO.glob("bench/**/*.py"), REPO / "Makefile"]
    files += [p for p in (REPO / ".ci").glob("*") if p.is_file()]
    files += list((REPO / ".github").rglob("*.yml"))
    return [f for f in files if f != Path(__file__).resolve()]


def test_no_test_bench_or_ci_file_reads_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _scanned()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ESCAPES.search(line)
    ]
    assert not offenders, "paths outside the clone:\n" + "\n".join(offenders)


def test_the_scan_recognises_an_escape() -> None:
    assert ESCAPES.search('SHARED = REPO.parent / "shared"')
    assert ESCAPES.search("cat ../shared/eval/triage-dev.jsonl")
    assert not ESCAPES.search('EVAL = REPO / "eval"')
