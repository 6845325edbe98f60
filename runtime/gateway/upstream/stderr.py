"""Where a stdio upstream's stderr goes: into the gateway's log, one record per line.

Left alone, a stdio child writes to the gateway's own stderr: banners such as
server-everything's "Starting default (STDIO) server..." land on the terminal of
``mcpfleet up`` and break the one-JSON-object-per-line logs of a pod. Each line becomes a
log record instead (logger ``runtime.gateway.upstream.stderr``, with the server's name),
so it goes wherever the process's logs go.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["MAX_LINE", "logged_stderr"]

logger = logging.getLogger(__name__)
MAX_LINE = 2000


@contextmanager
def logged_stderr(server: str) -> Iterator[TextIO]:
    """A file to hand a child process as its stderr; every line it writes is logged.

    Leave the block only after the child has exited: closing the write end here then
    ends the reader thread (at end of file).
    """
    read_fd, write_fd = os.pipe()
    reader = threading.Thread(
        target=_pump, args=(read_fd, server), name=f"stderr-{server}", daemon=True
    )
    reader.start()
    with os.fdopen(write_fd, "w", encoding="utf-8") as writer:
        yield writer


def _pump(read_fd: int, server: str) -> None:
    with os.fdopen(read_fd, "rb") as pipe:
        for raw in pipe:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                logger.info(line[:MAX_LINE], extra={"server": server, "stream": "stderr"})
