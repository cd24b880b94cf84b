"""Pure planning: (migration files, history rows) -> states, and what up/down will do. No I/O.

States (SPEC 7): applied, pending, failed, partial, changed, missing-file, out-of-order.
Decisions written down here:
- A migration is ``changed`` when either its up or its down file differs from what was applied;
  ``up`` and ``down`` refuse while anything is changed (``validate`` shows it, ``repair`` accepts).
- A ``missing-file`` migration (applied, file gone) does not block ``up``: it is applied, and the
  runner warns. ``down`` of it runs the down SQL stored in history.
- A ``partial``/``failed`` row resumes only when the hashes of its completed statements still
  match the file's first statements; the statements after them may have been fixed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

from sqlmig.checksum import ALGORITHM, statement_hash
from sqlmig.errors import DriftError, StateError, UsageError
from sqlmig.files import Migration
from sqlmig.records import HistoryRow, StoredText

if TYPE_CHECKING:
    from sqlmig.sql.split import Statement

State = Literal[
    "applied", "pending", "failed", "partial", "changed", "missing-file", "out-of-order"
]


class Entry(NamedTuple):
    version: int
    name: str
    state: State
    migration: Migration | None
    row: HistoryRow | None
    stored: StoredText | None = None  # the SQL history stored, when read (see Session.entries)

    @property
    def label(self) -> str:
        return f"{self.version:03d}_{self.name}"


def reconcile(migrations: Sequence[Migration], rows: Mapping[int, HistoryRow]) -> list[Entry]:
    """One entry per version found in the files or the history, sorted by version."""
    files = {m.version: m for m in migrations}
    top = max((v for v, r in rows.items()), default=None)
    entries = []
    for version in sorted(files.keys() | rows.keys()):
        m, row = files.get(version), rows.get(version)
        name = m.name if m else row.name if row else "?"
        entries.append(Entry(version, name, _state(m, row, top), m, row))
    return entries


def _state(m: Migration | None, row: HistoryRow | None, top: int | None) -> State:
    if row is None:
        assert m is not None
        return "out-of-order" if top is not None and m.version < top else "pending"
    if row.status != "applied":
        return row.status
    if m is None:
        return "missing-file"
    return "changed" if is_changed(m, row) else "applied"


def is_changed(m: Migration, row: HistoryRow) -> bool:
    if row.checksum_algorithm != ALGORITHM:
        raise StateError(
            f"migration {m.version} was recorded with checksum algorithm "
            f"{row.checksum_algorithm!r}, which this sqlmig does not know",
            "upgrade sqlmig to the version that applied it",
        )
    down = m.down.checksum if m.down else None
    return row.checksum_up != m.up.checksum or row.checksum_down != down


def changed_files(m: Migration, row: HistoryRow) -> list[str]:
    """Which of the pair differ from history: 'up', 'down' or both."""
    out = []
    if row.checksum_up != m.up.checksum:
        out.append("up")
    if row.checksum_down != (m.down.checksum if m.down else None):
        out.append("down")
    return out


def resume_point(statements: Sequence[Statement], row: HistoryRow) -> int:
    """Index of the first statement to run when resuming ``row``; StateError when unsafe."""
    done = row.statements_done
    if done > len(statements):
        raise StateError(
            f"cannot resume {row.version}_{row.name}: history says {done} statements ran, "
            f"the file now has {len(statements)}",
            "restore the file as it was, or revert by hand and run 'sqlmig repair'",
        )
    for i, (stmt, recorded) in enumerate(
        zip(statements[:done], row.statement_hashes, strict=False)
    ):
        if statement_hash(stmt.sql) != recorded:
            raise StateError(
                f"cannot resume {row.version}_{row.name}: statement {i + 1} (line {stmt.line}) "
                "changed after it ran",
                "only statements that have not run yet may be edited; restore the others",
            )
    return done


def refuse_drift(entries: Sequence[Entry]) -> None:
    """DriftError when an applied migration's files changed; the diffs go in its detail."""
    changed = [e for e in entries if e.state == "changed"]
    if changed:
        names = ", ".join(e.label for e in changed)
        raise DriftError(
            f"applied migrations were edited after they ran: {names}",
            "restore the files (write a new migration for the change), or accept the edit "
            "with 'sqlmig repair'",
            "".join(drift_diff(e) for e in changed).rstrip("\n") or None,
        )


def drift_diff(e: Entry) -> str:
    """Unified diffs of the changed files of ``e`` against the SQL stored when it ran."""
    if e.migration is None or e.row is None:
        return ""
    return "".join(file_diff(e, which) for which in changed_files(e.migration, e.row))


def file_diff(e: Entry, which: str) -> str:
    """Unified diff of ``e``'s up or down file against the SQL stored when it ran."""
    assert e.migration is not None and e.row is not None
    f = e.migration.up if which == "up" else e.migration.down
    if e.stored is None:
        return ""  # its stored SQL was not read: a caller that shows diffs reads it first
    stored = e.stored.up_sql if which == "up" else e.stored.down_sql
    return unified_diff(stored or "", f.text if f else "", f"{e.label}.{which}.sql")


def unified_diff(old: str, new: str, name: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"applied/{name}",
        f"file/{name}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def plan_up(
    entries: Sequence[Entry],
    *,
    to: int | None = None,
    step: int | None = None,
    allow_out_of_order: bool = False,
) -> list[Entry]:
    """The entries ``up`` will run, in order: unfinished ones first, then pending."""
    refuse_drift(entries)
    for e in entries:
        if e.state in ("partial", "failed") and e.row and e.row.direction == "down":
            raise StateError(
                f"reverting {e.label} was interrupted ({e.state})",
                "run 'sqlmig down' to finish reverting it first",
            )
        if e.state in ("partial", "failed") and e.migration is None:
            raise StateError(
                f"{e.label} is {e.state} and its file is missing",
                "restore the file to resume it, or clean up by hand and run 'sqlmig repair'",
            )
    if not allow_out_of_order:
        late = [e for e in entries if e.state == "out-of-order"]
        if late:
            raise DriftError(
                f"pending migration {late[0].label} is older than the newest applied one",
                "renumber it above the newest applied version, or pass --allow-out-of-order",
            )
    todo = [e for e in entries if e.state in ("partial", "failed", "pending", "out-of-order")]
    if to is not None:
        todo = [e for e in todo if e.version <= to]
    return _limit(todo, step)


def plan_down(
    entries: Sequence[Entry],
    *,
    to: int | None = None,
    step: int | None = None,
    everything: bool = False,
) -> list[Entry]:
    """The entries ``down`` will revert, newest first. Default: the last applied one."""
    refuse_drift(entries)
    done = [e for e in reversed(entries) if e.row is not None]
    if to is not None:
        todo = [e for e in done if e.version > to]
    elif everything:
        todo = done
    else:
        todo = _limit(done, 1 if step is None else step)
    return todo


def _limit(todo: list[Entry], step: int | None) -> list[Entry]:
    if step is None:
        return todo
    if step < 1:
        raise UsageError(f"--step must be at least 1, got {step}", "pass --step N with N >= 1")
    return todo[:step]
