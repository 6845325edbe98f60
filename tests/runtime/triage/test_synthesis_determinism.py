"""Training questions are the same in every process: the served model must not depend on
Python's per-process string hashing (set order), or replicas with one fleet would differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import hashlib, numpy as np
from runtime.triage.eval_run import load_fleet
from runtime.triage.index import ToolIndex
from runtime.triage.synthesis import synthesize
servers = load_fleet(__import__("pathlib").Path("eval/mcp-tools"), only_eval_fleet=True)
index = ToolIndex(servers, np.zeros((len(servers), 384), dtype=np.float32))
questions = synthesize(index.documents, index.schemas, index.server_names, per_tool=3)
print(len(questions), hashlib.sha256(repr(questions).encode()).hexdigest())
"""


def _questions_digest(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=300, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_the_training_questions_do_not_depend_on_the_string_hash_seed() -> None:
    first, second = _questions_digest("1"), _questions_digest("2")
    assert int(first.split()[0]) > 1500  # three per tool of the 680-tool eval fleet
    assert first == second
