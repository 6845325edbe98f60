"""Hostile or oversized catalog files fail fast with one clear problem, never a traceback.

The small hostile files (a YAML bomb, deep nesting, a recursive alias, too many tags, a
name too long for Kubernetes) are broken fixtures checked by ``test_loader``; the ones
here are too big to commit, so they are written by the tests.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalog import check_catalog
from catalog.limits import MAX_CATALOG_BYTES, MAX_FILE_BYTES, MAX_PROBLEMS_PER_FILE, MAX_VALUES
from catalog.source import read_document

from .conftest import BROKEN, REPO

CADDY = "servers/caddy.yaml"


def problems_of(directory: Path) -> list[tuple[str, int, str, str]]:
    catalog, problems = check_catalog(directory)
    assert catalog is None
    return [(str(p.file.relative_to(directory)), p.line, p.field, p.rule) for p in problems]


def test_a_file_over_the_size_cap_is_refused_without_being_parsed(catalog_copy: Path) -> None:
    caddy = catalog_copy / CADDY
    text = caddy.read_text()
    caddy.write_text(text.replace("description: ", "description: " + "x" * MAX_FILE_BYTES, 1))
    assert problems_of(catalog_copy) == [(CADDY, 1, "", "file.too-large")]


def test_a_huge_list_stops_at_the_value_cap_with_its_line(catalog_copy: Path) -> None:
    caddy = catalog_copy / CADDY
    tags = ", ".join(["a"] * (MAX_VALUES + 10))
    caddy.write_text(caddy.read_text().replace("tags: [network, proxy]", f"tags: [{tags}]"))
    started = time.perf_counter()
    found = problems_of(catalog_copy)
    assert found[0][:2] == (CADDY, 15) and found[0][3] == "yaml.too-many-values"
    assert found[0][2].startswith("server.tags[")
    assert len(found) == 1
    assert time.perf_counter() - started < 30  # bounded work, not a timing goal


def test_a_catalog_too_big_for_its_configmap_is_one_problem(catalog_copy: Path) -> None:
    """Each file is under its own cap; together they cannot be deployed."""
    padding = "#" + "x" * 1000 + "\n"
    count = MAX_CATALOG_BYTES // (MAX_FILE_BYTES - 4096) + 1
    caddy = (catalog_copy / CADDY).read_text()
    for n in range(count):
        name = f"big{n}"
        body = caddy.replace("name: caddy", f"name: {name}")
        filler = padding * ((MAX_FILE_BYTES - 4096) // len(padding))
        (catalog_copy / "servers" / f"{name}.yaml").write_text(filler + body)
    assert problems_of(catalog_copy) == [(".", 1, "", "catalog.too-large")]


def test_a_file_with_thousands_of_bad_values_lists_the_first_and_counts_the_rest(
    catalog_copy: Path,
) -> None:
    caddy = catalog_copy / CADDY
    bad = ", ".join(f"BAD{i}" for i in range(60))
    caddy.write_text(caddy.read_text().replace("tags: [network, proxy]", f"tags: [{bad}]"))
    _, problems = check_catalog(catalog_copy)
    assert len(problems) == MAX_PROBLEMS_PER_FILE + 1
    assert {p.rule for p in problems[:-1]} == {"schema.pattern"}
    assert problems[-1].rule == "file.more-problems"
    assert problems[-1].message.startswith("10 more problems")


def test_a_long_value_is_reported_by_length_not_quoted(catalog_copy: Path) -> None:
    caddy = catalog_copy / CADDY
    text = caddy.read_text()
    caddy.write_text(text.replace("description: ", "description: " + "y" * 100_000, 1))
    _, problems = check_catalog(catalog_copy)
    assert [(p.field, p.rule) for p in problems] == [("server.description", "schema.maxLength")]
    assert problems[0].message.endswith("characters long; at most 4096 are allowed")
    assert problems[0].message.startswith("is 1000") and "yyy" not in problems[0].message


def test_env_and_durations_are_bounded_by_the_schema(catalog_copy: Path) -> None:
    caddy = catalog_copy / CADDY
    env = "\n".join(f"    K{i}: v" for i in range(300))
    caddy.write_text(caddy.read_text().replace("  env:\n", f"  env:\n{env}\n", 1))
    platform = catalog_copy / "platform.yaml"
    platform.write_text(
        platform.read_text().replace("callTimeout: 30s", "callTimeout: 9999999999d")
    )
    found = {(file, field, rule) for file, _, field, rule in problems_of(catalog_copy)}
    assert found == {
        (CADDY, "server.env", "schema.maxProperties"),
        ("platform.yaml", "gateway.callTimeout", "schema.pattern"),
    }


def test_the_yaml_bomb_is_refused_in_bounded_memory() -> None:
    """The issue's 522-byte file grew past 3 GiB; a checker capped at 512 MiB must finish."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))\n"
        "from pathlib import Path\n"
        "from catalog.source import read_document\n"
        "print(read_document(Path(sys.argv[1])))\n"
    )
    bomb = BROKEN / "yaml-bomb" / "servers" / "bomb.yaml"
    done = subprocess.run(
        [sys.executable, "-c", code, str(bomb)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[yaml.too-many-values]" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("depth", [31, 300, 5000])
def test_nesting_at_any_depth_is_a_problem_or_a_value_never_a_recursion_error(
    tmp_path: Path, depth: int
) -> None:
    file = tmp_path / "deep.yaml"
    file.write_text("tags: " + "[" * depth + "]" * depth + "\n")
    found = read_document(file)
    if depth < 32:
        assert not hasattr(found, "rule"), found
    else:
        assert getattr(found, "rule", None) == "yaml.too-deep"


def test_the_bounds_are_documented() -> None:
    text = (REPO / "docs" / "catalog.md").read_text()
    for figure in ("256 KiB", "1 MiB", f"{MAX_VALUES:,}", "32 levels", "59 characters"):
        assert figure in text, figure
