"""Wait for a condition with a deadline instead of sleeping a fixed time.

The deadline is a hang guard, not a timing claim: it is generous (60 s by default) so a
loaded machine does not fail a test whose condition does come true. Timing goals belong
in bench/.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["eventually", "eventually_async"]

T = TypeVar("T")


async def eventually(probe: Callable[[], T], *, within: float = 60.0, what: str = "") -> T:
    """Return ``probe()`` once it is truthy; fail with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or probe}")
        await asyncio.sleep(0.02)


async def eventually_async(
    probe: Callable[[], Awaitable[T]], *, within: float = 60.0, what: str = ""
) -> T:
    """Like :func:`eventually` for a coroutine probe (a database or HTTP read)."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or probe}")
        await asyncio.sleep(0.02)
