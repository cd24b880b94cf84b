"""`ADD PRIMARY KEY` builds its index (and may scan for NULLs) with the table locked.

## What it catches

On a table this file did not create (also inside DO blocks, guarded or not, and in every
action of a multi-action `ALTER TABLE`):

- `ADD [CONSTRAINT name] PRIMARY KEY (cols)`;
- `ADD [COLUMN] name type ... PRIMARY KEY` (a column-level primary key).

Not reported: `ADD CONSTRAINT name PRIMARY KEY USING INDEX index_name` (the safe form), and
tables created earlier in the same file (pg_dump's `ALTER TABLE ONLY t ADD CONSTRAINT t_pkey
PRIMARY KEY (id)` after its `CREATE TABLE t` is fine).

## Why it hurts

`ADD PRIMARY KEY` takes an ACCESS EXCLUSIVE lock, then builds a unique index over the whole
table and, for columns not yet `NOT NULL`, scans it again to set them `NOT NULL`: every read
and write waits for the whole operation. Duplicates or NULLs make it fail at the end, after the
blocking. A column added with `PRIMARY KEY` also needs a value in every row (a serial or
volatile default rewrites the table too: LOCK010, LOCK009).

## Example

```sql
ALTER TABLE builds ADD PRIMARY KEY (id);
```

## Use instead

Make the columns `NOT NULL` without a long lock first (`CHECK (id IS NOT NULL) NOT VALID`,
`VALIDATE CONSTRAINT`, `SET NOT NULL`, PostgreSQL 12+), build the unique index concurrently,
then attach it (a catalog change, instant):

```sql
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS builds_pkey ON builds (id);
ALTER TABLE builds ADD CONSTRAINT builds_pkey PRIMARY KEY USING INDEX builds_pkey;
```

sqlmig runs the `CONCURRENTLY` statement alone, outside a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import existing_table
from sqlmig.lint.rules._table_adds import added_columns, added_constraint, using_index


class AddPrimaryKey(Rule):
    id = "LOCK012"
    slug = "add-primary-key"
    hint = (
        "make the columns NOT NULL first; CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i "
        "ON t (cols); then ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY USING INDEX i"
    )
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        alter = existing_table(stmt, ctx)
        if alter is None:
            return
        table = alter.name
        hint = (
            f"columns NOT NULL first; CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS <index> "
            f"ON {table} (...); then ALTER TABLE {table} ADD CONSTRAINT <name> PRIMARY KEY "
            "USING INDEX <index>"
        )
        for action in alter.actions:
            key = added_constraint(action, "PRIMARY")
            if key is not None and not using_index(stmt, key + 2):
                message = (
                    f"ADD PRIMARY KEY builds a unique index on {table} (and checks for NULLs) "
                    "under an ACCESS EXCLUSIVE lock"
                )
                yield self.finding(ctx, stmt, message, at=key, hint=hint)
        for column in added_columns(alter):
            key = column.find("PRIMARY", "KEY")
            if key is not None:
                message = (
                    f"ADD COLUMN {column.name} ... PRIMARY KEY builds a unique index on {table} "
                    "under an ACCESS EXCLUSIVE lock"
                )
                yield self.finding(ctx, stmt, message, at=key, hint=hint)
