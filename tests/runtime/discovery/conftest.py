"""Discovery tests share the proposals' real git repository fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime.proposals.conftest import make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)
