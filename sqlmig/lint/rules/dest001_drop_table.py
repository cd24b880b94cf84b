"""`DROP TABLE` of an existing table: its data is gone, and deployed code still queries it.

## What it catches

`DROP TABLE [IF EXISTS] a [, b ...] [CASCADE]` (also inside DO blocks) naming a table that was
not created earlier in the same file; `IF EXISTS` makes the drop re-runnable, not safe. Not
reported: a table (temporary ones included) created earlier in the file, a scratch table the
migration made and cleans up, and down files, whose job is to drop what the up file created.

## Why it hurts

`DROP TABLE` cannot be rolled back once committed: the rows are gone unless a backup is
restored, which is hours of downtime and loses every write since. Until the release that
stopped using the table is deployed everywhere, old application instances keep querying it
and fail with `relation "..." does not exist`. The drop also takes an ACCESS EXCLUSIVE lock on
the table and locks the tables its foreign keys reference (their FK triggers are removed), so
it queues behind any long query on either, and everything queues behind it; `CASCADE` silently
drops the views and the foreign keys of other tables that depend on it as well.

## Example

```sql
DROP TABLE IF EXISTS legacy_invoices;
```

## Use instead

Drop in two releases: first stop reading and writing the table in the code and deploy; then,
in a later migration, drop its foreign keys and the table, with a reason:

```sql
-- sqlmig:ignore DEST001 unused since release 41 (#1234); backup in s3://backups/legacy_invoices
DROP TABLE IF EXISTS legacy_invoices;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._dest import name_list


class DropTable(Rule):
    id = "DEST001"
    slug = "drop-table"
    applies_to_down = False
    hint = (
        "stop using the table in code, deploy, then drop it in a later release with "
        "-- sqlmig:ignore DEST001 <reason>"
    )
    starts = ("DROP",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        first = stmt.name_after("DROP TABLE")
        if first is None:
            return
        existing = [n for n in name_list(stmt, first) if not ctx.created_before(stmt, "table", n)]
        if not existing:
            return
        listed = ", ".join(map(str, existing))
        cascade = stmt.kw(len(stmt) - 1) == "CASCADE"
        yield self.finding(
            ctx,
            stmt,
            f"DROP TABLE {listed} deletes an existing table and its data for good; deployed "
            "code still using it fails"
            + (
                " (CASCADE also drops the views and foreign keys that depend on it)"
                if cascade
                else ""
            ),
            at=existing[0].start,
        )
