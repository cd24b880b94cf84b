"""What `ALTER TABLE` actions do to constraints and columns, for LOCK004 to LOCK008 (not a
rule: the registry only loads modules named `<id>_<slug>.py`).

`ADD [CONSTRAINT name] CHECK|FOREIGN KEY|UNIQUE|PRIMARY KEY|EXCLUDE|NOT NULL ...` adds a table
constraint; any other `ADD [COLUMN] [IF NOT EXISTS] name type ...` adds a column, whose
column constraints (`CHECK (...)`, `REFERENCES t`, `UNIQUE`, `PRIMARY KEY`) are constraints
added to the table too. The constraint keywords are reserved, so a column named like one is
quoted and cannot be mistaken for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import AlterTable, Span, Stmt

_TABLE_CONSTRAINTS: Final = frozenset({"CHECK", "FOREIGN", "UNIQUE", "PRIMARY"})
_COLUMN_CONSTRAINTS: Final = frozenset({"CHECK", "REFERENCES", "UNIQUE", "PRIMARY"})


@dataclass(frozen=True, slots=True)
class Added:
    """One constraint an `ADD` action creates.

    ``kind``: ``CHECK``, ``FOREIGN`` (a table FOREIGN KEY), ``REFERENCES`` (a column's FK),
    ``UNIQUE``, ``PRIMARY``, ``EXCLUDE`` or ``NOT NULL``; ``at`` is its keyword; ``column`` the
    new column for a column constraint; ``expr`` the parenthesised expression of a CHECK.
    """

    kind: str
    at: int
    name: str | None
    not_valid: bool
    column: str | None = None
    expr: Span | None = None


def existing_table(stmt: Stmt, ctx: FileContext, *any_of: str) -> AlterTable | None:
    """The `ALTER TABLE` of ``stmt``, unless its table was created earlier in this file.
    ``any_of``: keywords one of which the statement must contain (a cheap filter first)."""
    if any_of and not any(word in stmt.kws for word in any_of):
        return None
    alter = stmt.alter_table()
    if alter is None or ctx.created_before(stmt, "table", alter.name):
        return None
    return alter


def added(action: Span) -> list[Added]:
    """The constraints an `ADD ...` action creates (none for any other action)."""
    if action.kw(action.start) != "ADD":
        return []
    i = action.start + 1
    name = None
    if action.kw(i) == "CONSTRAINT":
        name, i = action.stmt.name(i + 1), i + 2
    kind = action.kw(i)
    if kind in _TABLE_CONSTRAINTS or name is not None or _exclude_or_not_null(action, i):
        kind = "NOT NULL" if kind == "NOT" else kind
        return [Added(kind, i, name, _not_valid(action), None, _check_expr(action, i))]
    return _column_constraints(action)


def _exclude_or_not_null(action: Span, i: int) -> bool:
    """`ADD EXCLUDE USING|(`: EXCLUDE is not reserved; `ADD NOT NULL col` (PostgreSQL 18)."""
    if action.kw(i) == "EXCLUDE":
        return action.kw(i + 1) in ("USING", "(")
    return action.starts_with("NOT", "NULL", at=i)


def _not_valid(action: Span) -> bool:
    return action.has_words("NOT", "VALID", depth=action.stmt.depth(action.start))


def _check_expr(action: Span, i: int) -> Span | None:
    if action.kw(i) != "CHECK" or action.kw(i + 1) != "(":
        return None
    return Span(action.stmt, i + 2, action.stmt.group_end(i + 1))


def _column_constraints(action: Span) -> list[Added]:
    """`ADD [COLUMN] [IF NOT EXISTS] col type [CONSTRAINT c] CHECK (...) REFERENCES t ...`."""
    stmt = action.stmt
    i = action.start + 1 + (action.kw(action.start + 1) == "COLUMN")
    i += 3 if action.starts_with("IF", "NOT", "EXISTS", at=i) else 0
    column = stmt.name(i) if i < action.end else None
    if column is None:
        return []
    level = stmt.depth(action.start)
    out: list[Added] = []
    name = None
    for j in range(i + 1, action.end):
        kw = action.kw(j)
        if stmt.depth(j) != level or stmt.kind(j) != "ident":
            continue
        if kw == "CONSTRAINT":
            name = stmt.name(j + 1)
        elif kw in _COLUMN_CONSTRAINTS:
            out.append(Added(kw, j, name, False, column, _check_expr(action, j)))
            name = None
    return out


def altered_column(action: Span) -> tuple[str, int] | None:
    """For `ALTER [COLUMN] col ...`: (the column, the index of the word after its name)."""
    if action.kw(action.start) != "ALTER":
        return None
    i = action.start + 1 + (action.kw(action.start + 1) == "COLUMN")
    column = action.stmt.name(i) if i < action.end else None
    if column is None or action.kw(i) == "CONSTRAINT":
        return None
    return column, i + 1


def validated(action: Span) -> str | None:
    """The constraint a `VALIDATE CONSTRAINT name` action validates."""
    if not action.starts_with("VALIDATE", "CONSTRAINT"):
        return None
    return action.stmt.name(action.start + 2)


def dropped(action: Span) -> str | None:
    """The constraint a `DROP CONSTRAINT [IF EXISTS] name` action drops."""
    if not action.starts_with("DROP", "CONSTRAINT"):
        return None
    i = action.start + 2
    i += 2 if action.starts_with("IF", "EXISTS", at=i) else 0
    return action.stmt.name(i) if i < action.end else None


def not_null_columns(expr: Span) -> set[str]:
    """Columns ``c`` of a CHECK expression that is ``c IS NOT NULL``, or an AND of terms one of
    which is (what PostgreSQL 12+ accepts as proof for SET NOT NULL). Outer parentheses and
    a table qualifier (``t.c``) are allowed."""
    out: set[str] = set()
    for term in expr.split("AND"):
        start, end = term.start, term.end
        while term.kw(start) == "(" and term.group_end(start) == end - 1:
            start, end = start + 1, end - 1
        if end - start >= 4 and Span(expr.stmt, end - 3, end).starts_with("IS", "NOT", "NULL"):
            name = expr.stmt.name_at(start)
            if name is not None and name.end == end - 3:
                out.add(name.name)
    return out
