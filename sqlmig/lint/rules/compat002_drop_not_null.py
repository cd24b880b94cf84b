"""`ALTER COLUMN ... DROP NOT NULL`: readers that rely on the column never being NULL break.

## What it catches

`ALTER TABLE ... ALTER [COLUMN] col DROP NOT NULL` (any action of a multi-action `ALTER TABLE`,
also inside DO blocks) and `ALTER DOMAIN ... DROP NOT NULL`. Not reported: a table or domain
created earlier in the same file and a column added earlier in it (nothing reads them yet),
and down files, where restoring the previous nullability is the point.

## Why it hurts

The statement itself is cheap (a brief ACCESS EXCLUSIVE lock, no scan), which is why some
tools call it safe. The risk is in the contract: every reader written while the column was
NOT NULL (application code mapping it to a non-optional field, reports using `=` joins or
`NOT IN` subqueries, downstream ETL) now receives NULLs it never handled, and the failures
show up far from the migration, in production, once the first NULL is written. It is also
hard to undo: `SET NOT NULL` fails once NULLs exist and takes a full-table scan under ACCESS
EXCLUSIVE.

## Example

```sql
ALTER TABLE orders ALTER COLUMN shipped_at DROP NOT NULL;
```

## Use instead

Check every reader of the column first, then acknowledge the change where it is made:

```sql
-- sqlmig:ignore COMPAT002 shipped_at is optional from v42; readers updated in #1234
ALTER TABLE orders ALTER COLUMN shipped_at DROP NOT NULL;
```

Making a column nullable is also the first step of removing it (expand/contract): the
acknowledgement then says so.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._dest import OldColumns


class DropNotNull(Rule):
    id = "COMPAT002"
    slug = "drop-not-null"
    severity = "warning"
    applies_to_down = False
    hint = (
        "check every reader of the column, then acknowledge it: "
        "-- sqlmig:ignore COMPAT002 <why NULL is fine now>"
    )
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        old = OldColumns(ctx)
        for stmt in ctx.starting_with(*self.starts):
            if "NULL" not in stmt.kws:
                continue
            if stmt.starts_with("ALTER", "DOMAIN"):
                yield from self._domain(stmt, ctx)
                continue
            for table, column in old.touched(stmt, _relaxed_column):
                yield self.finding(
                    ctx,
                    stmt,
                    f"DROP NOT NULL on {table}.{column}: readers written while the "
                    "column was NOT NULL may not handle NULL",
                    at=column.start,
                )

    def _domain(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        domain = stmt.name_after("ALTER DOMAIN")
        if domain is None or ctx.created_before(stmt, "type", domain):
            return
        if stmt.starts_with("DROP", "NOT", "NULL", at=domain.end):
            yield self.finding(
                ctx,
                stmt,
                f"DROP NOT NULL on domain {domain}: every column of this type may now hold "
                "NULL, which readers written for the NOT NULL domain do not expect",
                at=domain.start,
            )


def _relaxed_column(action: Span) -> ObjectName | None:
    """The column of an ``ALTER [COLUMN] col DROP NOT NULL`` action."""
    i = action.start + 1
    i += 1 if action.kw(i) == "COLUMN" else 0
    column = action.name_at(i)
    if action.kw(action.start) != "ALTER" or column is None:
        return None
    return column if action.starts_with("DROP", "NOT", "NULL", at=column.end) else None
