"""`RENAME COLUMN`: every query of the deployed code names the old column.

## What it catches

`ALTER TABLE ... RENAME [COLUMN] old TO new` (the word `COLUMN` is optional), the same on a
view, materialized view or foreign table, including inside DO blocks: the usual "rename if
the old column is still there" block checks `information_schema.columns` and renames all the
same. Not reported: a relation created earlier in the same file, a column an earlier
statement of the file added or renamed to (`new_x` in a column swap: no deployed code knows
that name), and down files, which rename back.

## Why it hurts

The rename is instant (a catalog change under a brief ACCESS EXCLUSIVE lock), but it takes
effect at commit for every session at once, while the instances of the previous release are
still running: their SELECTs, INSERTs, prepared statements and ORM models name the old column
and fail with `column "old" does not exist` until the last instance is replaced. Views (and
`BEGIN ATOMIC` function bodies) follow the rename, because PostgreSQL stores their column
references by number, which hides the breakage in review; `$$`-quoted function and trigger
bodies are plain text and fail on their next call.

## Example

```sql
ALTER TABLE users RENAME COLUMN name TO full_name;
```

## Use instead

Expand/contract over several releases:

```sql
ALTER TABLE users ADD COLUMN IF NOT EXISTS full_name text;    -- 1. add the new column
-- 2. the code writes both columns (or a trigger copies name -> full_name)
-- 3. backfill full_name in batches
-- 4. the code reads full_name only
-- 5. a later release:
-- sqlmig:ignore DEST002 nothing reads or writes users.name since release 42
ALTER TABLE users DROP COLUMN IF EXISTS name;
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._dest import NewColumns, renamed_column

_RELATIONS: Final = ("ALTER [FOREIGN] TABLE", "ALTER VIEW", "ALTER MATERIALIZED VIEW")


class RenameColumn(Rule):
    id = "DEST004"
    slug = "rename-column"
    applies_to_down = False
    hint = (
        "add the new column, write both, backfill, switch reads, then drop the old column "
        "in a later release"
    )
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        new_columns: NewColumns | None = None
        for stmt in ctx.starting_with(*self.starts):
            if "RENAME" not in stmt.kws:
                continue
            at = next((i for p in _RELATIONS if (i := stmt.match(p)) is not None), None)
            relation = None if at is None else stmt.name_from(at)
            if relation is None or _created_before(ctx, stmt, relation):
                continue
            i = relation.end + (1 if stmt.kw(relation.end) == "*" else 0)
            renamed = renamed_column(Span(stmt, i, len(stmt)))
            if renamed is None:
                continue
            old, new = renamed
            new_columns = new_columns or NewColumns(ctx)
            if new_columns.before(stmt, relation, old, renamed=True):
                continue
            yield self.finding(
                ctx,
                stmt,
                f"renaming column {relation}.{old} to {new} breaks every query of the deployed "
                f"code that still names {old}",
                at=old.start,
            )


def _created_before(ctx: FileContext, stmt: Stmt, relation: ObjectName) -> bool:
    return ctx.created_before(stmt, "table", relation) or ctx.created_before(stmt, "view", relation)
