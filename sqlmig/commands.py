"""One function per verb. Each takes a Context, does its work, and returns a result value.

Nothing here prints or exits: ``cli`` renders results through ``output``. Database modules are
imported inside the functions that need them, so ``new`` never loads psycopg.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from sqlmig import files
from sqlmig.config import Config, Target
from sqlmig.dsn import mask_dsn
from sqlmig.errors import MigrationFileError, SqlmigError, StateError, UsageError
from sqlmig.files import Migration
from sqlmig.plan import (
    Entry,
    changed_files,
    file_diff,
    plan_down,
    plan_up,
    reconcile,
    refuse_drift,
    resume_point,
)
from sqlmig.records import HistoryRow, MigrationText
from sqlmig.script import Mode, Script

if TYPE_CHECKING:
    from sqlmig.ahead import Ahead
    from sqlmig.db.executor import Executor, Reporter
    from sqlmig.db.lock import Holder
    from sqlmig.db.session import Session

DEFAULT_LOCK_WAIT_S = 60.0


class Context:
    """Everything a command needs: configuration, the chosen target and how to talk back.

    This module's result classes are plain classes and NamedTuples: a dataclass costs about a
    millisecond to define, on every start."""

    def __init__(
        self,
        config: Config,
        target: Target,
        reporter: Reporter,
        lock_wait_s: float = DEFAULT_LOCK_WAIT_S,
    ) -> None:
        self.config = config
        self.target = target
        self.reporter = reporter
        self.lock_wait_s = lock_wait_s
        self.resolved_dsn: str | None = None  # may hold a password: no __repr__ shows it

    def dsn(self) -> str:
        """The target's DSN, starting the embedded server on demand when it has none."""
        if self.resolved_dsn is None:
            if self.target.dsn is not None:
                self.resolved_dsn = self.target.dsn
            else:
                from sqlmig.embedded import embedded_dsn

                # no dsn and no DATABASE_URL: the project's private server, one database per target
                self.resolved_dsn = embedded_dsn(
                    self.config.root, self.target.name, notify=self.reporter.note
                )
            self.reporter.connected(self.resolved_dsn)
        return self.resolved_dsn

    def migrations(self) -> list[Migration]:
        return files.load(self.target.migrations)


# -- results ----------------------------------------------------------------------------


class StatementPlan(NamedTuple):
    line: int
    sql: str
    transactional: bool


class RunItem:
    def __init__(
        self, version: int, name: str, direction: Literal["up", "down"], script: Script
    ) -> None:
        self.version = version
        self.name = name
        self.direction = direction
        self.script = script
        self.status = "planned"  # planned | applied | reverted | failed
        self.execution_ms: int | None = None

    @property
    def mode(self) -> Mode:
        return self.script.mode

    @cached_property
    def statements(self) -> list[StatementPlan]:
        """Read when the result is shown: a script that runs is split by then anyway."""
        autocommit = self.script.directives.no_transaction
        return [
            StatementPlan(s.line, s.sql, s.transactional and not autocommit)
            for s in self.script.statements
        ]


class RunResult:
    def __init__(self, target: str, *, dry_run: bool = False) -> None:
        self.target = target
        self.items: list[RunItem] = []
        self.dry_run = dry_run
        self.error: SqlmigError | None = None


class StatusResult(NamedTuple):
    target: str
    where: str
    entries: list[Entry]
    problems: Sequence[files.FileProblem] = ()  # shown after the table


class Problem(NamedTuple):
    version: int
    name: str
    kind: str  # changed | missing-file | failed | partial | out-of-order
    message: str
    diff: str = ""


class ValidateResult(NamedTuple):
    target: str
    problems: list[Problem]


class ChangeResult(NamedTuple):
    """repair and baseline: one line per change made."""

    target: str
    changes: list[str]


# -- helpers ----------------------------------------------------------------------------


@contextmanager
def _session(ctx: Context, *, locked: bool) -> Iterator[Session]:
    from sqlmig.db.session import open_session

    def waiting(holder: Holder | None) -> None:
        who = f": {holder.describe()}" if holder else ""
        ctx.reporter.note(f"waiting up to {ctx.lock_wait_s:g}s for the deploy lock{who}")

    with open_session(
        ctx.dsn(),
        ctx.config.history_schema,
        ctx.config.history_name,
        lock_wait_s=ctx.lock_wait_s if locked else None,
        on_wait=waiting,
    ) as session:
        yield session


