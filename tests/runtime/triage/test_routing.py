"""Route cues: phrasings that mark a route whatever the topic's words suggest.

The real classifier (exemplars embedded with all-MiniLM-L6-v2). Each question is scored
against a topical tool match (evidence 0.5, what a tool sharing the question's nouns
gets); the cue's own share of the route's score is checked too.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from runtime.triage.decision import Route
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.routing import RouteClassifier

TOPICAL = 0.5


@pytest.fixture(scope="module")
async def classifier(minilm: MiniLMEmbedder) -> RouteClassifier:
    return await RouteClassifier.build(minilm)


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("what was your advice on the restic backup schedule", Route.CONTEXT),
        ("did you already tell me which vlan the cameras use?", Route.CONTEXT),
        ("summarise our last conversation about the traefik upgrade", Route.CONTEXT),
        ("walk me through moving the postgres cluster to cnpg, with examples", Route.ESCALATE),
        ("rewrite my caddy snippet as a traefik IngressRoute", Route.ESCALATE),
        ("Erkläre ausführlich, wie Cilium L2-Announcements funktionieren", Route.ESCALATE),
        ("iptables vs nftables?", Route.DIRECT),
        ("Was bedeutet PodDisruptionBudget?", Route.DIRECT),
        ("¿cómo veo los puertos abiertos en linux?", Route.DIRECT),
    ],
)
def test_a_cue_outweighs_a_topical_tool(
    classifier: RouteClassifier, minilm: MiniLMEmbedder, text: str, route: Route
) -> None:
    vector = minilm.embed_sync([text])[0]
    decided, _, scores = classifier.classify(text, vector, TOPICAL)
    assert decided is route
    without = replace(classifier.weights, cue=0.0, definition=0.0)
    _, _, uncued = RouteClassifier(classifier.vectors, without).classify(text, vector, TOPICAL)
    assert scores[route] > uncued[route]  # a cue matched and counted
