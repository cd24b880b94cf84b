"""Test databases: one PostgreSQL server per session, and a fresh database per test.

Fixtures: ``pg_admin_dsn``, ``pg_server_version``, ``pg_template``, ``db_dsn``,
``password_role``, ``run_sql``, ``reachable_tmp_path``.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql as pgsql
from psycopg.abc import QueryNoTemplate
from psycopg.conninfo import make_conninfo

from sqlmig.embedded import BINDIR_ENV, TEST_SETTINGS, Cluster, EmbeddedServer
from sqlmig.errors import EmbeddedServerError

TEST_DSN_ENV: Final = "SQLMIG_TEST_DSN"
DOCKER_IMAGE_ENV: Final = "SQLMIG_TEST_PG_IMAGE"
DOCKER_IMAGE: Final = "postgres:18-alpine"
SESSION_DIR_PREFIX: Final = "sqlmig-test-"
TEMPLATE: Final = f"sqlmig_tpl_{os.getpid()}"
PASSWORD_ROLE: Final = f"sqlmig_pw_{os.getpid()}"

Row = tuple[Any, ...]
Params = Sequence[Any] | Mapping[str, Any] | None
SqlRunner = Callable[..., list[Row]]

_db_numbers = itertools.count(1)


def sql(dsn: str, query: QueryNoTemplate, params: Params = None) -> list[Row]:
    """Run one statement in autocommit on ``dsn``; its rows, or [] when it returns none."""
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall() if cur.description is not None else []


def with_dbname(dsn: str, dbname: str) -> str:
    """``dsn`` pointing at database ``dbname``, keeping its URL or keyword form."""
    parts = urlsplit(dsn)
    if parts.scheme in ("postgres", "postgresql"):
        return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))
    return make_conninfo(dsn, dbname=dbname)


def with_credentials(dsn: str, user: str, password: str) -> str:
    """``dsn`` logging in as ``user`` with ``password``, keeping its URL or keyword form."""
    parts = urlsplit(dsn)
    if parts.scheme in ("postgres", "postgresql"):
        host = parts.netloc.rsplit("@", 1)[-1]
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
        return urlunsplit(parts._replace(netloc=netloc))
    return make_conninfo(dsn, user=user, password=password)


def _docker_answers(timeout_s: float = 0.25) -> bool:
    """Whether a Docker daemon answers /_ping (fails in milliseconds when none runs)."""
    host = urlsplit(os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    address: str | tuple[str, int]
    if host.scheme == "unix":
        family, address = socket.AF_UNIX, host.path
    elif host.scheme in ("tcp", "http") and host.hostname:
        family, address = socket.AF_INET, (host.hostname, host.port or 2375)
    else:
        return False
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(address)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


def _tmpfs() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def _reap_orphans(base: Path) -> None:
    """Stop and delete session clusters whose pytest was killed (SIGKILL skips every finalizer)."""
    for folder in base.glob(f"{SESSION_DIR_PREFIX}*-*"):
        owner = folder.name.removeprefix(SESSION_DIR_PREFIX).split("-")[0]
        if not owner.isdigit() or _alive(int(owner)) or not _ours(folder):
            continue
        _kill_cluster(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)


def _ours(path: Path) -> bool:
    try:
        return path.stat().st_uid == os.geteuid()
    except OSError:  # another session reaped it meanwhile
        return False


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie does not (not every init reaps promptly)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # no /proc: trust kill()
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _kill_cluster(data_dir: Path) -> None:
    # SIGQUIT is an immediate shutdown; sent directly so it works whatever binaries made it.
    pid = Cluster(data_dir).pid()
    if pid is None:
        return
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 5
    while Cluster(data_dir).pid() is not None and time.monotonic() < deadline:
        time.sleep(0.02)


@contextlib.contextmanager
def _embedded_server() -> Iterator[str]:
    """One throwaway cluster on tmpfs with fsync off, stopped and deleted however we exit."""
    base = _tmpfs()
    _reap_orphans(base)
    folder = Path(tempfile.mkdtemp(prefix=f"{SESSION_DIR_PREFIX}{os.getpid()}-", dir=base))
    folder.chmod(0o755)  # our own folder: under root the server runs as 'nobody'
    cluster = Cluster(folder / "pgdata", settings=TEST_SETTINGS)

    def teardown() -> None:
        with contextlib.suppress(Exception):
            cluster.stop(mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(teardown)
    try:
        with _on_sigterm(teardown):
            cluster.init(no_sync=True)
            _require_password(cluster.data_dir / "pg_hba.conf", PASSWORD_ROLE)
            cluster.start()
            yield cluster.url()
    finally:
        teardown()
        atexit.unregister(teardown)


def _require_password(hba: Path, role: str) -> None:
    """Make ``role`` log in with its password; the embedded server trusts everyone else."""
    rules = f"local all {role} scram-sha-256\nhost all {role} 127.0.0.1/32 scram-sha-256\n"
    hba.write_text(rules + hba.read_text())  # first matching line wins


@contextlib.contextmanager
def _on_sigterm(teardown: Callable[[], None]) -> Iterator[None]:
    """A CI timeout sends SIGTERM, which skips atexit: run ``teardown``, then die as asked."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield  # someone else handles it
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        teardown()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _docker_server() -> Iterator[str]:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers releases before the 'community' namespace
        from testcontainers.postgres import PostgresContainer

    image = os.environ.get(DOCKER_IMAGE_ENV, DOCKER_IMAGE)
    flags = " ".join(f"-c {name}={value}" for name, value in TEST_SETTINGS.items())
    with PostgresContainer(image, driver=None).with_command(f"postgres {flags}") as container:
        yield str(container.get_connection_url())


