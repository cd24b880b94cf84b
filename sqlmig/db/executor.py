"""Run one migration script: in one transaction with its history row, or in recorded segments.

Transactional scripts are sent as ONE query string (``BEGIN; SET LOCAL ...; <file>``) so a
migration costs a few round trips whatever its size; an error position is mapped back to the
file's line and column. Segmented scripts send one statement per query, record progress in the
history row after every segment, and can be resumed after a crash.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, Protocol

import psycopg
from psycopg import sql

from sqlmig import failpoints
from sqlmig.db.connect import Conn, session_defaults
from sqlmig.db.history import History, Prepared
from sqlmig.db.run import ConnectionLost, PgFailure, run
from sqlmig.errors import DatabaseError, SqlError
from sqlmig.records import HistoryRow, MigrationText
from sqlmig.script import Script, Segment, position
from sqlmig.sql.kinds import is_concurrent_index_build
from sqlmig.sql.split import Statement

LOCK_NOT_AVAILABLE = "55P03"
UNDEFINED_PREPARED_STATEMENT = "26000"
RETRY_CAP_S = 10.0
COMBINED_MAX_CHARS = 1 << 20  # larger files: history in its own round trip (memory, not speed)
PIECE_CHARS = 1 << 20  # larger files are sent in pieces of about this size


class Settings(NamedTuple):
    lock_timeout_ms: int
    statement_timeout_ms: int
    lock_retries: int
    retry_base_s: float = 0.5


class _Texts(NamedTuple):
    """What is sent around a transactional script's text, and the prepared writes it uses."""

    prefix: str
    suffix: str
    names: Prepared | None


class Reporter(Protocol):
    def note(self, message: str) -> None:
        """A line for the person watching (stderr)."""

    def statement_started(self, script: Script, stmt: Statement | None, backend_pid: int) -> None:
        """A statement (None: the whole file) starts; a progress display may watch its backend."""

    def statement_finished(self) -> None:
        """The statement announced by statement_started has ended."""

    def connected(self, dsn: str) -> None:
        """The target's DSN is known (a progress display may open its own connection)."""


