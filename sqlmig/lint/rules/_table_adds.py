"""Helpers shared by the lock rules that read `ALTER TABLE` actions (not a rule: the registry
only loads modules named `<id>_<slug>.py`).

An action `ADD [COLUMN] [IF NOT EXISTS] name type ...` is a column; `ADD [CONSTRAINT name]
UNIQUE|PRIMARY KEY|CHECK|FOREIGN KEY|EXCLUDE ...` is a table constraint. A column named like
one of those keywords must be quoted (they are reserved), so the first word after `ADD` tells
the two apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from sqlmig.lint.model import AlterTable, Span, Stmt

_CONSTRAINT_WORDS: Final = frozenset(
    {"CONSTRAINT", "UNIQUE", "PRIMARY", "CHECK", "FOREIGN", "EXCLUDE"}
)


@dataclass(frozen=True, slots=True)
class Column:
    """One `ADD COLUMN` action: ``name_at`` is the column name's word, ``type_at`` the first
    word of its type, ``action`` the whole action."""

    action: Span
    name_at: int
    type_at: int

    @property
    def name(self) -> str:
        return self.action.stmt.name(self.name_at) or "?"

    def find(self, *words: str) -> int | None:
        """Where ``words`` occur after the type, outside any parentheses of the action."""
        level = self.action.stmt.depth(self.action.start)
        return self.action.find(*words, start=self.type_at, depth=level)


def added_columns(alter: AlterTable) -> Iterator[Column]:
    """Every `ADD [COLUMN]` action of an `ALTER TABLE`."""
    for action in alter.actions:
        if action.kw(action.start) != "ADD":
            continue
        stmt = action.stmt
        i = action.start + 1
        if action.kw(i) == "COLUMN":
            i += 1
        elif action.kw(i) in _CONSTRAINT_WORDS:
            continue
        if action.starts_with("IF", "NOT", "EXISTS", at=i):
            i += 3
        if i < action.end and stmt.kind(i) in ("ident", "qident"):
            yield Column(action, i, i + 1)


def added_constraint(action: Span, *kinds: str) -> int | None:
    """For `ADD [CONSTRAINT name] <kind> ...` with a first word of ``kinds`` (``"UNIQUE"``,
    ``"PRIMARY"``, ``"EXCLUDE"``...): the index of that word, else None."""
    if action.kw(action.start) != "ADD":
        return None
    i = action.start + 1
    if action.kw(i) == "CONSTRAINT":
        i += 2  # the constraint's name is one identifier
    return i if action.kw(i) in kinds else None


def using_index(stmt: Stmt, at: int) -> bool:
    """Whether `USING INDEX existing_index` (not `USING INDEX TABLESPACE`) follows word ``at``."""
    return stmt.starts_with("USING", "INDEX", at=at) and stmt.kw(at + 2) != "TABLESPACE"
