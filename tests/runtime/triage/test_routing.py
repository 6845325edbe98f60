"""The route model: its phrase features, its fitting, and routes over the real eval fleet.

The questions below were written for these tests (none from the evaluation files).
"""

from __future__ import annotations

import numpy as np
import pytest

from runtime.triage.decision import Route
from runtime.triage.embedding import MiniLMEmbedder
from runtime.triage.engine import Triage
from runtime.triage.routing import ROUTE_FEATURES, ROUTES, RouteModel, cue_features

_CUES = ROUTE_FEATURES[ROUTE_FEATURES.index("cue_direct") : ROUTE_FEATURES.index("indefinite") + 1]

#: Building the eval fleet's index and training its model takes about a minute on one
#: quiet core, several on a loaded one: the session fixture gets room.
pytestmark = pytest.mark.timeout(1200)


def _flags(text: str) -> set[str]:
    return {name for name, on in zip(_CUES, cue_features(text), strict=True) if on}


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("what did we decide about the nas fans", "past_we"),
        ("the vlan plan we settled on", "past_we"),
        ("that traefik fix again?", "back_reference"),
        ("how do i follow a file with tail", "how_to"),
        ("which pods are crashlooping right now", "live_state"),
        ("how many hosts fit in a /26", "indefinite"),
        ("iptables vs nftables - what's the difference", "cue_direct"),
        ("write a terraform module that creates vms", "cue_escalate"),
        ("show my previous questions about dns", "cue_context"),
    ],
)
def test_phrase_features_fire_on_their_wording(text: str, flag: str) -> None:
    assert flag in _flags(text)


def test_phrase_features_stay_off_for_a_plain_tool_request() -> None:
    assert _flags("list the dhcp leases on the firewall") == set()


def test_the_route_model_learns_which_evidence_marks_which_route() -> None:
    rng = np.random.default_rng(1)
    rows, labels = [], []
    for i, route in enumerate(ROUTES):
        for _ in range(40):
            row = rng.normal(scale=0.1, size=len(ROUTE_FEATURES))
            row[i] += 1.0  # one feature per route carries the signal
            rows.append(row)
            labels.append(route)
    examples = {r: np.zeros((1, 4), dtype=np.float32) for r in ROUTES}
    model = RouteModel.fit(examples, np.array(rows), labels, [False] * len(labels))
    for i, route in enumerate(ROUTES):
        probe = np.zeros(len(ROUTE_FEATURES))
        probe[i] = 1.0
        probabilities = model.probabilities(probe)
        assert max(probabilities, key=probabilities.__getitem__) is route
        assert sum(probabilities.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("which pods are restarting in the media namespace", Route.TOOL),
        ("show the dhcp leases on the firewall", Route.TOOL),
        ("what is the difference between a vlan and a subnet", Route.DIRECT),
        ("what does the -f flag of tail do", Route.DIRECT),
        ("what is the capital of portugal", Route.DIRECT),
        (
            "write a helm values file for loki with 30 day retention and explain each setting",
            Route.ESCALATE,
        ),
        ("design a backup strategy for the cluster with offsite copies", Route.ESCALATE),
        ("the offsite backup plan we agreed on last month", Route.CONTEXT),
        ("what did I ask about traefik yesterday", Route.CONTEXT),
    ],
)
def test_routes_over_the_eval_fleet(
    eval_triage: Triage, minilm: MiniLMEmbedder, text: str, route: Route
) -> None:
    decision = eval_triage.decide_vector(text, minilm.embed_sync([text])[0])
    assert decision.route is route, decision.route_probabilities
