"""Up, down and up again for every migration on a scratch database, comparing catalog snapshots.

Decisions:
- One scratch database (or two, see below), migrations in order: the state after migration
  N's second up is where N+1 starts, so N migrations cost 3N runs and 3N snapshots and nothing
  is replayed from zero. When a round trip leaves the database different, or its down or
  second up fails, the finding is reported and the database is rebuilt (a fresh one with
  migrations 1..N applied plainly), so the next migration starts from the state production
  would have.
- Migrations run through the real Executor with a History on the scratch database, so
  segmented and CONCURRENTLY files behave exactly as in production.
- A migration whose first up fails ends the run (exit 3): everything after it builds on it.
  A down or a second up that fails is a round-trip finding (exit 1), and the run goes on.
- An up marked ``-- sqlmig:no-transaction`` is also run with every statement a resume could
  repeat run twice in a row (see ``Twice``), from the state after its down: it must succeed and
  leave the same schema and the same row counts as the plain up.
- Two cores, two scratch databases: with enough migrations to test (``HELPER_MIN``) on a
  machine with a second core, a helper thread takes the later share on a database of its own,
  where it first applies the migrations before its share plainly: the state a rebuild starts
  from, the one production has. The report is the one a single database gives; when the helper
  cannot start, the first database goes on with its share. Each database is dropped however
  the run ends: an interrupt cancels what the helper's connections run.
- Speed (SPEC 14: at most 4x a plain ``up``): every file is split once, before any database
  work, and run as split. The client's work overlaps the server's on a second core: while the
  server runs a migration, the executor builds the query text of the next run (the re-up while
  the down runs, the next migration's up while the re-up runs); while it reads the snapshot
  after an up, the runner reads the history row and builds the down's text. Snapshots read
  only what the DDL log says changed (see ``sqlmig.db.snapshot``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from sqlmig.db.connect import connect, scrub
from sqlmig.db.executor import Executor, Reporter, Settings
from sqlmig.db.history import History
from sqlmig.db.snapshot import Difference, Reader, Snapshot, compare, logs
from sqlmig.dsn import mask_dsn
from sqlmig.errors import DatabaseError, SqlmigError
from sqlmig.files import Migration
from sqlmig.records import HistoryRow, MigrationText
from sqlmig.roundtrip import Report, RoundTripResult, Scripts
from sqlmig.script import Script
from sqlmig.sql.kinds import is_transaction_control
from sqlmig.sql.split import Statement, split_statements

if TYPE_CHECKING:
    from sqlmig.commands import Context

Prepare: TypeAlias = Callable[[], object]  # client work for while the server runs a migration
SCRATCH_PREFIX: Final = "sqlmig_test_"
_SCRATCH_RE: Final = re.compile(rf"{SCRATCH_PREFIX}(\d+)_\d+")
_DISCONNECT_WAIT_S: Final = 0.5
_SHOWN_CHARS: Final = 80  # a longer value (a function body) is shown around its first difference
_PLURAL_ATTRS: Final = frozenset(
    {"labels", "attributes", "grants", "roles", "settings", "options", "tags", "parent tables"}
)


def run(
    ctx: Context,
    migrations: Sequence[Migration],
    scripts: Sequence[Scripts],
    first: int,
    admin_dsn: str | None,
) -> RoundTripResult:
    """Apply ``migrations[:first]``, then round-trip each of ``migrations[first:]``, whose
    files ``scripts`` holds split."""
    began = time.monotonic()
    admin = admin_dsn if admin_dsn is not None else _embedded(ctx)
    result = RoundTripResult(ctx.target.name, mask_dsn(admin))
    with _sigterm_interrupts(), Scratch(admin, reap=admin_dsn is None) as scratch:
        try:
            split = _split(ctx, len(migrations), first)
            runner = Runner(ctx, migrations, scripts, scratch)
            try:
                helper = Helper(ctx, migrations, scripts, admin, split) if split else None
                try:
                    n = len(migrations) - first
                    second = (
                        f"; from {migrations[split].label} on, on a second one" if split else ""
                    )
                    ctx.reporter.note(
                        f"testing {n} migration{'s' if n != 1 else ''} on scratch database"
                        f" {scratch.current} at {result.server}{second}"
                    )
                    result.error = _run_all(runner, first, split, helper, result.reports)
                finally:
                    if helper is not None:
                        helper.stop()
                if helper is not None:
                    helper.failure()
            finally:
                runner.close()
        except psycopg.Error as exc:
            raise DatabaseError(
                f"scratch database on {result.server}: {scrub(_first_line(exc), admin)}",
                "run 'sqlmig test' again; if it keeps failing, report it with --debug output",
            ) from None
    result.seconds = time.monotonic() - began
    return result


def _embedded(ctx: Context) -> str:
    from sqlmig.embedded import embedded_dsn

    return embedded_dsn(ctx.config.root, "postgres", notify=ctx.reporter.note)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Make SIGTERM (a CI timeout, say) interrupt like Ctrl-C, so the scratch database is
    dropped on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- the scratch database -----------------------------------------------------------------


class Scratch:
    """Throwaway databases on one server, created from ``template0``, dropped however we exit.

    ``template0`` rather than ``template1``: a site's additions to ``template1`` must not make
    a migration pass here that fails on a fresh database elsewhere. ``CREATE DATABASE`` uses
    the server's default strategy: ``FILE_COPY`` forces two checkpoints, which on a shared
    ``--admin-dsn`` server cost more than they save on a database as small as template0.
    """

    _numbers = itertools.count(1)  # one sequence of names for every instance of this process

    def __init__(self, admin_dsn: str, *, reap: bool) -> None:
        self.admin_dsn = admin_dsn
        self.where = mask_dsn(admin_dsn)
        self.conn = connect(admin_dsn)
        self.current: str | None = None
        if reap:
            self._reap()

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, failing: type[BaseException] | None, *exc: object) -> None:
        name = self.current
        try:
            self.drop()
        except psycopg.Error as err:
            if failing is None:  # else the error already on its way out says more
                raise DatabaseError(
                    f"could not drop scratch database {name} on {self.where}: {_first_line(err)}",
                    f"drop it by hand: DROP DATABASE {name}",
                ) from None
        finally:
            self.conn.close()

    def create(self) -> str:
        """A new empty database; its DSN (same server and credentials as the admin DSN)."""
        name = f"{SCRATCH_PREFIX}{os.getpid()}_{next(self._numbers)}"
        query = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
        try:
            self.conn.execute(query)
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot create a scratch database on {self.where}: {_first_line(exc)}",
                "the --admin-dsn role needs CREATEDB (or superuser) on that server",
            ) from None
        self.current = name
        return make_conninfo(self.admin_dsn, dbname=name)

    def drop(self) -> None:
        if self.current is None:
            return
        self._wait_for_disconnects()
        force = " WITH (FORCE)" if self.conn.info.server_version >= 130000 else ""
        query = sql.SQL("DROP DATABASE IF EXISTS {}" + force).format(sql.Identifier(self.current))
        self.conn.execute(query)
        self.current = None

    def _wait_for_disconnects(self) -> None:
        """Give the backends of connections just closed a moment to exit: DROP DATABASE finding
        one still there sleeps a tenth of a second before it looks again (FORCE or not)."""
        deadline = time.monotonic() + _DISCONNECT_WAIT_S
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
        while time.monotonic() < deadline:
            row = self.conn.execute(query, [self.current]).fetchone()
            if not row or not row[0]:
                return
            time.sleep(0.002)

    def _reap(self) -> None:
        """Drop scratch databases left by runs that were killed (SIGKILL skips every cleanup).

        Only on the project's embedded server, where a name's process id is one of this host.
        """
        rows = self.conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [SCRATCH_PREFIX + "%"]
        ).fetchall()
        for (name,) in rows:
            match = _SCRATCH_RE.fullmatch(str(name))
            if match and not _alive(int(match.group(1))):
                self.current = str(name)
                self.drop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# -- running ------------------------------------------------------------------------------


class UpFailed(Exception):
    """A migration's first up failed: its report, and the error that ends the run."""

    def __init__(self, report: Report, error: SqlmigError) -> None:
        super().__init__(error.message)
        self.report = report
        self.error = error