def _load_database_modules() -> None:
    """Import psycopg and the database layer (about 100 ms of CPU) at a chosen moment."""
    import sqlmig.db.session  # noqa: F401


def _executor(ctx: Context, session: Session) -> Executor:
    from sqlmig.db.executor import Executor, Settings

    session.prepare_writes()
    cfg = ctx.config
    settings = Settings(cfg.lock_timeout_ms, cfg.statement_timeout_ms, cfg.lock_retries)
    return Executor(session.conn, session.history, settings, ctx.reporter)


def _item(e: Entry, script: Script) -> RunItem:
    direction: Literal["up", "down"] = "up" if script.direction == "up" else "down"
    return RunItem(e.version, e.name, direction, script)


def _up_file(e: Entry) -> Script:
    assert e.migration is not None
    return Script.from_file(e.migration.up, "up")


def _up_checksum(e: Entry) -> str:
    assert e.migration is not None
    return e.migration.up.checksum


def _up_script(e: Entry) -> Script:
    script = _up_file(e)
    script.check_runnable()
    return script


def _down_script(e: Entry) -> Script:
    if e.migration is not None and e.migration.down is not None:
        script = Script.from_file(e.migration.down, "down")
    elif e.stored is not None and e.stored.down_sql is not None:
        script = Script.from_history(e.label, e.stored.down_sql, "down")
    else:
        raise MigrationFileError(
            f"{e.label}: no down file and no down SQL stored in history",
            "write the down file, or revert by hand and run 'sqlmig repair'",
        )
    if script.directives.irreversible:
        raise MigrationFileError(
            f"{script.path}: {e.label} is irreversible: {script.directives.irreversible}",
            "revert it by hand if you must, then remove its history row with 'sqlmig repair'",
        )
    script.check_runnable()
    return script


def _text(e: Entry) -> MigrationText:
    """What history should record for ``e``: its files, or what history already holds."""
    if e.migration is not None:
        return MigrationText.of(e.migration)
    row, stored = e.row, e.stored
    assert row is not None and stored is not None  # Session.entries reads it for such entries
    return MigrationText(
        e.version, e.name, row.checksum_up, row.checksum_down, stored.up_sql, stored.down_sql
    )


def _following(todo: Sequence[tuple[Entry, Script]]) -> dict[int, tuple[Entry, Script]]:
    """The item that follows each version in ``todo``."""
    return {e.version: item for (e, _), item in itertools.pairwise(todo)}


def _prepare_next(executor: Executor, item: tuple[Entry, Script] | None) -> None:
    """Have the executor build ``item``'s query text while the server runs the current
    migration: the client's work overlaps the server's instead of adding to it."""
    if item is not None:
        e, script = item
        executor.meanwhile = lambda: executor.prepare(_text(e), script, e.row)


def _warn_missing(ctx: Context, entries: Sequence[Entry]) -> None:
    for e in entries:
        if e.state == "missing-file":
            ctx.reporter.note(
                f"warning: {e.label} is applied but its files are gone from {ctx.target.migrations}"
            )


def _run_all(
    ctx: Context,
    result: RunResult,
    todo: Sequence[tuple[Entry, Script]],
    step: Callable[[Entry, Script], int],
    done_status: str,
) -> RunResult:
    result.items = [_item(e, s) for e, s in todo]
    if result.dry_run:
        return result
    for item, (e, script) in zip(result.items, todo, strict=True):
        try:
            item.execution_ms = step(e, script)
        except SqlmigError as exc:
            item.status = "failed"
            result.error = exc
            break
        item.status = done_status
        ctx.reporter.note(f"{done_status} {e.label} ({item.execution_ms} ms)")
    return result


# -- verbs ------------------------------------------------------------------------------


def new(config: Config, target: Target, name: str, template: Path | None) -> tuple[Path, Path]:
    return files.new_migration(target.migrations, name, config.versioning, template)


def status(ctx: Context) -> StatusResult:
    """Every migration's state. Unlike up/down, a broken file (say, one just created by ``new``
    and not yet written) does not hide the table: it is reported after it."""
    from sqlmig.ahead import reading_ahead

    with reading_ahead(ctx.target.migrations, check_up=False) as ahead:
        _load_database_modules()  # while the folder is read by a child
        found = ahead.scan()
    with _session(ctx, locked=False) as session:
        entries = reconcile(list(found.migrations), session.rows())
    return StatusResult(ctx.target.name, mask_dsn(ctx.dsn()), entries, list(found.problems))


