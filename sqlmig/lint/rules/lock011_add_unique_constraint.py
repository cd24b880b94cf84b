"""`ADD CONSTRAINT ... UNIQUE` builds its index while the table is locked against everything.

## What it catches

On a table this file did not create (also inside DO blocks, guarded or not, and in every
action of a multi-action `ALTER TABLE`):

- `ADD [CONSTRAINT name] UNIQUE [NULLS [NOT] DISTINCT] (cols)`;
- `ADD [COLUMN] name type ... UNIQUE` (a column-level unique constraint).

Not reported: `ADD CONSTRAINT name UNIQUE USING INDEX index_name` (the safe form), `CREATE
UNIQUE INDEX` (LOCK001 covers it), and tables created earlier in the same file.

## Why it hurts

`ALTER TABLE ... ADD UNIQUE` takes an ACCESS EXCLUSIVE lock and builds the unique index
inside it: every read and write of the table waits for the whole build (there is no NOT VALID
form of a unique constraint). If existing rows are duplicated the build fails at the end, after
all that blocking. A column added with `UNIQUE` is the same: its index is built over every row.

## Example

```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```

## Use instead

Remove duplicates first, build the index without blocking writes, then attach it as the
constraint (a catalog change, instant):

```sql
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
```

sqlmig runs the `CONCURRENTLY` statement alone, outside a transaction. A unique index alone
(without the constraint) is often enough: it enforces uniqueness and serves `ON CONFLICT`.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import existing_table
from sqlmig.lint.rules._table_adds import added_columns, added_constraint, using_index


class AddUniqueConstraint(Rule):
    id = "LOCK011"
    slug = "add-unique-constraint"
    hint = (
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (cols); then "
        "ALTER TABLE t ADD CONSTRAINT c UNIQUE USING INDEX i"
    )
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        alter = existing_table(stmt, ctx)
        if alter is None:
            return
        table = alter.name
        hint = (
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS <index> ON {table} (...); then "
            f"ALTER TABLE {table} ADD CONSTRAINT <name> UNIQUE USING INDEX <index>"
        )
        for action in alter.actions:
            unique = added_constraint(action, "UNIQUE")
            if unique is not None and not using_index(stmt, unique + 1):
                message = f"ADD UNIQUE builds its index on {table} under an ACCESS EXCLUSIVE lock"
                yield self.finding(ctx, stmt, message, at=unique, hint=hint)
        for column in added_columns(alter):
            unique = column.find("UNIQUE")
            if unique is not None:
                message = (
                    f"ADD COLUMN {column.name} ... UNIQUE builds a unique index on {table} "
                    "under an ACCESS EXCLUSIVE lock"
                )
                first = f"ADD COLUMN IF NOT EXISTS {column.name} without UNIQUE; then "
                yield self.finding(ctx, stmt, message, at=unique, hint=first + hint)
