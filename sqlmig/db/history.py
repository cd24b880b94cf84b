"""The history table (one row per applied version) and its append-only event log.

Table names come from config and only ever reach SQL through ``psycopg.sql.Identifier``.
The history table carries its format number in its comment (``sqlmig history format N``) so
that an older sqlmig refuses a table written by a newer one instead of misreading it.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
from collections.abc import Collection, Iterator, Sequence
from typing import Final, NamedTuple

from psycopg import sql
from psycopg.rows import TupleRow

from sqlmig._version import __version__
from sqlmig.checksum import ALGORITHM
from sqlmig.db.connect import Conn
from sqlmig.errors import ConfigError, StateError
from sqlmig.records import Direction, Event, HistoryRow, MigrationText, Status, StoredText

FORMAT: Final = 1
FORMAT_COMMENT: Final = f"sqlmig history format {FORMAT}"


_COLUMNS: Final = (
    "version, name, checksum_up, checksum_down, checksum_algorithm, up_sql, down_sql, status,"
    " direction, statements_done, statement_hashes, error, applied_at, applied_by, client_host,"
    " execution_ms, sqlmig_version"
)
# What ``rows`` and ``get`` read: not the SQL texts (``texts`` reads those for the rows that need
# them), and the statement hashes only where a resume may compare them (an applied row is never
# resumed; 1,000 arrays of hashes would be most of what ``status`` parses).
_READ_COLUMNS: Final = _COLUMNS.replace("up_sql, down_sql", "down_sql IS NOT NULL").replace(
    "statement_hashes", "CASE WHEN status = 'applied' THEN NULL ELSE statement_hashes END"
)

_CREATE_HISTORY: Final = """
CREATE TABLE IF NOT EXISTS {table} (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    checksum_up text NOT NULL,
    checksum_down text,
    checksum_algorithm text NOT NULL,
    up_sql text NOT NULL,
    down_sql text,
    status text NOT NULL CHECK (status IN ('applied', 'partial', 'failed')),
    direction text NOT NULL DEFAULT 'up' CHECK (direction IN ('up', 'down')),
    statements_done integer NOT NULL DEFAULT 0,
    statement_hashes text[] NOT NULL DEFAULT '{{}}',
    error text,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user,
    client_host text,
    execution_ms bigint,
    sqlmig_version text NOT NULL
)"""

_CREATE_LOG: Final = """
CREATE TABLE IF NOT EXISTS {table} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version bigint,
    name text,
    event text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    by_user text NOT NULL DEFAULT current_user,
    client_host text,
    client_pid integer,
    execution_ms bigint,
    error text,
    sqlmig_version text NOT NULL
)"""


# The time the server has spent on the query string so far (statement_timestamp() is when it
# arrived): execution_ms of a migration recorded in the same query string as its statements.
ELAPSED_MS: Final = (
    "(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()"
    " - pg_catalog.statement_timestamp()) * 1000)::pg_catalog.int8"
)


# The columns ``insert`` writes, in the order of its values.
_INSERTED: Final = (
    "version, name, checksum_up, checksum_down, checksum_algorithm, up_sql, down_sql, status,"
    " direction, statements_done, statement_hashes, client_host, execution_ms, sqlmig_version"
)
# The columns ``record`` writes, in the order of its values.
_LOGGED: Final = (
    "version, name, event, client_host, client_pid, execution_ms, error, sqlmig_version"
)
COPY_ABOVE_CHARS: Final = 1 << 20  # SQL texts longer than this go to history through COPY
COPY_SLICE_CHARS: Final = 1 << 20
_COPY_ESCAPES: Final = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


@functools.cache
def client_host() -> str:
    """This machine's name, recorded with every history and log row (asked once per process)."""
    return socket.gethostname()


def quote(value: str | None) -> str:
    """``value`` as a SQL literal that means the same whatever the session's settings.

    Dollar quoting: a migration may have changed ``standard_conforming_strings`` before the
    bookkeeping statements that follow it in the same query string.
    """
    if value is None:
        return "NULL"
    tag = "sqlmig"
    while f"${tag}" in value:  # then no "$tag$" can close the quote early
        tag = f"sqlmig{secrets.token_hex(4)}"
    return f"${tag}${value}${tag}$"


