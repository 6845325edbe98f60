"""Running triage over a labelled file: the fleet to load and the timed decision loop.

``mcpfleet triage eval`` is a thin shell over this. The default fleet is the eleven servers
``eval/FORMAT.md`` names (``kubernetes-alt``, ``proxmox`` and ``everything`` are
deliberately left out: a candidate from them counts as wrong); ``--tools DIR`` loads
exactly the servers in DIR instead.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path

from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.engine import Triage, build_index
from runtime.triage.evaluation import EvalCase, Prediction, score
from runtime.triage.memory import Recollection
from runtime.triage.policy import ExecutionPolicy
from runtime.triage.profiles import profile_for
from runtime.triage.toolset import ServerTools, ToolFileError, load_tool_dir
from runtime.triage.training import train

__all__ = [
    "EVAL_FLEET",
    "PREDICTED",
    "default_tools_dir",
    "learning_curve",
    "load_fleet",
    "predict",
    "triage_for",
]

#: Candidates written per prediction (top-10 is scored).
PREDICTED = 10

#: The servers of the eval fleet, as ``eval/FORMAT.md`` lists them.
EVAL_FLEET = (
    "opnsense",
    "unifi",
    "adguard",
    "caddy",
    "kubernetes",
    "talos",
    "proxmox-plus",
    "grafana",
    "prometheus",
    "github",
    "postgres",
)


def default_tools_dir(cases_file: Path) -> Path:
    """The nearest ``mcp-tools/`` above the labelled file (the layout of ``eval/``)."""
    for directory in cases_file.resolve().parents[:4]:
        if (directory / "mcp-tools").is_dir():
            return directory / "mcp-tools"
    return cases_file.resolve().parent / "mcp-tools"


def load_fleet(tools_dir: Path, *, only_eval_fleet: bool) -> list[ServerTools]:
    """The servers to decide among; each described by its software's profile.

    Raises:
        ToolFileError: the directory or a file of the eval fleet is missing or broken.
    """
    servers = load_tool_dir(tools_dir, EVAL_FLEET if only_eval_fleet else None)
    if not servers:
        raise ToolFileError(f"{tools_dir}: no tool lists (*.json) found")
    described = []
    for server in servers:
        profile = profile_for(server.name)
        described.append(
            ServerTools(
                name=server.name,
                tools=server.tools,
                description=profile.description if profile else "",
            )
        )
    return described


async def triage_for(
    servers: Sequence[ServerTools], embedder: MiniLMEmbedder, *, threshold: float | None = None
) -> Triage:
    """A triage (no LLM) over ``servers``: index built and model trained from the fleet."""
    index = await build_index(servers, embedder)
    model = await train(index, embedder)
    policy = ExecutionPolicy() if threshold is None else ExecutionPolicy(threshold)
    return Triage(embedder=embedder, index=index, model=model, policy=policy)


def predict(
    triage: Triage,
    embedder: MiniLMEmbedder,
    cases: Sequence[EvalCase],
    memory: Recollection | None = None,
) -> list[Prediction]:
    """Decide every case, timing each decision (embedding included) on the calling thread.

    ``memory``: confirmed past questions the decisions may draw on (a learning curve).
    """
    out: list[Prediction] = []
    for case in cases:
        started = time.perf_counter()
        vector = embedder.embed_sync([case.query])[0]
        remembered = memory.recall_sync(vector) if memory is not None else None
        decision = triage.decide_vector(case.query, vector, memory=remembered, k=PREDICTED)
        elapsed = (time.perf_counter() - started) * 1000
        out.append(
            Prediction(
                id=case.id,
                route=decision.route.value,
                candidates=tuple(c.key for c in decision.candidates),
                latency_ms=elapsed,
                confidence=decision.confidence,
                would_execute=decision.would_execute,
            )
        )
    return out


def learning_curve(
    triage: Triage,
    embedder: MiniLMEmbedder,
    cases: Sequence[EvalCase],
    shares: Sequence[float] = (0.0, 0.25, 0.5, 0.75),
    seed: int = 7,
) -> list[dict[str, float]]:
    """Top-1/top-5 on a fixed quarter of the tool questions, as more of the others are
    replayed as confirmed history first (no question is both remembered and scored)."""
    tool_cases = [c for c in cases if c.route == "tool" and c.tool]
    random.Random(seed).shuffle(tool_cases)
    cut = len(tool_cases) * 3 // 4
    history, scored = tool_cases[:cut], tool_cases[cut:]
    vectors = embedder.embed_sync([c.query for c in history])
    out = []
    for share in shares:
        memory = Recollection()
        for case, vector in list(zip(history, vectors, strict=True))[
            : int(len(tool_cases) * share)
        ]:
            memory.remember(vector, str(case.tool))
        report = score(scored, predict(triage, embedder, scored, memory))
        out.append(
            {
                "remembered": len(memory.keys),
                "scored": len(scored),
                "toolTop1": report.tool_top1,
                "toolTop5": report.tool_top5,
            }
        )
    return out