class Executor:
    def __init__(
        self, conn: Conn, history: History, settings: Settings, reporter: Reporter
    ) -> None:
        self.conn = conn
        self.history = history
        self.settings = settings
        self.reporter = reporter
        # Work for the idle client while the server runs the next query string sent (called
        # once, then cleared): the caller prepares the migration after it (``prepare``).
        self.meanwhile: Callable[[], object] | None = None
        # by id(script): the texts built ahead for that script, with the names they execute
        self._ready: dict[int, tuple[Script, Prepared | None, str, str]] = {}
        # The history writes prepared on this connection (``_prepare_writes``); None until
        # prepared, and again after a script that may have deallocated them. ``_plain``: they
        # could not be prepared or went missing, so plain statements for the rest of the run.
        self._prepared: Prepared | None = None
        self._tag = 0
        self._plain = False

    # -- public ---------------------------------------------------------------------------

    def up(self, target: MigrationText, script: Script, row: HistoryRow | None, start: int) -> int:
        """Apply ``script`` (resuming at statement ``start`` for an unfinished row); ms taken."""
        script.check_runnable()
        failpoints.hit("before-migration")
        began = time.monotonic()
        try:
            if script.mode == "transaction" and row is None:
                texts = self._texts(script, target)
                self._whole(script, target, lambda: self._record_up(target, script, began), texts)
            else:
                self._segmented(script, target, row, start, began)
        finally:
            self._forget_prepared(script)
        return _ms(began)

    def down(self, target: MigrationText, script: Script, row: HistoryRow, start: int) -> int:
        """Revert with ``script``, deleting the history row at the end; ms taken."""
        script.check_runnable()
        failpoints.hit("before-migration")
        began = time.monotonic()
        try:
            if script.mode == "transaction" and not _reverting(row):
                texts = self._texts(script, target)
                self._whole(script, target, lambda: self._record_down(target, began), texts)
            else:
                self._segmented(script, target, row, start, began)
        finally:
            self._forget_prepared(script)
        return _ms(began)

    # -- one transaction -----------------------------------------------------------------

    def prepare(self, target: MigrationText, script: Script, row: HistoryRow | None) -> None:
        """Build the query text ``up`` (or ``down``, by the script's direction) will send for
        ``target``, ahead of time: meant for ``meanwhile``, so that the client prepares the next
        migration while the server runs the current one. Best effort: on any error nothing is
        kept, and the real run builds the text again and reports the error."""
        script.check_runnable()  # splits it, off the critical path
        if script.direction == "down":
            whole = row is not None and not _reverting(row)
        else:
            whole = row is None
        if script.mode == "transaction" and whole:
            names = self._names(script)
            self._ready[id(script)] = (script, names, *self._build(script, target, names))

    def _texts(self, script: Script, target: MigrationText) -> _Texts:
        """The prefix and suffix around ``script``'s text: prepared ahead, or built now."""
        if self._prepared is None and not self._plain:
            self._prepare_writes()
        names = self._names(script)
        ready = self._ready.pop(id(script), None)
        if ready is not None and ready[0] is script and ready[1] == names:
            return _Texts(ready[2], ready[3], names)
        return _Texts(*self._build(script, target, names), names)

    def _names(self, script: Script) -> Prepared | None:
        """The prepared writes ``script``'s query string may execute: none for a script that
        may deallocate them itself (``DEALLOCATE``, ``DISCARD``)."""
        return None if self._plain or script.may_drop_prepared else self._prepared

    def _prepare_writes(self) -> None:
        """PREPARE the history writes on this connection, in one round trip; when that fails
        (a pooler that does not keep sessions, say), plain statements do the same work."""
        self._tag += 1
        names, query = self.history.prepare_sql(self._tag)
        try:
            failure = run(self.conn, query)
        except ConnectionLost as exc:
            raise _lost(self.history.display, exc) from None
        if failure is None:
            self._prepared = names
        else:
            self._plain = True

    def _forget_prepared(self, script: Script) -> None:
        """After a script that may have deallocated the prepared writes, prepare them again
        (under new names) before they are next used."""
        if script.may_drop_prepared:
            self._prepared = None

    def _build(
        self, script: Script, target: MigrationText, names: Prepared | None
    ) -> tuple[str, str]:
        history = self.history
        if script.direction == "up":
            n = len(script.statements)

            def writes(up_sql_at: tuple[int, int]) -> list[str]:
                return [
                    history.insert_sql(
                        target,
                        up_sql_at=up_sql_at,
                        statements_done=n,
                        statement_hashes=script.hashes(n),
                        prepared=names,
                    ),
                    history.record_sql("up", version=target.version, name=target.name,
                                       prepared=names),
                ]  # fmt: skip

        else:

            def writes(up_sql_at: tuple[int, int]) -> list[str]:
                return [
                    history.delete_sql(target.version, names),
                    history.record_sql("down", version=target.version, name=target.name,
                                       prepared=names),
                ]  # fmt: skip

        prefix = "BEGIN;" + self._set_timeouts(script, local=True)
        return prefix, self._suffix(script, prefix, writes)

    def _whole(
        self,
        script: Script,
        target: MigrationText,
        record: Callable[[], None],
        texts: _Texts,
    ) -> None:
        """Run the file and its history writes in one transaction.

        Usually ONE round trip: the history writes (``writes``, given the SQL expression of the
        up text) and the COMMIT end the file's own query string, and the up SQL stored in
        history is read back from that string (``current_query()``), so it is not sent twice.
        Otherwise (see ``_suffix``) ``record`` writes history in further round trips.
        """
        prefix, suffix, names = texts
        for attempt in self._attempts(target):
            failure, index, shift = self._send(script, prefix, suffix)
            if failure is None:
                if not suffix:
                    failpoints.hit("after-statements")
                    self._commit_with(record, point="after-history", end=True)
                failpoints.hit("after-commit")
                return
            self._rollback()
            if suffix and index >= len(script.statements):
                if names is not None and failure.sqlstate == UNDEFINED_PREPARED_STATEMENT:
                    # the prepared writes are gone (something the script ran deallocated them,
                    # or a pooler moved the session): all was rolled back; run it again with
                    # plain statements, and use those for the rest of the run
                    self._plain, self._prepared = True, None
                    plain = _Texts(*self._build(script, target, None), None)
                    self._whole(script, target, record, plain)
                    return
                err = self._writes_error(script, failure)
            else:
                if self._retry_lock(failure, attempt, target):
                    continue
                stmt = _failed_statement(script.statements, index)
                err = self._sql_error(script, failure, shift, stmt)
            self._log_failure(target, err)
            raise err

    def _send(self, script: Script, prefix: str, suffix: str) -> tuple[PgFailure | None, int, int]:
        """Run ``prefix``, the file and ``suffix``; on failure also the index of the failed
        statement and the shift that maps the failure's position to an offset in the file."""
        if len(script.text) <= COMBINED_MAX_CHARS:
            failure = self._run(script, prefix + script.text + suffix)
            return failure, failure.completed - prefix.count(";") if failure else 0, len(prefix)
        head = prefix
        for start, end, first in _pieces(script):
            # A large file goes in pieces of whole statements, in the same transaction: sent
            # whole, the query string, its UTF-8 bytes and libpq's buffer would each copy it.
            failure = self._run(script, head + script.text[start:end])
            if failure is not None:
                return failure, first + failure.completed - head.count(";"), len(head) - start
            head = ""
        return None, 0, 0

    def _suffix(
        self, script: Script, prefix: str, writes: Callable[[tuple[int, int]], list[str]]
    ) -> str:
        """History writes, COMMIT and the session reset as SQL text to append to the file, or
        "" when they take their own round trips: for a crash test armed between them, for a
        large file (sent in pieces by ``_send``), and where ``substr`` would count bytes."""
        text = script.text
        if len(text) > COMBINED_MAX_CHARS or failpoints.armed("after-statements", "after-history"):
            return ""
        if not text.isascii() and self._server_encoding() == "SQL_ASCII":
            return ""
        up_sql_at = (len(prefix) + 1, len(text))
        # a newline ends a last line comment; the ';' ends a last statement written without one
        return f"\n;{';'.join(writes(up_sql_at))};COMMIT;RESET ALL;{session_defaults(self.conn)}"

    def _server_encoding(self) -> str:
        return self.conn.info.parameter_status("server_encoding") or ""

    def _writes_error(self, script: Script, failure: PgFailure) -> SqlError:
        """A failure after the file's last statement: its deferred constraints at COMMIT, or
        writing history."""
        return SqlError(
            f"{script.path}: {failure.sqlstate} {failure.message} (at COMMIT, or while recording"
            f" the migration in {self.history.display}); it was rolled back",
            failure.hint or _hint_for(failure.sqlstate),
            "\n".join(x for x in (failure.detail, _context(failure)) if x) or None,
        )

    def _record_up(self, target: MigrationText, script: Script, began: float) -> None:
        n = len(script.statements)
        self.history.insert(
            self.conn,
            target,
            status="applied",
            statements_done=n,
            statement_hashes=script.hashes(n),
            execution_ms=_ms(began),
        )
        self.history.record(
            self.conn, "up", version=target.version, name=target.name, execution_ms=_ms(began)
        )

    def _record_down(self, target: MigrationText, began: float) -> None:
        self.history.delete(self.conn, target.version)
        self.history.record(
            self.conn, "down", version=target.version, name=target.name, execution_ms=_ms(began)
        )

    # -- segments ------------------------------------------------------------------------

    def _segmented(
        self,
        script: Script,
        target: MigrationText,
        row: HistoryRow | None,
        start: int,
        began: float,
    ) -> None:
        direction = script.direction
        if start > 0:
            self.reporter.note(
                f"{target.label}: resuming {direction} after statement {start}"
                f" of {len(script.statements)}"
            )
            self._autocommit(
                lambda: self.history.record(
                    self.conn, "resume", version=target.version, name=target.name
                )
            )
        self._begin_progress(script, target, row, start)
        self._exec(self._set_timeouts(script, local=False))
        # the first statement run now may have been cut short by the crash that left ``row``
        resume = start if row is not None and _unfinished(row, direction) else None
        try:
            for seg in script.segments:
                if seg.end > start:
                    self._segment(script, target, seg, max(seg.start, start), resume, row)
        finally:
            if not self.conn.broken:
                self._exec("RESET lock_timeout; RESET statement_timeout")
        if direction == "up":
            self._finish_up(target, script, began)
        else:
            self._commit_with(lambda: self._record_down(target, began), begin=True, end=True)

    def _begin_progress(
        self, script: Script, target: MigrationText, row: HistoryRow | None, start: int
    ) -> None:
        if script.direction == "up" and row is None:
            self._autocommit(
                lambda: self.history.insert(
                    self.conn,
                    target,
                    status="partial",
                    statements_done=0,
                    statement_hashes=[],
                    execution_ms=None,
                )
            )
        elif start == 0:
            self._progress(script, target, 0, status="partial")

    def _segment(
        self,
        script: Script,
        target: MigrationText,
        seg: Segment,
        first: int,
        resume: int | None,
        row: HistoryRow | None,
    ) -> None:
        stmts = script.statements[first : seg.end]
        for attempt in self._attempts(target):
            if seg.transactional:
                failure, stmt = self._transaction(script, target, stmts, seg.end)
            else:
                retrying = attempt > 0 or first == resume
                crashed = first == resume and row is not None and row.status == "partial"
                failure, stmt = self._alone(script, target, stmts[0], seg.end, retrying, crashed)
            if failure is None:
                return
            if self._retry_lock(failure, attempt, target):
                continue
            err = self._sql_error(script, failure, 0, stmt)
            self._fail(script, target, err)
            raise err

    def _transaction(
        self, script: Script, target: MigrationText, stmts: Sequence[Statement], done: int
    ) -> tuple[PgFailure | None, Statement]:
        self._exec("BEGIN")
        for stmt in stmts:
            failure = self._run(script, stmt.sql, stmt)
            if failure is not None:
                self._rollback()
                return failure, stmt
            failpoints.hit("after-statement")
        self._progress(script, target, done, status="partial")
        self._exec("COMMIT")
        failpoints.hit("after-segment")
        return None, stmts[-1]

    def _alone(
        self,
        script: Script,
        target: MigrationText,
        stmt: Statement,
        done: int,
        retrying: bool,
        crashed: bool,
    ) -> tuple[PgFailure | None, Statement]:
        index = is_concurrent_index_build(stmt.sql)
        if index and retrying:
            self._heal_invalid_index(target, index)
            if crashed and self._valid_index(index):
                # the crash came after the build finished, before its progress was recorded
                self.reporter.note(f"{target.label}: index {index} was already built; moving on")
                self._progress(script, target, done, status="partial")
                return None, stmt
        before = self._invalid_indexes() if "concurrently" in stmt.sql.lower() else None
        failure = self._run(script, stmt.sql, stmt)
        if failure is not None:
            if self.conn.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self._rollback()  # an error inside the file's own BEGIN block
            return failure, stmt
        if before is not None:
            left = sorted(self._invalid_indexes() - before)
            if left:
                raise self._invalid_left(script, target, stmt, left)
        failpoints.hit("after-statement")
        self._progress(script, target, done, status="partial")
        failpoints.hit("after-segment")
        return None, stmt

    def _finish_up(self, target: MigrationText, script: Script, began: float) -> None:
        n = len(script.statements)

        def finish() -> None:
            self.history.progress(
                self.conn, target.version, status="applied", direction="up",
                statements_done=n, statement_hashes=script.hashes(n), execution_ms=_ms(began),
            )  # fmt: skip
            self.history.accept(self.conn, target)
            self.history.record(
                self.conn, "up", version=target.version, name=target.name, execution_ms=_ms(began)
            )

        self._commit_with(finish, begin=True, end=True)
        failpoints.hit("after-commit")

    def _progress(self, script: Script, target: MigrationText, done: int, *, status: str) -> None:
        self.history.progress(
            self.conn,
            target.version,
            status="partial" if status == "partial" else "failed",
            direction=script.direction,
            statements_done=done,
            statement_hashes=script.hashes(done),
        )

    def _fail(self, script: Script, target: MigrationText, err: SqlError) -> None:
        """Mark the row failed and log it, if the server is still there.

        Statements done are read back from the committed row: a failure inside the file's own
        BEGIN block rolled its progress back with it.
        """
        if self.conn.broken:
            return  # the row stays 'partial'; status explains it

        def mark() -> None:
            done = self.history.statements_done(self.conn, target.version)
            self.history.progress(
                self.conn, target.version, status="failed", direction=script.direction,
                statements_done=done, statement_hashes=script.hashes(done), error=err.message,
            )  # fmt: skip

        try:
            self._autocommit(mark)
        except (psycopg.Error, DatabaseError):
            return
        self._log_failure(target, err)

    # -- INVALID indexes -------------------------------------------------------------------

    def _invalid_indexes(self) -> set[str]:
        rows = self.conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid"
        ).fetchall()
        return {str(r[0]) for r in rows}

    def _valid_index(self, name: str) -> bool:
        schema, _, rel = name.rpartition(".")
        row = self.conn.execute(
            """SELECT bool_and(i.indisvalid) FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relname = %s AND (%s = '' OR n.nspname = %s)""",
            [rel, schema, schema],
        ).fetchone()
        return bool(row and row[0])

    def _heal_invalid_index(self, target: MigrationText, name: str) -> None:
        schema, _, rel = name.rpartition(".")
        rows = self.conn.execute(
            """SELECT n.nspname, c.relname FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE NOT i.indisvalid AND c.relname = %s AND (%s = '' OR n.nspname = %s)""",
            [rel, schema, schema],
        ).fetchall()
        for nsp, relname in rows:
            ident = sql.Identifier(str(nsp), str(relname))
            self.reporter.note(
                f"{target.label}: dropping INVALID index {nsp}.{relname} left by the "
                "interrupted attempt before building it again"
            )
            self.conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(ident))

    def _invalid_left(
        self, script: Script, target: MigrationText, stmt: Statement, names: list[str]
    ) -> SqlError:
        err = SqlError(
            f"{script.where(stmt)}: index {', '.join(names)} was left INVALID",
            "the next 'sqlmig up' drops and rebuilds it; look for duplicate keys or a "
            "deadlock in the server log",
        )
        self._fail(script, target, err)
        return err

    # -- plumbing --------------------------------------------------------------------------

    def _run(self, script: Script, query: str, stmt: Statement | None = None) -> PgFailure | None:
        self.reporter.statement_started(script, stmt, self.conn.info.backend_pid)
        meanwhile, self.meanwhile = self.meanwhile, None
        try:
            return run(self.conn, query, meanwhile)
        except ConnectionLost as exc:
            raise _lost(script.where(stmt) if stmt else script.path, exc) from None
        finally:
            self.reporter.statement_finished()

    def _attempts(self, target: MigrationText) -> range:
        return range(self.settings.lock_retries + 1)

    def _retry_lock(self, failure: PgFailure, attempt: int, target: MigrationText) -> bool:
        if failure.sqlstate != LOCK_NOT_AVAILABLE or attempt >= self.settings.lock_retries:
            return False
        delay = min(RETRY_CAP_S, self.settings.retry_base_s * 2**attempt) * random.uniform(0.8, 1.2)
        self.reporter.note(
            f"{target.label}: could not get a lock within lock_timeout "
            f"(attempt {attempt + 1} of {self.settings.lock_retries + 1}); retrying in {delay:.1f}s"
        )
        time.sleep(delay)
        return True

    def _set_timeouts(self, script: Script, *, local: bool) -> str:
        d = script.directives
        lock = d.lock_timeout_ms if d.lock_timeout_ms is not None else self.settings.lock_timeout_ms
        stmt = (
            d.statement_timeout_ms
            if d.statement_timeout_ms is not None
            else self.settings.statement_timeout_ms
        )
        scope = "SET LOCAL" if local else "SET"
        return (
            f"{scope} lock_timeout = '{int(lock)}ms';{scope} statement_timeout = '{int(stmt)}ms';"
        )

    def _exec(self, query: str) -> None:
        failure = run(self.conn, query)
        if failure is not None:
            raise DatabaseError(f"{failure.sqlstate} {failure.message} (while running {query!r})")

    def _rollback(self) -> None:
        if not self.conn.broken:
            run(self.conn, "ROLLBACK")

    def _autocommit(self, work: Callable[[], None]) -> None:
        """Run history writes in their own transaction."""
        self._commit_with(work, begin=True)

    def _commit_with(
        self,
        work: Callable[[], None],
        *,
        begin: bool = False,
        point: str | None = None,
        end: bool = False,
    ) -> None:
        """Run ``work`` and commit. ``end``: the migration is done, so the same round trip also
        undoes any plain ``SET`` it made (a ``SET search_path`` must not leak into the next)."""
        if begin:
            self._exec("BEGIN")
        try:
            work()
        except BaseException:
            self._rollback()
            raise
        if point is not None:
            failpoints.hit(point)
        self._exec(f"COMMIT; RESET ALL; {session_defaults(self.conn)}" if end else "COMMIT")

    def _log_failure(self, target: MigrationText, err: SqlError) -> None:
        # best effort: the failure itself is what the user must see
        with contextlib.suppress(psycopg.Error, DatabaseError):
            self._autocommit(
                lambda: self.history.record(
                    self.conn,
                    "failure",
                    version=target.version,
                    name=target.name,
                    error=err.message,
                )
            )

    def _sql_error(
        self, script: Script, failure: PgFailure, shift: int, stmt: Statement | None
    ) -> SqlError:
        offset = _error_offset(failure, shift, stmt)
        line, col = (
            position(script.text, offset)
            if offset is not None
            else (stmt.line, stmt.column)
            if stmt
            else (1, 1)
        )
        detail = "\n".join(x for x in (failure.detail, _context(failure)) if x) or None
        return SqlError(
            f"{script.path}:{line}:{col}: {failure.sqlstate} {failure.message}",
            failure.hint or _hint_for(failure.sqlstate),
            detail,
        )