def up(
    ctx: Context,
    *,
    to: int | None = None,
    step: int | None = None,
    dry_run: bool = False,
    allow_out_of_order: bool = False,
) -> RunResult:
    from sqlmig.ahead import reading_ahead

    with reading_ahead(ctx.target.migrations, check_up=True) as ahead:
        _load_database_modules()  # while the folder is read and checked by a child
        migrations = ahead.migrations()
        return _up(ctx, ahead, migrations, to, step, dry_run, allow_out_of_order)


def _up(
    ctx: Context,
    checks: Ahead,
    migrations: list[Migration],
    to: int | None,
    step: int | None,
    dry_run: bool,
    allow_out_of_order: bool,
) -> RunResult:
    result = RunResult(ctx.target.name, dry_run=dry_run)
    with _session(ctx, locked=not dry_run) as session:
        entries = session.entries(migrations)
        _warn_missing(ctx, entries)
        todo = [
            (e, _up_file(e))
            for e in plan_up(entries, to=to, step=step, allow_out_of_order=allow_out_of_order)
        ]
        # every pending script must be able to run before the first one does
        checks.require([(e.version, _up_checksum(e), script) for e, script in todo])
        starts = {e.version: resume_point(s.statements, e.row) if e.row else 0 for e, s in todo}
        executor = None if dry_run or not todo else _executor(ctx, session)

        after = _following(todo)

        def apply_one(e: Entry, script: Script) -> int:
            assert executor is not None
            _prepare_next(executor, after.get(e.version))
            return executor.up(_text(e), script, e.row, starts[e.version])

        return _run_all(ctx, result, todo, apply_one, "applied")


def down(
    ctx: Context,
    *,
    to: int | None = None,
    step: int | None = None,
    everything: bool = False,
    dry_run: bool = False,
) -> RunResult:
    migrations = ctx.migrations()
    result = RunResult(ctx.target.name, dry_run=dry_run)
    with _session(ctx, locked=not dry_run) as session:
        entries = session.entries(migrations)
        todo = [
            (e, _down_script(e))
            for e in plan_down(entries, to=to, step=step, everything=everything)
        ]
        executor = None if dry_run or not todo else _executor(ctx, session)

        after = _following(todo)

        def revert_one(e: Entry, script: Script) -> int:
            assert executor is not None and e.row is not None
            _prepare_next(executor, after.get(e.version))
            start = resume_point(script.statements, e.row) if _reverting(e.row) else 0
            return executor.down(_text(e), script, e.row, start)

        return _run_all(ctx, result, todo, revert_one, "reverted")


def redo(ctx: Context, *, dry_run: bool = False) -> RunResult:
    """Revert the last applied migration and apply it again (the round-trip check by hand)."""
    result = down(ctx, step=1, dry_run=dry_run)
    if not result.items:
        raise StateError("nothing to redo: no migration is applied", "run 'sqlmig up' first")
    if result.error is not None:
        return result
    version = result.items[0].version
    if dry_run:
        m = next((m for m in ctx.migrations() if m.version == version), None)
        if m is not None:
            e = Entry(version, m.name, "pending", m, None)
            result.items.append(_item(e, _up_script(e)))
        return result
    again = apply(ctx, str(version))
    result.items += again.items
    result.error = again.error
    return result


def find_migration(entries: Sequence[Entry], key: str) -> Entry:
    """By version number, or by a fragment matching exactly one name."""
    if key.isdigit():
        hits = [e for e in entries if e.version == int(key)]
    else:
        hits = [e for e in entries if key in e.name]
        exact = [e for e in hits if e.name == key]
        hits = exact or hits
    if len(hits) == 1:
        return hits[0]
    listing = ", ".join(e.label for e in (hits or entries)[:20]) or "none"
    what = "matches several migrations" if hits else "matches no migration"
    raise UsageError(
        f"'{key}' {what}; candidates: {listing}",
        "give the version number or a longer part of the name",
    )


def apply(
    ctx: Context, key: str, *, revert: bool = False, force: bool = False, dry_run: bool = False
) -> RunResult:
    """Apply (or with ``revert``, revert) one migration chosen by version or name fragment."""
    migrations = ctx.migrations()
    result = RunResult(ctx.target.name, dry_run=dry_run)
    with _session(ctx, locked=not dry_run) as session:
        entries = session.entries(migrations)
        refuse_drift(entries)
        e = find_migration(entries, key)
        if revert:
            return _apply_down(ctx, session, result, e, dry_run)
        return _apply_up(ctx, session, result, e, force, dry_run)


