"""`DROP SCHEMA` or `DROP DATABASE` in a migration: everything in it is gone.

## What it catches

`DROP SCHEMA [IF EXISTS] a [, b] [CASCADE | RESTRICT]` and `DROP DATABASE [IF EXISTS] name
[WITH (FORCE)]`, also inside DO blocks (where `DROP DATABASE` cannot run, but the intent is the
same). Not reported: a schema created earlier in the same file (a scratch schema the migration
made and cleans up), and down files, whose job is to drop what the up file created.

## Why it hurts

`DROP SCHEMA ... CASCADE` drops every table, view, function, type and sequence in the schema,
with their data, in one statement and with no list of what went; without `CASCADE` it fails as
soon as the schema holds anything, which makes it either useless or catastrophic. `DROP
DATABASE` cannot run in a transaction, so it cannot be rolled back at all, and with `WITH
(FORCE)` it terminates every connection first. Neither belongs in a file that runs
automatically on every environment, production included.

## Example

```sql
DROP SCHEMA IF EXISTS reporting CASCADE;
```

## Use instead

An operator task, done by hand after a backup, not a migration. When the objects of a schema
really must go, drop them one by one (each reviewed under DEST001/DEST007), then the empty
schema with `RESTRICT`, with a reasoned `-- sqlmig:ignore DEST005 <reason>`.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._dest import name_list


class DropSchemaOrDatabase(Rule):
    id = "DEST005"
    slug = "drop-schema-or-database"
    applies_to_down = False
    hint = "drop schemas and databases by hand as an operator task, not in a migration"
    starts = ("DROP",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        database = stmt.name_after("DROP DATABASE")
        if database is not None:
            yield self.finding(
                ctx,
                stmt,
                f"DROP DATABASE {database} destroys the whole database and cannot be rolled "
                "back (it never runs in a transaction)",
                at=database.start,
            )
            return
        first = stmt.name_after("DROP SCHEMA")
        if first is None:
            return
        existing = [n for n in name_list(stmt, first) if not ctx.created_before(stmt, "schema", n)]
        if not existing:
            return
        cascade = stmt.kw(len(stmt) - 1) == "CASCADE"
        what = "and every table, view and function in it, with their data" if cascade else ""
        yield self.finding(
            ctx,
            stmt,
            f"DROP SCHEMA {', '.join(map(str, existing))} drops an existing schema {what}".strip(),
            at=existing[0].start,
        )