def _lost(where: str, exc: ConnectionLost) -> DatabaseError:
    return DatabaseError(
        f"{where}: lost the connection to the server: {str(exc).strip()}",
        "run 'sqlmig status' to see what was applied; 'sqlmig up' continues from there",
    )


def _pieces(script: Script) -> Iterator[tuple[int, int, int]]:
    """(start, end, index of the first statement) of runs of whole statements of about
    PIECE_CHARS characters that together cover the file; each ends before a statement starts."""
    start = first = 0
    for i, stmt in enumerate(script.statements):
        if stmt.offset - start >= PIECE_CHARS:
            yield start, stmt.offset, first
            start, first = stmt.offset, i
    yield start, len(script.text), first


def _failed_statement(stmts: Sequence[Statement], index: int) -> Statement | None:
    return stmts[index] if 0 <= index < len(stmts) else None


def _error_offset(failure: PgFailure, shift: int, stmt: Statement | None) -> int | None:
    """0-based offset in the file of the error, from PostgreSQL's position fields."""
    base = stmt.offset if stmt is not None and shift == 0 else 0
    if failure.position is not None:
        return base + failure.position - 1 - shift
    if failure.internal_position is not None and failure.internal_query and stmt is not None:
        inner = stmt.sql.find(failure.internal_query)
        if inner >= 0:
            return stmt.offset + inner + failure.internal_position - 1
    return stmt.offset if stmt is not None else None


