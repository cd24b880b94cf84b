"""Open connections for sqlmig and turn connection failures into one-line errors.

Every connection sets ``application_name=sqlmig`` and, on PostgreSQL 14+,
``client_connection_check_interval`` so that a killed sqlmig does not leave its statement
running on the server holding locks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from sqlmig.dsn import mask_dsn
from sqlmig.errors import DatabaseError

APPLICATION_NAME: Final = "sqlmig"
CONNECT_TIMEOUT_S: Final = 10

Conn = psycopg.Connection[TupleRow]


def password_of(dsn: str) -> str | None:
    """The password a DSN carries, to scrub it from any text that might echo it."""
    try:
        value = conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        return None
    return str(value) if value else None


def scrub(text: str, dsn: str) -> str:
    """Remove the DSN's password from text that came from libpq or the server."""
    secret = password_of(dsn)
    return text.replace(secret, "***") if secret else text


def connect(dsn: str, *, autocommit: bool = True) -> Conn:
    """Connect, or raise DatabaseError with a masked DSN and a hint matched to the cause."""
    try:
        conn = psycopg.connect(
            dsn,
            autocommit=autocommit,
            application_name=APPLICATION_NAME,
            client_encoding="utf8",
            connect_timeout=CONNECT_TIMEOUT_S,
        )
    except psycopg.Error as exc:
        raise connection_error(exc, dsn) from None
    conn.execute(session_defaults(conn))
    return conn


def session_defaults(conn: Conn) -> str:
    """SQL that puts a sqlmig session back to its starting settings (after ``RESET ALL``)."""
    if conn.info.server_version >= 140000:
        return "SET client_connection_check_interval = '1s'"
    return "SELECT 1"


def connection_error(exc: BaseException, dsn: str) -> DatabaseError:
    """A one-line error for a failed connection attempt: what failed, where, and what to do."""
    detail = scrub(_first_line(str(exc)), dsn)
    where = mask_dsn(dsn)
    lowered = detail.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        hint = "check the user name and password in the DSN"
    elif "does not exist" in lowered and "database" in lowered:
        hint = "create the database first (createdb), or fix the database name in the DSN"
    elif "role" in lowered and "does not exist" in lowered:
        hint = "create the role, or fix the user name in the DSN"
    elif "refused" in lowered or "no such file" in lowered:
        hint = "is PostgreSQL running there? check the host and port in the DSN"
    elif "resolve" in lowered or "name or service" in lowered:
        hint = "check the host name in the DSN"
    elif "timeout" in lowered or "timed out" in lowered:
        hint = "the host did not answer: check the host name, port and firewall"
    elif "invalid" in lowered or "missing" in lowered or "syntax" in lowered:
        hint = "fix the DSN: postgresql://user:password@host:port/dbname"
    else:
        hint = "check that PostgreSQL is running and reachable at that host and port"
    return DatabaseError(f"cannot connect to {where}: {detail}", hint)


def _first_line(text: str) -> str:
    """libpq's cause in one line: 'connection to server at ... failed: Connection refused'
    becomes 'Connection refused'; its follow-up question is dropped (the hint replaces it)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    first = lines[0]
    return first.rsplit(" failed: ", 1)[1] if " failed: " in first else first


_SQLSTATE_HINTS: Final = {
    "25006": "the database is read-only (default_transaction_read_only, or a standby): "
    "point sqlmig at the primary with a role that may write",
    "42501": "the role lacks a privilege: run sqlmig as the role that owns the schema",
    "3D000": "create the database first (createdb), or fix the database name in the DSN",
    "57P01": "the server was shut down or the session terminated; run 'sqlmig status', then retry",
}


@contextmanager
def database_errors(dsn: str) -> Iterator[None]:
    """Turn any psycopg error escaping the block into a one-line DatabaseError (no password)."""
    try:
        yield
    except psycopg.Error as exc:
        sqlstate = getattr(exc, "sqlstate", None) or ""
        text = scrub(_first_line(str(exc)), dsn)
        hint = _SQLSTATE_HINTS.get(sqlstate, "check the database and run 'sqlmig status'")
        where = mask_dsn(dsn)
        raise DatabaseError(f"{where}: {sqlstate + ' ' if sqlstate else ''}{text}", hint) from None
