"""Send one query string over the simple protocol and learn exactly where it failed.

psycopg's ``execute`` drops the results before a failing one, so it cannot say which statement of
a multi-statement string failed when PostgreSQL gives no position (a constraint violation, say).
This drives the documented libpq layer (``psycopg.pq``) instead: it counts the results that
completed before the error, and waits in short ``select`` slices so Ctrl-C cancels the query.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Callable
from typing import NamedTuple

import psycopg
from psycopg import pq

from sqlmig.db.connect import Conn

_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK, pq.ExecStatus.EMPTY_QUERY)
_F = pq.DiagnosticField


class PgFailure(NamedTuple):
    """A server error, with everything needed to point at the failing text."""

    sqlstate: str
    message: str
    detail: str | None
    hint: str | None
    context: str | None
    position: int | None  # 1-based character position in the query string
    internal_position: int | None  # 1-based position within internal_query (function bodies)
    internal_query: str | None
    completed: int  # statements of the string that completed before the failing one


class ConnectionLost(Exception):
    """The server went away mid-query (restart, terminate, network)."""


def run(conn: Conn, query: str, meanwhile: Callable[[], object] | None = None) -> PgFailure | None:
    """Run ``query`` (one or more statements); None on success, else the first failure.

    ``meanwhile`` is called once the query is sent, while the server runs it: the client's
    own work overlaps the server's (two cores). It is best effort: an exception it raises is
    dropped (the connection must still read this query's results), so it must only prepare work
    that is done again, with errors reported, when it is needed.
    """
    pg = conn.pgconn
    data = query.encode("utf-8")
    try:  # send inside the try: a Ctrl-C right after sending must still cancel the query
        pg.send_query(data)
        _flush(pg)
        if meanwhile is not None:
            with contextlib.suppress(Exception):
                meanwhile()
        return _collect(pg)
    except KeyboardInterrupt:
        conn.cancel_safe()
        _collect(pg)  # drain what the cancelled query still sends
        raise


def _flush(pg: pq.abc.PGconn) -> None:
    while pg.flush() != 0:
        select.select([pg.socket], [pg.socket], [], 1.0)
        pg.consume_input()


def _collect(pg: pq.abc.PGconn) -> PgFailure | None:
    completed = 0
    failure: PgFailure | None = None
    while True:
        try:
            while pg.is_busy():
                select.select([pg.socket], [], [], 1.0)
                pg.consume_input()
        except psycopg.OperationalError as exc:
            raise ConnectionLost(str(exc)) from None
        res = pg.get_result()
        if res is None:
            if pg.status == pq.ConnStatus.BAD:
                raise ConnectionLost(_text(pg.error_message) or "connection lost")
            return failure
        status = res.status
        if status in _OK:
            completed += 0 if failure else 1
        elif status == pq.ExecStatus.FATAL_ERROR:
            failure = failure or _failure(res, completed)
        elif status == pq.ExecStatus.COPY_OUT:
            while pg.get_copy_data(0)[0] > 0:
                pass
        elif status == pq.ExecStatus.COPY_IN:
            pg.put_copy_end(b"COPY FROM STDIN has no data in a migration file")


def _failure(res: pq.abc.PGresult, completed: int) -> PgFailure:
    def field(f: pq.DiagnosticField) -> str | None:
        value = res.error_field(f)
        return _text(value) if value is not None else None

    def number(f: pq.DiagnosticField) -> int | None:
        value = field(f)
        return int(value) if value and value.isdigit() else None

    return PgFailure(
        sqlstate=field(_F.SQLSTATE) or "XX000",
        message=field(_F.MESSAGE_PRIMARY) or _text(res.error_message).strip(),
        detail=field(_F.MESSAGE_DETAIL),
        hint=field(_F.MESSAGE_HINT),
        context=field(_F.CONTEXT),
        position=number(_F.STATEMENT_POSITION),
        internal_position=number(_F.INTERNAL_POSITION),
        internal_query=field(_F.INTERNAL_QUERY),
        completed=completed,
    )


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")
