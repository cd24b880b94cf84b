"""`ALTER TABLE ... DROP COLUMN`: the data is gone and deployed code still reads and writes it.

## What it catches

`ALTER TABLE [IF EXISTS] [ONLY] t DROP [COLUMN] [IF EXISTS] col [CASCADE]`, in any action of
a multi-action `ALTER TABLE` and inside DO blocks (a DO that checks `information_schema.columns`
first still drops it). `DROP CONSTRAINT` is not a column. Not reported: a table created
earlier in the same file, a column an earlier statement of the file added (a helper column of
a backfill: no deployed code knows it, and it holds nothing but what the migration wrote), and
down files, whose job is to drop what the up file added. A column renamed earlier in the file
still holds the old column's data: its drop is reported.

## Why it hurts

The column's values are lost for good (only a backup restore brings them back). Application
instances still running the previous release keep naming the column and fail with
`column "..." does not exist`; ORMs that list every column of a model in their SELECTs and
INSERTs fail even where the code never mentions it. The statement is quick (the column is only
marked dropped, the space is reclaimed by later rewrites) but needs an ACCESS EXCLUSIVE lock,
so it queues behind every long-running query on the table and blocks everything that arrives
after it. Indexes and constraints on the column go with it; `CASCADE` also drops the views
and the foreign keys of other tables that depend on it.

## Example

```sql
ALTER TABLE users DROP COLUMN legacy_login;
```

## Use instead

Expand/contract over two releases: stop reading and writing the column in the code (tell the
ORM to ignore it) and deploy; then drop it in a later migration, with a reason:

```sql
-- sqlmig:ignore DEST002 unused since release 41 (#1234)
ALTER TABLE users DROP COLUMN IF EXISTS legacy_login;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._dest import OldColumns


class DropColumn(Rule):
    id = "DEST002"
    slug = "drop-column"
    applies_to_down = False
    hint = (
        "stop using the column in code, deploy, then drop it in a later release: "
        "DROP COLUMN IF EXISTS with -- sqlmig:ignore DEST002 <reason>"
    )
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        old = OldColumns(ctx)
        for stmt in ctx.starting_with(*self.starts):
            if "DROP" not in stmt.kws:
                continue
            for table, column in old.touched(stmt, dropped_column):
                yield self.finding(
                    ctx,
                    stmt,
                    f"DROP COLUMN {table}.{column} deletes its data for good; code of "
                    "the release still deployed that uses it fails",
                    at=column.start,
                )


def dropped_column(action: Span) -> ObjectName | None:
    """The column of a ``DROP [COLUMN] [IF EXISTS] col`` action."""
    i = action.start + 1
    if action.kw(action.start) != "DROP" or action.kw(i) == "CONSTRAINT":
        return None
    i += 1 if action.kw(i) == "COLUMN" else 0
    return action.name_from(i)