def _context(failure: PgFailure) -> str | None:
    if not failure.context:
        return None
    return "context: " + failure.context.splitlines()[0]


_HINTS = {
    "25001": "this statement cannot run inside a transaction: put it in its own migration "
    "with '-- sqlmig:no-transaction' at the top",
    "55P03": "another session holds a lock on that object; retry when it is idle, or raise "
    "lock_timeout / lock_retries in config.yaml",
    "57014": "the statement ran past statement_timeout; raise it for this file with "
    "'-- sqlmig:statement-timeout 30min'",
    "42601": "fix the SQL syntax at that position and run 'sqlmig up' again",
}


_DEFAULT_HINT = (
    "fix the statement and run sqlmig again; 'sqlmig status' shows what was kept "
    "(a migration that ran in one transaction was rolled back whole)"
)


def _hint_for(sqlstate: str) -> str:
    return _HINTS.get(sqlstate, _DEFAULT_HINT)


def _reverting(row: HistoryRow) -> bool:
    return row.direction == "down" and row.status != "applied"


def _unfinished(row: HistoryRow, direction: str) -> bool:
    """Whether ``row`` records an interrupted or failed run in ``direction``."""
    return row.status != "applied" and row.direction == direction


def _ms(began: float) -> int:
    return int((time.monotonic() - began) * 1000)
