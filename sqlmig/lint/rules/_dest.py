"""Helpers shared by the DEST and COMPAT rules (not a rule: the registry loads ``<id>_<slug>``
modules only).

A column is new in a file when an earlier statement of the file adds it (``ADD COLUMN``): no
deployed code knows it and it holds only what the migration put there, so dropping, renaming
or relaxing it breaks nothing (the helper column of a backfill, the ``new_x`` of a column
swap). A column renamed to earlier in the file is unknown to deployed code too, but it holds
the old column's data: it counts as new for renames, not for drops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt

# ADD followed by one of these adds a table constraint, not a column (EXCLUDE: see _is_column).
_CONSTRAINTS: Final = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})


def name_list(stmt: Stmt, first: ObjectName) -> list[ObjectName]:
    """Every name of ``DROP <kind> [IF EXISTS] a, b(args) [CASCADE]``, from the first one."""
    parts = Span(stmt, first.start, len(stmt)).split()
    return [name for part in parts if (name := stmt.name_from(part.start)) is not None]


def added_column(action: Span) -> ObjectName | None:
    """The column an ``ADD [COLUMN] [IF NOT EXISTS] col type ...`` action adds."""
    i = action.start + 1
    if action.kw(action.start) != "ADD" or action.kw(i) in _CONSTRAINTS:
        return None
    if action.kw(i) == "EXCLUDE" and action.kw(i + 1) in ("USING", "("):
        return None
    i += 1 if action.kw(i) == "COLUMN" else 0
    column = action.name_from(i)
    return column if column is not None and len(column.parts) == 1 else None


def renamed_column(action: Span) -> tuple[ObjectName, ObjectName] | None:
    """(old, new) of a ``RENAME [COLUMN] old TO new`` action."""
    i = action.start + 1
    if action.kw(action.start) != "RENAME" or action.kw(i) in ("TO", "CONSTRAINT"):
        return None
    i += 1 if action.kw(i) == "COLUMN" else 0
    old = action.name_at(i)
    if old is None or not action.starts_with("TO", at=old.end):
        return None
    new = action.name_at(old.end + 1)
    return None if new is None else (old, new)


class NewColumns:
    """The columns each table gets in this file (added, or renamed to), with where."""

    def __init__(self, ctx: FileContext) -> None:
        self._made: dict[str, list[tuple[int, ObjectName, bool]]] = {}
        for stmt in ctx.starting_with("ALTER"):
            kws = stmt.kws
            alter = stmt.alter_table() if "ADD" in kws or "RENAME" in kws else None
            if alter is None:
                continue
            for action in alter.actions:
                renamed = renamed_column(action)
                column = renamed[1] if renamed is not None else added_column(action)
                if column is not None:
                    entry = (stmt.index, alter.name, renamed is not None)
                    self._made.setdefault(column.name, []).append(entry)

    def before(
        self, stmt: Stmt, table: ObjectName, column: ObjectName, *, renamed: bool = False
    ) -> bool:
        """Whether a statement before ``stmt`` added ``column`` to ``table`` (or, with
        ``renamed``, renamed a column to it)."""
        made = self._made.get(column.name, ())
        return any(i < stmt.index and t.same(table) and (renamed or not r) for i, t, r in made)


class OldColumns:
    """The columns that ``ALTER TABLE`` actions touch, on tables and columns that existed before
    this file: tables it created and columns it added earlier are new, so they are skipped."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._new: NewColumns | None = None  # built on first need: most files have no match

    def touched(
        self, stmt: Stmt, pick: Callable[[Span], ObjectName | None]
    ) -> Iterator[tuple[ObjectName, ObjectName]]:
        """(table, column) for each action of ``stmt`` that ``pick`` maps to an old column."""
        alter = stmt.alter_table()
        if alter is None or self.ctx.created_before(stmt, "table", alter.name):
            return
        for action in alter.actions:
            column = pick(action)
            if column is None:
                continue
            self._new = self._new or NewColumns(self.ctx)
            if not self._new.before(stmt, alter.name, column):
                yield alter.name, column