class Prepared(NamedTuple):
    """The names under which one connection has the writes of ``History.prepare_sql``."""

    applied: str  # insert an applied row (the up SQL read from the query string)
    reverted: str  # delete a version's row
    event: str  # append to the log


class History:
    """Reads and writes one target's history and log tables on a given connection."""

    def __init__(self, schema: str, name: str) -> None:
        if len((name + "_log").encode()) > 63:
            raise ConfigError(
                f"history_table: '{name}' is too long (its log table '{name}_log' "
                "would exceed PostgreSQL's 63-byte name limit)",
                "choose a table name of at most 59 characters",
            )
        self.schema = schema
        self.name = name
        self.table = sql.Identifier(schema, name)
        self.log_table = sql.Identifier(schema, name + "_log")
        self.display = f"{schema}.{name}"
        # quoted names for the SQL text written once per migration (no quoting per use)
        self.table_sql = self.table.as_string(None)
        self.log_table_sql = self.log_table.as_string(None)

    # -- schema -------------------------------------------------------------------------

    def _comment(self, conn: Conn) -> str | None:
        """The history table's comment ('' without one), or None when there is no table: one
        query tells both whether it exists and which format it holds."""
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL, obj_description(to_regclass(%s), 'pg_class')",
            [self._regclass(), self._regclass()],
        ).fetchone()
        if row is None or not row[0]:
            return None
        return str(row[1] or "")

    def ensure(self, conn: Conn) -> None:
        """Create both tables if missing (call under the deploy lock), then check the format."""
        comment = self._comment(conn)
        if comment is None:
            with conn.transaction():
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
                conn.execute(sql.SQL(_CREATE_HISTORY).format(table=self.table))
                conn.execute(sql.SQL(_CREATE_LOG).format(table=self.log_table))
                conn.execute(
                    sql.SQL("COMMENT ON TABLE {} IS {}").format(
                        self.table, sql.Literal(FORMAT_COMMENT)
                    )
                )
            comment = FORMAT_COMMENT
        self._check_format(comment)

    def _check_format(self, comment: str) -> None:
        prefix = "sqlmig history format "
        if not comment.startswith(prefix) or not comment[len(prefix) :].isdigit():
            raise StateError(
                f"table {self.display} exists but is not a sqlmig history table",
                "set history_table in config.yaml to a table sqlmig may own",
            )
        found = int(comment[len(prefix) :])
        if found > FORMAT:
            raise StateError(
                f"history table {self.display} was written by a newer sqlmig (format {found}; "
                f"this sqlmig {__version__} understands format {FORMAT})",
                "upgrade sqlmig to the version your deploys use",
            )

    def _regclass(self) -> str:
        return self.table_sql

    # -- reads --------------------------------------------------------------------------

    def rows(self, conn: Conn) -> dict[int, HistoryRow]:
        """All history rows by version; empty when the table does not exist yet."""
        comment = self._comment(conn)
        if comment is None:
            return {}
        self._check_format(comment)
        query = sql.SQL("SELECT " + _READ_COLUMNS + " FROM {} ORDER BY version").format(self.table)
        return {int(r[0]): _row(r) for r in conn.execute(query).fetchall()}

    def get(self, conn: Conn, version: int) -> HistoryRow | None:
        # plain text around the name quoted once: ``sqlmig test`` reads a row per migration
        query = f"SELECT {_READ_COLUMNS} FROM {self.table_sql} WHERE version = %s"
        row = conn.execute(query, [version]).fetchone()
        return _row(row) if row else None

    def texts(self, conn: Conn, versions: Collection[int]) -> dict[int, StoredText]:
        """The stored up and down SQL of ``versions`` (those with a row)."""
        if not versions:
            return {}
        query = sql.SQL("SELECT version, up_sql, down_sql FROM {} WHERE version = ANY(%s)")
        rows = conn.execute(query.format(self.table), [sorted(versions)]).fetchall()
        return {int(v): StoredText(up, down) for v, up, down in rows}

    def statements_done(self, conn: Conn, version: int) -> int:
        """How many statements of ``version`` the committed history says ran (0 without a row);
        reads one number, not the row's SQL text."""
        query = sql.SQL("SELECT statements_done FROM {} WHERE version = %s").format(self.table)
        row = conn.execute(query, [version]).fetchone()
        return int(row[0]) if row else 0

    # -- writes -------------------------------------------------------------------------

    def insert(
        self,
        conn: Conn,
        text: MigrationText,
        *,
        status: Status,
        statements_done: int,
        statement_hashes: Sequence[str],
        execution_ms: int | None,
    ) -> None:
        values: list[object] = [
            text.version, text.name, text.checksum_up, text.checksum_down, ALGORITHM,
            text.up_sql, text.down_sql, status, "up", statements_done, list(statement_hashes),
            client_host(), execution_ms, __version__,
        ]  # fmt: skip
        if len(text.up_sql) + len(text.down_sql or "") > COPY_ABOVE_CHARS:
            self._copy_row(conn, values)
            return
        query = sql.SQL(
            "INSERT INTO {} (" + _INSERTED + ") VALUES (" + ", ".join(["%s"] * len(values)) + ")"
        ).format(self.table)
        conn.execute(query, values)

    def _copy_row(self, conn: Conn, values: Sequence[object]) -> None:
        """Insert one row through COPY, streaming its large SQL texts in escaped slices: a
        query parameter would be copied whole into its UTF-8 bytes and into libpq's buffer."""
        query = sql.SQL("COPY {} (" + _INSERTED + ") FROM STDIN").format(self.table)
        with conn.cursor() as cur, cur.copy(query) as copy:
            for i, value in enumerate(values):
                if i:
                    copy.write("\t")
                for chunk in _copy_field(value):
                    copy.write(chunk)
            copy.write("\n")

    def progress(
        self,
        conn: Conn,
        version: int,
        *,
        status: Status,
        direction: Direction,
        statements_done: int,
        statement_hashes: Sequence[str],
        error: str | None = None,
        execution_ms: int | None = None,
    ) -> None:
        query = sql.SQL(
            "UPDATE {} SET status = %s, direction = %s, statements_done = %s,"
            " statement_hashes = %s, error = %s, execution_ms = coalesce(%s, execution_ms)"
            " WHERE version = %s"
        ).format(self.table)
        conn.execute(
            query,
            [
                status,
                direction,
                statements_done,
                list(statement_hashes),
                error,
                execution_ms,
                version,
            ],
        )

    def accept(self, conn: Conn, text: MigrationText) -> None:
        """Record the current files of an applied migration as its truth (``repair``)."""
        query = sql.SQL(
            "UPDATE {} SET checksum_up = %s, checksum_down = %s, checksum_algorithm = %s,"
            " up_sql = %s, down_sql = %s WHERE version = %s"
        ).format(self.table)
        conn.execute(
            query,
            [
                text.checksum_up,
                text.checksum_down,
                ALGORITHM,
                text.up_sql,
                text.down_sql,
                text.version,
            ],
        )

    def delete(self, conn: Conn, version: int) -> None:
        conn.execute(sql.SQL("DELETE FROM {} WHERE version = %s").format(self.table), [version])

    # -- the same writes as SQL text, to end a migration's own query string ------------------

    def prepare_sql(self, tag: int) -> tuple[Prepared, str]:
        """PREPARE the writes that end a migration's query string, named with ``tag``.

        Executed by name, they skip the server's parse, analysis and planning of three
        statements per migration (about a third of the bookkeeping's server time).
        """
        names = Prepared(f"sqlmig_applied_{tag}", f"sqlmig_reverted_{tag}", f"sqlmig_event_{tag}")
        text, int4, int8 = "pg_catalog.text", "pg_catalog.int4", "pg_catalog.int8"
        applied_types = [int8, text, text, text, text, int4, int4, text, int4, f"{text}[]"]
        applied_types += [text, text]
        return names, ";".join(
            (
                f"PREPARE {names.applied} ({', '.join(applied_types)}) AS INSERT INTO"
                f" {self.table_sql} ({_INSERTED}) VALUES ($1, $2, $3, $4, $5,"
                " pg_catalog.substr(pg_catalog.current_query(), $6, $7), $8, 'applied', 'up',"
                f" $9, $10, $11, {ELAPSED_MS}, $12)",
                f"PREPARE {names.reverted} ({int8}) AS DELETE FROM {self.table_sql}"
                " WHERE version = $1",
                f"PREPARE {names.event} ({int8}, {text}, {text}, {text}, {int4}, {text}) AS"
                f" INSERT INTO {self.log_table_sql} ({_LOGGED}) VALUES ($1, $2, $3, $4, $5,"
                f" {ELAPSED_MS}, NULL, $6)",
            )
        )

    def insert_sql(
        self,
        text: MigrationText,
        *,
        up_sql_at: tuple[int, int],
        statements_done: int,
        statement_hashes: Sequence[str],
        prepared: Prepared | None = None,
    ) -> str:
        """``insert`` of an applied row as one statement. The up SQL is not sent twice: it is
        read back from the query string itself, ``up_sql_at`` = (1-based start, length)."""
        start, length = int(up_sql_at[0]), int(up_sql_at[1])
        hashes = f"{quote('{' + ','.join(statement_hashes) + '}')}"
        if prepared is not None:
            args = (
                str(int(text.version)), quote(text.name), quote(text.checksum_up),
                quote(text.checksum_down), quote(ALGORITHM), str(start), str(length),
                quote(text.down_sql), str(int(statements_done)), hashes, quote(client_host()),
                quote(__version__),
            )  # fmt: skip
            return f"EXECUTE {prepared.applied} ({', '.join(args)})"
        values = (
            str(int(text.version)), quote(text.name), quote(text.checksum_up),
            quote(text.checksum_down), quote(ALGORITHM),
            f"pg_catalog.substr(pg_catalog.current_query(), {start}, {length})",
            quote(text.down_sql), "'applied'", "'up'", str(int(statements_done)),
            f"{hashes}::pg_catalog.text[]", quote(client_host()), ELAPSED_MS, quote(__version__),
        )  # fmt: skip
        return f"INSERT INTO {self.table_sql} ({_INSERTED}) VALUES ({', '.join(values)})"

    def delete_sql(self, version: int, prepared: Prepared | None = None) -> str:
        if prepared is not None:
            return f"EXECUTE {prepared.reverted} ({int(version)})"
        return f"DELETE FROM {self.table_sql} WHERE version = {int(version)}"

    def record_sql(
        self, event: Event, *, version: int, name: str, prepared: Prepared | None = None
    ) -> str:
        """``record`` as one statement, its execution_ms measured by the server."""
        pid = str(os.getpid())
        head = (str(int(version)), quote(name), quote(event), quote(client_host()), pid)
        if prepared is not None:
            return f"EXECUTE {prepared.event} ({', '.join(head)}, {quote(__version__)})"
        values = (*head, ELAPSED_MS, "NULL", quote(__version__))
        return f"INSERT INTO {self.log_table_sql} ({_LOGGED}) VALUES ({', '.join(values)})"

    def record(
        self,
        conn: Conn,
        event: Event,
        *,
        version: int | None,
        name: str | None,
        execution_ms: int | None = None,
        error: str | None = None,
    ) -> None:
        """Append one event to the log (never updated or deleted by sqlmig)."""
        insert = "INSERT INTO {} (" + _LOGGED + ") VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        query = sql.SQL(insert).format(self.log_table)
        values = [version, name, event, client_host(), os.getpid(), execution_ms, error]
        conn.execute(query, [*values, __version__])


def _copy_field(value: object) -> Iterator[str]:
    """One field of COPY's text format, in slices of at most COPY_SLICE_CHARS characters."""
    if value is None:
        yield "\\N"
        return
    if isinstance(value, list):
        value = "{" + ",".join(value) + "}"  # statement hashes: hex digits only
    text = str(value)
    for start in range(0, len(text), COPY_SLICE_CHARS):
        part = text[start : start + COPY_SLICE_CHARS]
        for char, escaped in _COPY_ESCAPES:  # str.replace: C speed on a 50 MB seed file
            if char in part:
                part = part.replace(char, escaped)
        yield part


def _row(r: TupleRow) -> HistoryRow:
    values = list(r)
    values[10] = tuple(values[10] or ())  # text[] arrives as a list
    return HistoryRow(*values)