def _session_server(stack: contextlib.ExitStack[bool | None]) -> str:
    if not os.environ.get(BINDIR_ENV) and _docker_answers():
        try:
            return stack.enter_context(_docker_server())
        except Exception as exc:  # a daemon without network or images: fall back, never skip
            warnings.warn(f"Docker PostgreSQL failed ({exc}); using the embedded one", stacklevel=1)
    return stack.enter_context(_embedded_server())


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """A superuser DSN of the session's server (its maintenance database).

    The server is ``$SQLMIG_TEST_DSN`` when set; else one embedded cluster on tmpfs when
    ``$SQLMIG_PG_BINDIR`` names binaries to test against; else a Docker PostgreSQL
    (testcontainers) when a daemon answers; else one embedded cluster with the wheel's
    binaries. Tests never skip for lack of a database. Database names carry the pytest process
    id, so concurrent sessions and xdist workers sharing one server never collide.
    """
    if os.environ.get(TEST_DSN_ENV):
        yield os.environ[TEST_DSN_ENV]
        return
    with contextlib.ExitStack() as stack:
        yield _session_server(stack)


@pytest.fixture(scope="session")
def pg_server_version(pg_admin_dsn: str) -> int:
    """``server_version_num`` of the session's server, e.g. 180001."""
    return int(sql(pg_admin_dsn, "SHOW server_version_num")[0][0])


