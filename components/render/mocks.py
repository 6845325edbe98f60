"""Pulumi's mock runtime, installed once per process, recording every registration."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

__all__ = ["PROJECT", "STACK", "Recorded", "Recording", "install_mocks", "record"]

PROJECT = "mcpfleet"
STACK = "render"
_SECRET_SIG = "4dabf18193072939515e22adb298388d"

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Recorded:
    """One registered resource: its place in the tree and its inputs as plain JSON."""

    urn: str
    parent: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    secret_paths: frozenset[Path] = field(default_factory=frozenset)
    dependencies: frozenset[str] = frozenset()
    """URNs of the resources this one waits for (``depends_on``, and inputs' sources)."""


@dataclass(frozen=True)
class Recording:
    """Everything one run registered, and the warnings components logged on the way."""

    records: list[Recorded]
    warnings: list[str]


class _WarningCollector(logging.Handler):
    """Receives what components log through ``pulumi.log`` (the mock engine's logger)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _plain(value: Any, path: Path, secrets: set[Path]) -> Any:
    """Unwrap secret markers (remembering where they were) and undo the float conversion.

    Values cross the mock monitor as protobuf ``Struct``s, so every number arrives as a
    float; Kubernetes objects hold integers, so whole floats go back to ``int``.
    """
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) is not None and "value" in value:
            secrets.add(path)
            return _plain(value["value"], path, secrets)
        return {k: _plain(v, (*path, k), secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, (*path, i), secrets) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


class _RecordingMonitor(MockMonitor):
    """The stock mock monitor, plus a record of each registration with its parent URN."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[Recorded] = []
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources.get(response.urn)
        secrets: set[Path] = set()
        inputs = _plain(dict(registration.state if registration else {}), (), secrets)
        with self._lock:
            self.records.append(
                Recorded(
                    urn=response.urn,
                    parent=request.parent,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    inputs=inputs,
                    secret_paths=frozenset(secrets),
                    dependencies=frozenset(request.dependencies),
                )
            )
        return response

    def reset(self) -> None:
        with self._lock:
            self.records = []
            self.resources.clear()


_monitor: _RecordingMonitor | None = None
_warnings = _WarningCollector()
_install_lock = threading.Lock()


_loop: asyncio.AbstractEventLoop | None = None


def _render_loop() -> None:
    """Run every render on one loop of our own, made current for the SDK's ``get_event_loop``.

    Other code (pytest-asyncio, ``asyncio.run``) may leave the thread with no loop or a
    closed one; and the mock monitor keeps a loop per worker thread of this loop's executor,
    so this loop is never closed (closing it would orphan those).
    """
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)


def install_mocks() -> _RecordingMonitor:
    """Install the mocks on first use; ``set_mocks`` is process-global, so only once."""
    global _monitor
    _render_loop()
    with _install_lock:
        if _monitor is None:
            logger = logging.getLogger("mcpfleet.render")
            logger.propagate = False
            logger.addHandler(_warnings)
            mocks = _Mocks()
            _monitor = _RecordingMonitor(mocks)
            pulumi.runtime.set_mocks(
                mocks,
                project=PROJECT,
                stack=STACK,
                preview=False,
                monitor=_monitor,
                logger=logger,
            )
            # Resolve the root stack's registration now, on this loop: a later render may
            # run on another loop, which cannot wait on this one's pending futures.
            _sync_await(_settle())
        return _monitor


async def _settle() -> None:
    """Wait for every registration and output, a whole wave at a time.

    The SDK's own wait (``wait_for_rpcs``, which still runs after this) wakes once per
    completed output and re-arms every pending one, which is quadratic in resources;
    waiting for all of them at once keeps a 500-server render linear.
    """
    while True:
        tracked = [*SETTINGS.outputs, *SETTINGS.rpc_manager.rpcs]
        pending = [task for task in tracked if not task.done()]
        if not pending:
            return
        await asyncio.wait(pending)


def record(program: Callable[[], object]) -> Recording:
    """Run ``program`` (which creates resources) to completion; return what it registered.

    Raises whatever the program raises, after Pulumi's outstanding work has settled.
    """
    monitor = install_mocks()
    _render_loop()
    monitor.reset()
    _warnings.messages = []
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()

    def run() -> Awaitable[None]:
        program()
        return _settle()

    _sync_await(run_pulumi_func(run))
    return Recording(list(monitor.records), list(_warnings.messages))