def _apply_up(
    ctx: Context, session: Session, result: RunResult, e: Entry, force: bool, dry_run: bool
) -> RunResult:
    if e.migration is None:
        raise MigrationFileError(
            f"{e.label}: its files are missing", "restore them from version control"
        )
    if e.state == "applied" and not force:
        raise StateError(f"{e.label} is already applied", "pass --force to run it again")
    script = _up_script(e)
    start = resume_point(script.statements, e.row) if e.row and e.state != "applied" else 0
    executor = None if dry_run else _executor(ctx, session)

    def apply_one(entry: Entry, s: Script) -> int:
        assert executor is not None
        if entry.state == "applied":
            session.history.record(session.conn, "force", version=entry.version, name=entry.name)
        return executor.up(_text(entry), s, entry.row, start)

    return _run_all(ctx, result, [(e, script)], apply_one, "applied")


def _apply_down(
    ctx: Context, session: Session, result: RunResult, e: Entry, dry_run: bool
) -> RunResult:
    if e.row is None:
        raise StateError(f"{e.label} is not applied", "nothing to revert")
    script = _down_script(e)
    executor = None if dry_run else _executor(ctx, session)

    def revert_one(entry: Entry, s: Script) -> int:
        assert executor is not None and entry.row is not None
        start = resume_point(s.statements, entry.row) if _reverting(entry.row) else 0
        return executor.down(_text(entry), s, entry.row, start)

    return _run_all(ctx, result, [(e, script)], revert_one, "reverted")


def _reverting(row: HistoryRow) -> bool:
    return row.direction == "down" and row.status != "applied"


def validate(ctx: Context) -> ValidateResult:
    migrations = ctx.migrations()
    with _session(ctx, locked=False) as session:
        entries = session.entries(migrations)
    return ValidateResult(ctx.target.name, [p for e in entries for p in _problems(e)])


def _problems(e: Entry) -> Iterator[Problem]:
    row, m = e.row, e.migration
    if e.state == "changed" and row and m:
        for which in changed_files(m, row):
            yield Problem(
                e.version,
                e.name,
                "changed",
                f"{which} file changed after it was applied",
                file_diff(e, which),
            )
    elif e.state == "missing-file":
        yield Problem(e.version, e.name, "missing-file", "applied, but its files are missing")
    elif e.state in ("failed", "partial") and row:
        msg = f"{row.direction} {e.state} after {row.statements_done} statements"
        yield Problem(e.version, e.name, e.state, msg + (f": {row.error}" if row.error else ""))
    elif e.state == "out-of-order":
        yield Problem(
            e.version,
            e.name,
            "out-of-order",
            "pending, but older than the newest applied migration",
        )


def repair(ctx: Context) -> ChangeResult:
    """Accept edited files of applied migrations; clear failed and partial rows. Logged."""
    migrations = ctx.migrations()
    changes: list[str] = []
    with _session(ctx, locked=True) as session:
        h, conn = session.history, session.conn
        rows = session.rows()
        if rows:
            session.prepare_writes()
        for e in reconcile(migrations, rows):
            m = e.migration
            with conn.transaction():
                if e.state == "changed" and m is not None:
                    h.accept(conn, _text(e))
                    changes.append(f"accepted the current files of {e.label}")
                elif e.state in ("failed", "partial") and e.row is not None:
                    h.delete(conn, e.version)
                    changes.append(f"cleared the {e.state} {e.row.direction} row of {e.label}")
                else:
                    continue
                h.record(conn, "repair", version=e.version, name=e.name, error=changes[-1])
    return ChangeResult(ctx.target.name, changes)


def baseline(ctx: Context, version: int) -> ChangeResult:
    """Mark every migration up to ``version`` as applied without running it."""
    migrations = [m for m in ctx.migrations() if m.version <= version]
    changes: list[str] = []
    with _session(ctx, locked=True) as session:
        h, conn = session.history, session.conn
        rows = session.rows()
        if any(m.version not in rows for m in migrations):
            session.prepare_writes()
        with conn.transaction():
            for m in migrations:
                if m.version in rows:
                    continue
                script = Script.from_file(m.up, "up")
                n = len(script.statements)
                h.insert(
                    conn,
                    MigrationText.of(m),
                    status="applied",
                    statements_done=n,
                    statement_hashes=script.hashes(n),
                    execution_ms=None,
                )
                h.record(conn, "baseline", version=m.version, name=m.name)
                changes.append(f"marked {m.up.path.name.removesuffix('.up.sql')} as applied")
    return ChangeResult(ctx.target.name, changes)
