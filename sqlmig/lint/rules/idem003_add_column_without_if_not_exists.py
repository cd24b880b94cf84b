"""`ALTER TABLE ... ADD COLUMN` without `IF NOT EXISTS`: a re-run fails on the existing column.

## What it catches

Every `ADD [COLUMN] name` action of an `ALTER TABLE` (each action of a multi-action
`ALTER TABLE t ADD a int, ADD b int` on its own; the `COLUMN` keyword is optional) without
`IF NOT EXISTS`, including inside a DO block. `ALTER TABLE IF EXISTS` is no guard: it is about
the table, and the column still exists on a re-run.

Not reported: a DO block that checks the catalog first (`IF NOT EXISTS (SELECT FROM
information_schema.columns ...)`) or catches `duplicate_column`; a column that an earlier
statement or action of the file drops from the same table (`DROP COLUMN IF EXISTS c`); a table
the file drops earlier (and so re-creates) or a temporary table it created.

## Why it hurts

A migration that stops halfway (a lock timeout on a later statement, a killed deploy, a
segmented file) is run again from the start, and a bare `ADD COLUMN` then fails with
`column "note" of relation "orders" already exists` (SQLSTATE 42701). The deploy stays stuck
until someone edits the database or the history by hand. `ADD COLUMN IF NOT EXISTS` (PostgreSQL
9.6+) skips with a notice instead; its constraints and default are skipped with it.

## Example

```sql
ALTER TABLE orders ADD COLUMN note text;
```

## Use instead

```sql
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._idem import constraint_start, fresh_table, guarded, sql


class AddColumnWithoutIfNotExists(Rule):
    id = "IDEM003"
    slug = "add-column-without-if-not-exists"
    hint = "ALTER TABLE ... ADD COLUMN IF NOT EXISTS ..."
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        dropped: dict[str, list[ObjectName]] = {}  # column -> tables it was dropped from
        for stmt in ctx.starting_with(*self.starts):
            alter = stmt.alter_table()
            if alter is None:
                continue
            for action in alter.actions:
                column = _dropped_column(stmt, action)
                if column is not None:
                    dropped.setdefault(column, []).append(alter.name)
                    continue
                at = _added_column(stmt, action)
                if at is None or guarded(ctx, stmt) or fresh_table(ctx, stmt, alter.name):
                    continue
                name = stmt.name(at) or ""
                if any(t.same(alter.name) for t in dropped.get(name, ())):
                    continue
                table = sql(alter.name)
                yield self.finding(
                    ctx,
                    stmt,
                    f"ADD COLUMN {sql(name)} to {table} without IF NOT EXISTS fails when the "
                    "migration is re-run after a partial failure (column already exists)",
                    at=at,
                    hint=f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {sql(name)} ...",
                )


def _added_column(stmt: Stmt, action: Span) -> int | None:
    """Index of the column name of an ``ADD [COLUMN] name`` action without IF NOT EXISTS."""
    i = action.start
    if stmt.kw(i) != "ADD" or constraint_start(stmt.kw(i + 1), stmt.kw(i + 2)):
        return None
    i += 2 if stmt.kw(i + 1) == "COLUMN" else 1
    if stmt.starts_with("IF", "NOT", "EXISTS", at=i) or stmt.name(i) is None:
        return None
    return i if i < action.end else None


def _dropped_column(stmt: Stmt, action: Span) -> str | None:
    """The column of a ``DROP [COLUMN] [IF EXISTS] name`` action."""
    i = action.start
    if stmt.kw(i) != "DROP" or stmt.kw(i + 1) == "CONSTRAINT":
        return None
    i += 2 if stmt.kw(i + 1) == "COLUMN" else 1
    i += 2 if stmt.starts_with("IF", "EXISTS", at=i) else 0
    return stmt.name(i) if i < action.end else None