class Runner:
    """Runs migrations on the current scratch database and takes its snapshots."""

    def __init__(
        self,
        ctx: Context,
        migrations: Sequence[Migration],
        scripts: Sequence[Scripts],
        scratch: Scratch,
        reporter: Reporter | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        cfg = ctx.config
        self.ctx = ctx
        self.reporter = reporter or ctx.reporter
        self.stopping = stop  # set: raise Stopped before the next run
        self.migrations = migrations
        self.scripts = scripts
        self.texts = [MigrationText.of(m) for m in migrations]
        self.scratch = scratch
        self.history = History(cfg.history_schema, cfg.history_name)
        self._row: dict[int, HistoryRow] = {}  # a history row read ahead, by version
        self.settings = Settings(cfg.lock_timeout_ms, cfg.statement_timeout_ms, cfg.lock_retries)
        self._open()

    def _open(self) -> None:
        dsn = self.scratch.create()
        self.conn = connect(dsn)
        self.history.ensure(self.conn)
        self.executor = Executor(self.conn, self.history, self.settings, self.reporter)
        self._row.clear()
        skip = [
            self.history.table.as_string(self.conn),
            self.history.log_table.as_string(self.conn),
        ]
        self.reader = Reader(connect(dsn), skip)

    def close(self) -> None:
        self.conn.close()
        self.reader.conn.close()

    def rebuild(self, upto: int) -> Snapshot:
        """A fresh database with ``migrations[:upto + 1]`` applied plainly; its snapshot."""
        self.close()
        self.scratch.drop()
        self._open()
        for i in range(upto + 1):
            self.up(i, then=self._prepare_up(i + 1) if i < upto else None)
        return self._watch()

    def up(self, i: int, script: Script | None = None, then: Prepare | None = None) -> None:
        """Apply migration ``i`` (its up file, or ``script``); ``then``: what the client
        prepares while the server runs it."""
        self._check()
        self.executor.meanwhile = then
        self.executor.up(self.texts[i], script or self.scripts[i][0], None, 0)

    def down(self, i: int, script: Script, then: Prepare | None = None) -> None:
        self._check()
        m = self.migrations[i]
        row = self._row.pop(m.version, None) or self.history.get(self.conn, m.version)
        assert row is not None, f"{m.label} has no history row to revert"
        self.executor.meanwhile = then
        self.executor.down(self.texts[i], script, row, 0)

    def _prepare_down(self, i: int, script: Script) -> Prepare:
        """Reading migration ``i``'s history row and building its down's query text, to do
        while the server reads the snapshot after its up."""

        def prepare() -> None:
            version = self.migrations[i].version
            self._row.clear()
            row = self.history.get(self.conn, version)
            if row is not None:
                self._row[version] = row
                self.executor.prepare(self.texts[i], script, row)

        return prepare

    def _prepare_up(self, i: int) -> Prepare | None:
        """Building the query text of migration ``i``'s up, to do while the server runs the
        migration before it (None: there is no such migration)."""
        if i >= len(self.migrations):
            return None
        text, script = self.texts[i], self.scripts[i][0]
        return lambda: self.executor.prepare(text, script, None)

    def _check(self) -> None:
        if self.stopping is not None and self.stopping.is_set():
            raise Stopped

    def apply(self, upto: int) -> SqlmigError | None:
        """Apply the migrations before ``upto`` plainly, then take the snapshot the next
        starts from; the error of the up that failed."""
        for i in range(upto):
            try:
                self.up(i, then=self._prepare_up(i + 1))
            except SqlmigError as exc:
                return _on_scratch(exc)
        self.before = self._watch()
        return None

    def _watch(self) -> Snapshot:
        """Install the DDL log (after the plain ups: nothing reads what they did) and take the
        snapshot the next migration starts from."""
        self.reader.watch()
        return self.reader.snapshot()

    def round_trips(self, start: int, stop: int, reports: list[Report]) -> SqlmigError | None:
        """Round-trip ``migrations[start:stop]``, from the state after the one before; the
        error that ended it."""
        for i in range(start, stop):
            try:
                report, self.before = self.round_trip(i, self.before)
            except UpFailed as failed:
                reports.append(failed.report)
                return failed.error
            reports.append(report)
        return None

    def round_trip(self, i: int, before: Snapshot) -> tuple[Report, Snapshot]:
        """Up, down, up again; the report and the snapshot the next migration starts from."""
        m = self.migrations[i]
        report = Report(m.version, m.name, m.label)
        up, down = self.scripts[i]
        logged = _logged(up)
        try:
            self.up(i, up, then=None if down else self._prepare_up(i + 1))
        except SqlmigError as exc:
            report.differences.append(f"up of {m.label} failed: {exc.message}")
            raise UpFailed(report, _on_scratch(exc)) from None
        after = self.reader.snapshot(
            logged=logged, meanwhile=self._prepare_down(i, down) if down else None
        )
        if down is None:
            report.skipped = (
                f"irreversible: {m.down.directives.irreversible}" if m.down else "no down file"
            )
            return report, after
        report.differences, settled = self._down_and_up(i, logged, down, before, after)
        if settled is not None:
            return report, settled
        try:
            return report, self.rebuild(i)
        except SqlmigError as exc:  # an up that worked before fails on a fresh database
            report.differences.append(f"rebuilding the database up to {m.label} failed")
            raise UpFailed(report, _on_scratch(exc)) from None

    def _down_and_up(
        self, i: int, logged: bool, down: Script, before: Snapshot, after: Snapshot
    ) -> tuple[list[str], Snapshot | None]:
        """The differences, and the snapshot when the database is back in the state after the
        first up (None: it must be rebuilt before the next migration). ``logged``: whether
        the DDL log sees everything the up does."""
        m, up = self.migrations[i], self.scripts[i][0]
        label = m.label
        failed = _attempt(
            lambda: self.down(i, down, then=self._prepare_up(i)), f"down of {label} failed"
        )
        if failed:
            return [failed], None
        now = self.reader.snapshot(logged=_logged(down))
        out = describe(compare(before, now), f"after down of {label}", after)
        failed = _attempt(
            lambda: self.up(i, then=self._prepare_up(i + 1)),
            f"after down of {label}, up cannot be applied again",
        )
        if failed:
            return [*out, failed], None
        now = self.reader.snapshot(logged=logged)
        again = describe(compare(after, now), f"after re-up of {label}", None)
        if again:
            return out + again, None
        if out or not up.directives.no_transaction:
            return out, now
        twice = self._twice(i, down, after)
        return twice, None if twice else self.reader.snapshot()

    def _twice(self, i: int, down: Script, after: Snapshot) -> list[str]:
        """Down again, then the up with every repeatable statement run twice in a row."""
        m, up = self.migrations[i], self.scripts[i][0]
        counts = self.reader.row_counts()
        failed = _attempt(lambda: self.down(i, down), f"second down of {m.label} failed")
        if failed:
            return [failed]
        twice = Twice(str(m.up.path), m.up.text, m.up.directives, "up")
        try:
            self.up(i, twice)
        except SqlmigError as exc:
            return [self._twice_failure(m, twice, exc)]
        n = len(up.statements)
        self.history.progress(
            self.conn, m.version, status="applied", direction="up",
            statements_done=n, statement_hashes=up.hashes(n),
        )  # fmt: skip
        what = f"after an up of {m.label} that ran each statement twice, as a resume may"
        out = describe(compare(after, self.reader.snapshot()), what, None)
        again = self.reader.row_counts()
        for table, rows in counts.items():
            if again.get(table, rows) != rows:
                out.append(f"{what}: {table} has {again[table]} rows, expected {rows}")
        return out

    def _twice_failure(self, m: Migration, twice: Twice, exc: SqlmigError) -> str:
        row = self.history.get(self.conn, m.version)
        done = row.statements_done if row is not None else -1
        if 0 <= done < len(twice.plan) and twice.plan[done][1]:
            return (
                f"up of {m.label} is not safe to resume: run again right after it completed,"
                f" as a resume after a crash may, a statement failed: {exc.message}"
            )
        return f"after down of {m.label}, up cannot be applied again: {exc.message}"


# -- a second scratch database ------------------------------------------------------------

HELPER_MIN: Final = 40  # migrations to test below which one scratch database does them all
# A round trip costs about four and a half plain ups (three runs, three snapshots, measured
# with both databases busy): the second database starts where its plain ups of the first
# share and its round trips take as long as the first's round trips.
_ROUND_TRIP_UPS: Final = 4.5


def _split(ctx: Context, n: int, first: int) -> int | None:
    """Where a second scratch database takes over the migrations to test (None: it does not).

    Only on a machine with a second core, for enough migrations to pay for a second database,
    and without ``--verbose`` (whose statements would interleave).
    """
    if (
        n - first < HELPER_MIN
        or (os.cpu_count() or 1) < 2
        or getattr(ctx.reporter, "verbose", False)
    ):
        return None
    split = int((n + first) * _ROUND_TRIP_UPS / (2 * _ROUND_TRIP_UPS - 1))
    return min(max(split, first + 1), n - 1)


def _run_all(
    runner: Runner, first: int, split: int | None, helper: Helper | None, reports: list[Report]
) -> SqlmigError | None:
    """Round-trip ``migrations[first:]``: with a helper, this runner takes those before
    ``split`` and the helper the rest; the error that ended the run."""
    n = len(runner.migrations)
    error = runner.apply(first) or runner.round_trips(first, split or n, reports)
    if error is not None or helper is None or split is None:
        return error
    if helper.finish():
        reports.extend(helper.reports)
        return helper.error
    return runner.round_trips(split, n, reports)  # the helper gave up: this runner goes on


class Stopped(Exception):
    """The run is over (an error or an interrupt elsewhere): a helper stops."""


class Helper:
    """A second scratch database, in a thread of its own, so that both cores work: it applies
    ``migrations[:split]`` plainly (the state a rebuild would start from) and round-trips the
    rest, while the first database round-trips those before ``split``.

    It is speculative: when it cannot start (an up that fails applied plainly, a database
    error), ``finish`` says so and the first database goes on with its share. Its reporter
    only passes notes on: one progress display watches the first database's statements.
    """

    def __init__(
        self,
        ctx: Context,
        migrations: Sequence[Migration],
        scripts: Sequence[Scripts],
        admin: str,
        split: int,
    ) -> None:
        self.reports: list[Report] = []
        self.error: SqlmigError | None = None
        self._done = False
        self._failure: BaseException | None = None
        self._stopping = threading.Event()
        self._connections: list[psycopg.Connection[Any]] = []  # the runner's, to cancel
        share = functools.partial(self._round_trip_share, ctx, migrations, scripts, admin, split)
        # waited for with an event, not Thread.join: a Ctrl-C that interrupts join() can
        # leave a thread that still runs marked as stopped (CPython 3.11)
        self._finished = threading.Event()
        threading.Thread(target=self._work, args=(share,), daemon=True).start()

    def _work(self, share: Callable[[], None]) -> None:
        try:
            share()
        except BaseException as exc:  # dropping the database failed, or a bug: see failure()
            self._failure = exc
        finally:
            self._finished.set()

    def _round_trip_share(
        self,
        ctx: Context,
        migrations: Sequence[Migration],
        scripts: Sequence[Scripts],
        admin: str,
        split: int,
    ) -> None:
        try:
            scratch = Scratch(admin, reap=False)
        except (SqlmigError, psycopg.Error):
            return  # no second database: the first goes on with the helper's share
        with scratch:
            try:
                runner = Runner(
                    ctx, migrations, scripts, scratch, _Notes(ctx.reporter), self._stopping
                )
            except (Stopped, SqlmigError, psycopg.Error):
                return
            self._connections += [runner.conn, runner.reader.conn]
            try:
                if runner.apply(split) is None:
                    self.error = runner.round_trips(split, len(migrations), self.reports)
                    self._done = True
            except (Stopped, SqlmigError, psycopg.Error):
                pass  # the first database goes on with the helper's share
            finally:
                runner.close()

    def finish(self) -> bool:
        """Wait for the helper; whether it round-tripped its share."""
        while not self._finished.wait(0.1):  # a short wait at a time: Ctrl-C stays prompt
            pass
        self.failure()
        return self._done

    def failure(self) -> None:
        """Raise what went wrong in the helper that is not a migration's: its database could
        not be dropped, or a bug."""
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        """Stop the helper if it still runs (the run is over): cancel what its runner's
        connections run (again until it sees it must stop: a cancel that comes between two
        statements is lost), and wait for it to drop its database."""
        if self._finished.is_set():
            return
        self._stopping.set()
        deadline = time.monotonic() + _STOP_WAIT_S
        while not self._finished.is_set() and time.monotonic() < deadline:
            for conn in list(self._connections):
                with contextlib.suppress(Exception):
                    conn.cancel_safe(timeout=1.0)
            self._finished.wait(0.05)


_STOP_WAIT_S: Final = 10.0


class _Notes:
    """A helper's reporter: its notes go to the person watching, its statements nowhere."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter

    def note(self, message: str) -> None:
        self._reporter.note(message)

    def statement_started(self, script: Script, stmt: Statement | None, backend_pid: int) -> None:
        pass

    def statement_finished(self) -> None:
        pass

    def connected(self, dsn: str) -> None:
        pass


def _on_scratch(exc: SqlmigError) -> SqlmigError:
    """The error with a hint for ``sqlmig test``: nothing outside the scratch database ran."""
    hint = "fix the migration and run 'sqlmig test' again (the scratch database is dropped)"
    return type(exc)(exc.message, hint, exc.detail)


def _logged(script: Script) -> bool:
    """Whether the scratch database's DDL log sees every catalog change ``script`` makes: it
    runs in one transaction (a CONCURRENTLY build commits on its own) and uses no command
    event triggers skip. One search of the whole text: a false alarm (in a comment, say)
    only costs a scan."""
    return script.mode == "transaction" and logs(script.text)


def _attempt(step: Callable[[], None], what: str) -> str | None:
    """Run ``step``; a sentence saying how it failed, or None."""
    try:
        step()
    except SqlmigError as exc:
        return f"{what}: {exc.message}"
    return None


class Twice(Script):
    """A no-transaction up with every statement a resume could repeat run twice in a row.

    The executor records a statement as done in a transaction of its own after the statement
    committed; a crash between the two makes the next ``sqlmig up`` run that statement again.
    Statements inside a transaction the file opens itself (``BEGIN`` ... ``COMMIT``) are
    recorded in that same transaction, so a resume never repeats them: they run once here.
    Running ``s1 s1 s2 s2 ...`` checks every crash point in one pass.
    """

    @cached_property
    def plan(self) -> list[tuple[Statement, bool]]:
        """Each statement to run, and whether it is a repeat."""
        out: list[tuple[Statement, bool]] = []
        in_block = False
        for stmt in split_statements(self.text):
            out.append((stmt, False))
            if is_transaction_control(stmt.sql):
                in_block = _in_block_after(stmt.sql, in_block)
            elif not in_block:
                out.append((stmt, True))
        return out

    @cached_property
    def statements(self) -> list[Statement]:
        return [stmt for stmt, _ in self.plan]


def _in_block_after(control: str, in_block: bool) -> bool:
    words = control.lower().split()
    first, second = words[0], words[1] if len(words) > 1 else ""
    if first in ("begin", "start"):
        return True
    if first in ("savepoint", "release") or (first == "rollback" and second == "to"):
        return in_block
    return "chain" in words and "no" not in words  # COMMIT AND CHAIN opens the next one


# -- sentences ----------------------------------------------------------------------------


def describe(diffs: Sequence[Difference], prefix: str, undone: Snapshot | None) -> list[str]:
    """Plain sentences for ``diffs``, each starting with ``prefix``.

    ``undone`` is the snapshot after up when checking a down: it tells an object the down
    forgot to drop ("still exists") from one the down created ("did not exist before up").
    """
    return [f"{prefix}: {_sentence(d, undone)}" for d in diffs]


def _sentence(d: Difference, undone: Snapshot | None) -> str:
    item = d.item
    thing = f"{item.key} {item.summary}".rstrip()
    if d.change == "changed":
        actual, expected = _pair(d.actual, d.expected)
        verb = "are" if d.attr in _PLURAL_ATTRS else "is"
        return f"{d.attr} of {item.key} {verb} {actual}, expected {expected}"
    if undone is None:
        if d.change == "extra":
            return f"{thing} exists, but did not after the first up"
        return f"{thing} is missing, but existed after the first up"
    after_up = item.key in undone.items
    if d.change == "extra":
        return f"{thing} still exists" if after_up else f"{thing} exists, but did not before up"
    return (
        f"{thing} was dropped, but existed before up" if after_up else f"{thing} was not restored"
    )


def _pair(actual: str | None, expected: str | None) -> tuple[str, str]:
    """Both values on one line; long ones cut to a window around their first difference."""
    a, b = _flat(actual), _flat(expected)
    if a == b and actual != expected:
        return repr(actual), repr(expected)  # only whitespace differs: show it
    if max(len(a), len(b)) > _SHOWN_CHARS:
        same = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
        start = max(0, same - _SHOWN_CHARS // 4)
        a, b = _window(a, start), _window(b, start)
    return _quoted(a), _quoted(b)


def _quoted(value: str) -> str:
    """Quoted when a comma or semicolon in it would blur where it ends in the sentence."""
    if (value.startswith("(") and value.endswith(")")) or not (set(value) & {",", ";"}):
        return value
    return f"'{value}'"


def _flat(value: str | None) -> str:
    if value is None:
        return "none"
    return " ".join(value.split()) or "''"


def _window(text: str, start: int) -> str:
    end = start + _SHOWN_CHARS
    return ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
