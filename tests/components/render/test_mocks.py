"""The mock runtime survives what other code does to the thread's event loop."""

from __future__ import annotations

import asyncio

import pulumi_kubernetes as k8s

from ..conftest import render


def _one_config_map() -> None:
    k8s.core.v1.ConfigMap("cm", metadata={"name": "cm", "namespace": "ns"}, data={"a": "b"})


def test_rendering_works_after_something_left_no_event_loop() -> None:
    asyncio.run(asyncio.sleep(0))  # as pytest-asyncio or a CLI leave the thread: no loop
    asyncio.set_event_loop(None)
    assert render(_one_config_map).find("ConfigMap", "cm").manifest["data"] == {"a": "b"}


def test_rendering_works_after_something_left_a_closed_event_loop() -> None:
    foreign = asyncio.new_event_loop()
    foreign.close()
    asyncio.set_event_loop(foreign)
    assert render(_one_config_map).find("ConfigMap", "cm")
