"""The deploy lock: a session advisory lock on its own idle connection, polled until a deadline.

The key is derived from the database name and the history table, so two targets in one
database (different history tables) do not block each other, and every sqlmig that writes the
same history serialises. The lock dies with its connection, so a killed sqlmig releases it.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import psycopg

from sqlmig.db.connect import Conn, connect
from sqlmig.errors import LockWaitTimeout

POLL_S = 0.1


class Holder(NamedTuple):
    pid: int
    application_name: str
    client: str
    since: str
    query: str

    def describe(self) -> str:
        query = " ".join(self.query.split())[:120]
        return (
            f"pid {self.pid} ({self.application_name or 'no application_name'}) from "
            f"{self.client}, holding it since {self.since}, running: {query or '(idle)'}"
        )


def lock_key(dbname: str, history_table: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    digest = hashlib.sha256(f"sqlmig:{dbname}:{history_table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def deploy_lock(
    dsn: str,
    history_table: str,
    wait_s: float,
    on_wait: Callable[[Holder | None], None] | None = None,
) -> Iterator[None]:
    """Hold the deploy lock for the duration of the block; LockWaitTimeout after ``wait_s``."""
    conn = connect(dsn, autocommit=True)
    try:
        if conn.info.server_version >= 140000:
            # the lock connection sits idle for the whole deploy: a role's idle_session_timeout
            # must not end it, or a second deploy would get in while this one still runs
            conn.execute("SET idle_session_timeout = 0")
        key = lock_key(conn.info.dbname, history_table)
        _acquire(conn, key, wait_s, on_wait)
        try:
            yield
        finally:
            _release(conn, key)
    finally:
        conn.close()


def _acquire(
    conn: Conn,
    key: int,
    wait_s: float,
    on_wait: Callable[[Holder | None], None] | None,
) -> None:
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        if row and row[0]:
            return
        if not told and on_wait is not None:
            on_wait(holder(conn, key))
            told = True
        if time.monotonic() >= deadline:
            found = holder(conn, key)
            who = found.describe() if found else "a session that has since ended"
            raise LockWaitTimeout(
                f"another sqlmig holds the deploy lock after waiting {wait_s:g}s: {who}",
                "wait for that deploy to finish, or raise --lock-wait; if it is stuck, "
                "end it with SELECT pg_terminate_backend(pid)",
            )
        time.sleep(POLL_S)


def _release(conn: Conn, key: int) -> None:
    if conn.closed or conn.broken:
        return  # the server drops session locks with the connection
    with contextlib.suppress(psycopg.Error):  # closing the connection releases it anyway
        conn.execute("SELECT pg_advisory_unlock(%s)", [key])


def holder(conn: Conn, key: int) -> Holder | None:
    """Who holds the advisory lock ``key`` now, from pg_locks and pg_stat_activity."""
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    row = conn.execute(
        """
        SELECT a.pid, coalesce(a.application_name, ''),
               coalesce(host(a.client_addr), 'local socket'),
               coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?'),
               coalesce(a.query, '')
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        LIMIT 1
        """,
        [classid, objid],
    ).fetchone()
    if row is None:
        return None
    return Holder(int(str(row[0])), str(row[1]), str(row[2]), str(row[3]), str(row[4]))
