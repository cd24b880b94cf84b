"""`CREATE TABLE` without `IF NOT EXISTS`: the migration cannot be re-run after a failure.

## What it catches

`CREATE TABLE` (also `UNLOGGED`, `FOREIGN`, `... AS SELECT` and `... PARTITION OF`) with no
`IF NOT EXISTS`, including inside a DO block. Not reported: temporary tables (they vanish with
the session, so a re-run creates them afresh), a CREATE inside a DO block that checks the
catalog first (`IF NOT EXISTS (SELECT FROM pg_tables ...)`, `to_regclass(...) IS NULL`) or
catches the error (`EXCEPTION WHEN duplicate_table`), and a table that an earlier statement of
the file drops (`DROP TABLE IF EXISTS`).

## Why it hurts

A migration that stops halfway (a lock timeout, a killed deploy, a segmented file that failed
after its first segment, a retried `sqlmig test`) is run again from the start. A bare
`CREATE TABLE` then fails with `relation "orders" already exists`, and the deploy stays stuck
until someone drops the table or edits history by hand.

## Example

```sql
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    placed_at timestamptz NOT NULL DEFAULT now()
);
```

## Use instead

```sql
CREATE TABLE IF NOT EXISTS orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    placed_at timestamptz NOT NULL DEFAULT now()
);
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule

CREATE_TABLE: Final = "CREATE [GLOBAL|LOCAL] [UNLOGGED|FOREIGN] TABLE"  # TEMP never matches


class CreateTableWithoutIfNotExists(Rule):
    id = "IDEM001"
    slug = "create-table-without-if-not-exists"
    hint = "write CREATE TABLE IF NOT EXISTS ..."
    starts = ("CREATE",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        at = stmt.match(CREATE_TABLE)
        if at is None or stmt.guarded or stmt.starts_with("IF", "NOT", "EXISTS", at=at):
            return
        name = stmt.name_at(at)
        if name is None or ctx.dropped_before(stmt, "table", name):
            return
        yield self.finding(
            ctx,
            stmt,
            f"CREATE TABLE {name} without IF NOT EXISTS fails when the migration is re-run "
            "after a partial failure (relation already exists)",
            at=at,
            hint=f"CREATE TABLE IF NOT EXISTS {name} ...",
        )
