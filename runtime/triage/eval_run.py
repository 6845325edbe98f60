"""Running triage over a labelled file: the fleet to load and the timed decision loop.

``mcpfleet triage eval`` is a thin shell over this. The default fleet is the eleven servers
``shared/eval/README.md`` names (``kubernetes-alt``, ``proxmox`` and ``everything`` are
deliberately left out: a candidate from them counts as wrong); ``--tools DIR`` loads
exactly the servers in DIR instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.engine import Triage, build_index
from runtime.triage.evaluation import EvalCase, Prediction
from runtime.triage.profiles import profile_for
from runtime.triage.routing import RouteClassifier
from runtime.triage.toolset import ServerTools, ToolFileError, load_tool_dir

__all__ = ["EVAL_FLEET", "default_tools_dir", "load_fleet", "predict", "triage_for"]

#: The servers of the eval fleet, as ``shared/eval/README.md`` lists them.
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
    """``mcp-tools/`` beside the labelled file's directory (the layout of ``shared/``)."""
    return cases_file.resolve().parent.parent / "mcp-tools"


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


async def triage_for(servers: Sequence[ServerTools], embedder: MiniLMEmbedder) -> Triage:
    """A deterministic (no LLM) triage over ``servers`` with the local embedding model."""
    index = await build_index(servers, embedder)
    classifier = await RouteClassifier.build(embedder)
    return Triage(embedder=embedder, index=index, classifier=classifier)


def predict(
    triage: Triage, embedder: MiniLMEmbedder, cases: Sequence[EvalCase]
) -> list[Prediction]:
    """Decide every case, timing each decision (embedding included) on the calling thread."""
    out: list[Prediction] = []
    for case in cases:
        started = time.perf_counter()
        vector = embedder.embed_sync([case.query])[0]
        decision = triage.decide_vector(case.query, vector)
        elapsed = (time.perf_counter() - started) * 1000
        out.append(
            Prediction(
                id=case.id,
                route=decision.route.value,
                candidates=tuple(c.key for c in decision.candidates),
                latency_ms=elapsed,
            )
        )
    return out
