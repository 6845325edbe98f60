"""Typed-model rules that the schema alone cannot state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from catalog import parse_duration
from catalog.model import Backup, ClusterApiServer, Model


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("1h30m", timedelta(minutes=90)),
        ("30d", timedelta(days=30)),
        ("250ms", timedelta(milliseconds=250)),
    ],
)
def test_durations_parse_to_timedeltas(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "s30", "1x", "30s "])
def test_malformed_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_models_are_frozen() -> None:
    backup = Backup(schedule="0 3 * * *", target="pvc", size="10Gi")
    with pytest.raises(ValidationError):
        backup.size = "20Gi"  # type: ignore[misc]


def test_nfs_backup_needs_server_and_path() -> None:
    with pytest.raises(ValidationError, match="nfsServer"):
        Backup(schedule="0 3 * * *", target="nfs")


def test_embedding_model_needs_a_dimension() -> None:
    with pytest.raises(ValidationError, match="dimension"):
        Model(
            name="e",
            provider="p",
            model_id="x",
            purpose="embedding",
            context_window=512,
            input_usd_per_mtok=0,
        )


def test_in_cluster_kubernetes_server_needs_no_kubeconfig() -> None:
    server = ClusterApiServer(
        kind="cluster-api", name="k", description="d", api="kubernetes", image="img"
    )
    assert server.kubeconfig is None
