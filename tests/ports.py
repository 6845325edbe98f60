"""Loopback ports for test servers, without the pick-close-reuse race where it can be avoided.

Picking a free port, closing it and handing the number to a server lets another process
take the port in between. So, in order of preference:

* servers the tests start bind port 0 and report the port they got (``mcpfleet serve …
  --port 0`` logs uvicorn's "Uvicorn running on …" line, ``mcpfleet up --port 0`` prints
  its URL, the test peers print "listening on 127.0.0.1:PORT"): :func:`announced_port`;
* an address where nothing may answer is a port this process keeps bound without
  listening, so connections are refused and no one else can take it: :func:`refusing_port`;
* only a server that must come back on the port it had (a restart) is given a number.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["LISTENING", "announced_port", "log_reader", "refusing_port", "unused_port"]

LISTENING = re.compile(
    r"(?:listening on |Uvicorn running on http://|local fleet is up at http://)"
    r"(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)"
)
"""The lines a server prints once it listens: the test peers', uvicorn's and ``mcpfleet up``'s."""


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections for as long as the block runs.

    The socket is bound but never listens: a connect gets ECONNREFUSED at once, and no
    other process can bind the port meanwhile.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def unused_port() -> int:
    """A loopback port nothing uses right now, for a server whose own configuration must
    name its URL before it starts (an OAuth issuer, a resource URI). Prefer a server that
    binds port 0 and announces it (:func:`announced_port`); this leaves a short race."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def announced_port(
    read: Callable[[], str],
    process: subprocess.Popen[bytes] | subprocess.Popen[str],
    *,
    within: float = 120.0,
    skip: int = 0,
) -> int:
    """The port a server reports in its output once it listens (see :data:`LISTENING`).

    ``read`` returns the output so far (a log file's text, joined captured lines); the
    first ``skip`` announcements are ignored (earlier runs of a restarted server).

    Raises:
        AssertionError: the process exited, or said nothing within ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while True:
        found = LISTENING.findall(read())
        if len(found) > skip:
            return int(found[skip])
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before listening:\n"
                                 + read()[-3000:])
        if time.monotonic() > deadline:
            raise AssertionError(f"no 'listening' line within {within}s:\n" + read()[-3000:])
        time.sleep(0.02)


def log_reader(path: Path) -> Callable[[], str]:
    """``read`` for :func:`announced_port` over a log file that may not exist yet."""

    def read() -> str:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    return read
