"""The embedded PostgreSQL: one cluster per data directory, reused, shared, and robust to
crashes. Each test runs its own server in its own directory (about a second each)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from runtime.db import EmbeddedPostgres, EmbeddedServerError
from runtime.db.embedded import SERVER_USER

from ...conftest import TEST_SERVER_SETTINGS


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory outside pytest's 0700 tmp tree (the server user must reach it)."""
    path = Path(tempfile.mkdtemp(prefix="mcpfleet-test-embedded-"))
    yield path
    EmbeddedPostgres(path).stop(force=True)  # whatever a failed test left running
    shutil.rmtree(path, ignore_errors=True)


def _server(path: Path, **kwargs: object) -> EmbeddedPostgres:
    return EmbeddedPostgres(path, settings=TEST_SERVER_SETTINGS, **kwargs)  # type: ignore[arg-type]


def test_a_cluster_is_initialised_once_and_its_data_survives_a_restart(data_dir: Path) -> None:
    server = _server(data_dir)
    server.start()
    assert server.owned
    assert (data_dir / "postgres" / "PG_VERSION").read_text().strip() == "18"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    server.stop()
    assert server.status() is None

    again = _server(data_dir)
    again.start()
    with psycopg.connect(again.url()) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == (42,)
    again.stop()


def test_a_second_handle_attaches_to_the_running_server_and_does_not_stop_it(
    data_dir: Path,
) -> None:
    owner = _server(data_dir)
    first = owner.start()
    guest = _server(data_dir)
    second = guest.start()
    assert second.pid == first.pid and not guest.owned
    guest.stop()
    with psycopg.connect(owner.url()) as conn:  # still up
        assert conn.execute("SELECT 1").fetchone() == (1,)
    owner.stop()
    assert owner.status() is None


def test_two_concurrent_starts_on_one_directory_make_one_server(data_dir: Path) -> None:
    handles = [_server(data_dir) for _ in range(2)]
    addresses = []
    threads = [threading.Thread(target=lambda h=h: addresses.append(h.start())) for h in handles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(addresses) == 2 and addresses[0].pid == addresses[1].pid
    assert sorted(h.owned for h in handles) == [False, True]
    next(h for h in handles if h.owned).stop()


def test_a_pid_file_naming_an_unrelated_live_process_is_treated_as_stale(
    data_dir: Path,
) -> None:
    """After a crash the old pid may be reused by another process of the server's user;
    PostgreSQL itself would then refuse to start ("lock file already exists")."""
    server = _server(data_dir)
    server.start()
    pidfile = data_dir / "postgres" / "postmaster.pid"
    lines = pidfile.read_text().splitlines()
    server.stop()
    as_server_user = {"user": SERVER_USER} if os.geteuid() == 0 else {}
    with subprocess.Popen(["sleep", "300"], **as_server_user) as unrelated:  # type: ignore[call-overload]
        try:
            pidfile.write_text("\n".join([str(unrelated.pid), *lines[1:]]) + "\n")
            address = _server(data_dir).start()
            assert address.pid != unrelated.pid
            assert unrelated.poll() is None  # left alone
        finally:
            unrelated.kill()
    EmbeddedPostgres(data_dir).stop(force=True)


def test_a_server_killed_with_sigkill_is_restarted_cleanly(data_dir: Path) -> None:
    server = _server(data_dir)
    pid = server.start().pid
    children = psutil.Process(pid).children()
    os.kill(pid, signal.SIGKILL)
    psutil.wait_procs([psutil.Process(pid)], timeout=30)
    restarted = _server(data_dir)
    address = restarted.start()
    assert address.pid != pid and restarted.owned
    assert not any(child.is_running() and child.status() != "zombie" for child in children)
    with psycopg.connect(restarted.url()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    restarted.stop()


def test_tcp_needs_the_generated_password(data_dir: Path) -> None:
    server = _server(data_dir, tcp_port=0)
    address = server.start()
    try:
        assert address.tcp_host == "127.0.0.1"
        with psycopg.connect(server.url(tcp=True)) as conn:
            assert conn.execute("SELECT inet_server_addr()::text").fetchone() == ("127.0.0.1/32",)
        password_file = data_dir / "postgres.password"
        assert password_file.stat().st_mode & 0o777 == 0o600
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(f"postgresql://postgres@127.0.0.1:{address.port}/mcpfleet").close()
        log = (data_dir / "postgres" / "server.log").read_text()
        assert password_file.read_text().strip() not in log
    finally:
        server.stop()


def test_a_socket_only_server_refuses_a_tcp_url(data_dir: Path) -> None:
    server = _server(data_dir)
    server.start()
    try:
        with pytest.raises(EmbeddedServerError, match="TCP is not enabled"):
            server.url(tcp=True)
    finally:
        server.stop()


def test_a_directory_that_is_not_a_cluster_is_not_overwritten(data_dir: Path) -> None:
    (data_dir / "postgres").mkdir()
    (data_dir / "postgres" / "precious.txt").write_text("keep me")
    with pytest.raises(EmbeddedServerError, match="holds no PostgreSQL cluster"):
        _server(data_dir).start()
    assert (data_dir / "postgres" / "precious.txt").read_text() == "keep me"


def test_an_address_is_only_available_once_started(data_dir: Path) -> None:
    with pytest.raises(EmbeddedServerError, match="is not started"):
        _ = _server(data_dir).address


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs a separate server user")
def test_as_root_the_server_runs_as_its_own_unprivileged_user(data_dir: Path) -> None:
    server = _server(data_dir)
    pid = server.start().pid
    try:
        assert psutil.Process(pid).username() == SERVER_USER
        assert (data_dir / "postgres").stat().st_mode & 0o777 == 0o700
    finally:
        server.stop()