class _Admin:
    """One autocommit maintenance connection, reopened if a test terminated it."""

    def __init__(self, dsn: str, version: int) -> None:
        self.dsn = dsn
        self.version = version
        self._conn: psycopg.Connection[Row] | None = None

    def execute(self, query: QueryNoTemplate) -> None:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self.dsn, autocommit=True, application_name="pytest")
        self._conn.execute(query)

    def clone(self, template: str, owner: str | None = None) -> str:
        """A new database copied from ``template``; its name."""
        name = f"t_{os.getpid()}_{next(_db_numbers)}"
        # FILE_COPY (PostgreSQL 15+) copies files instead of WAL-logging every block: ~5 ms.
        strategy = pgsql.SQL(" STRATEGY FILE_COPY" if self.version >= 150000 else "")
        owned = pgsql.SQL(" OWNER {}").format(pgsql.Identifier(owner)) if owner else pgsql.SQL("")
        query = pgsql.SQL("CREATE DATABASE {} TEMPLATE {}{}{}")
        self.execute(
            query.format(pgsql.Identifier(name), pgsql.Identifier(template), owned, strategy)
        )
        return name

    def drop(self, dbname: str) -> None:
        # FORCE (PostgreSQL 13+) ends connections a test left open.
        force = pgsql.SQL(" WITH (FORCE)" if self.version >= 130000 else "")
        self.execute(
            pgsql.SQL("DROP DATABASE IF EXISTS {}{}").format(pgsql.Identifier(dbname), force)
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


@pytest.fixture(scope="session")
def _pg_admin(pg_admin_dsn: str, pg_server_version: int) -> Iterator[_Admin]:
    admin = _Admin(pg_admin_dsn, pg_server_version)
    yield admin
    admin.close()


@pytest.fixture(scope="session")
def pg_template(_pg_admin: _Admin) -> Iterator[str]:
    """Name of the session's template database (pristine, from template0).

    Nothing may stay connected to it: PostgreSQL refuses to clone a template in use.
    """
    _pg_admin.drop(TEMPLATE)
    _pg_admin.execute(
        pgsql.SQL("CREATE DATABASE {} TEMPLATE template0").format(pgsql.Identifier(TEMPLATE))
    )
    yield TEMPLATE
    _pg_admin.drop(TEMPLATE)


@pytest.fixture
def db_dsn(_pg_admin: _Admin, pg_template: str) -> Iterator[str]:
    """DSN of a fresh, empty database for this test (as the superuser), dropped afterwards."""
    name = _pg_admin.clone(pg_template)
    try:
        yield with_dbname(_pg_admin.dsn, name)
    finally:
        _pg_admin.drop(name)


@pytest.fixture
def db_factory(_pg_admin: _Admin, pg_template: str) -> Iterator[Callable[[], str]]:
    """Makes more fresh databases for one test (several targets, say); all dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(_pg_admin.clone(pg_template))
        return with_dbname(_pg_admin.dsn, made[-1])

    try:
        yield make
    finally:
        for name in made:
            _pg_admin.drop(name)


@pytest.fixture
def password_role(_pg_admin: _Admin, pg_template: str) -> Iterator[tuple[str, str, str]]:
    """``(dsn, role, password)``: a role that must log in with its password, and a DSN (URL on
    the embedded and Docker servers) of a fresh database it owns. Dropped afterwards.

    On a ``$SQLMIG_TEST_DSN`` server, whether a wrong password is refused depends on its
    pg_hba.conf.
    """
    password = secrets.token_urlsafe(12)
    role = pgsql.Identifier(PASSWORD_ROLE)
    create = pgsql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, pgsql.Literal(password))
    _pg_admin.execute(create)
    try:
        name = _pg_admin.clone(pg_template, owner=PASSWORD_ROLE)
        try:
            dsn = with_credentials(with_dbname(_pg_admin.dsn, name), PASSWORD_ROLE, password)
            yield dsn, PASSWORD_ROLE, password
        finally:
            _pg_admin.drop(name)
    finally:
        _pg_admin.execute(pgsql.SQL("DROP ROLE IF EXISTS {}").format(role))


@pytest.fixture(scope="session")
def run_sql() -> SqlRunner:
    """The ``sql(dsn, query, params=None) -> rows`` helper, for tests that prefer a fixture."""
    return sql


@pytest.fixture
def reachable_tmp_path() -> Iterator[Path]:
    """Like ``tmp_path``, but every user can enter it, and project servers inside are stopped.

    Under root the embedded server runs as ``nobody``, which cannot enter pytest's own
    ``/tmp/pytest-of-root`` (mode 0700): projects that use the embedded server belong here.
    """
    folder = Path(tempfile.mkdtemp(prefix="sqlmig-tmp-", dir=_tmpfs()))
    folder.chmod(0o755)
    yield folder
    _stop_project_servers(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _stop_project_servers(folder: Path) -> None:
    """Stop every project server under ``folder``; remove its socket folder outside it, if any."""
    for home in folder.rglob(".sqlmig"):
        server = EmbeddedServer(home.parent)
        with contextlib.suppress(EmbeddedServerError):
            server.stop()
        with contextlib.suppress(OSError, ValueError, AttributeError):
            socket_dir = json.loads(server.state_file.read_text()).get("socket_dir")
            if isinstance(socket_dir, str):
                shutil.rmtree(socket_dir, ignore_errors=True)
