"""`ADD COLUMN` of a serial, identity or stored generated column rewrites the whole table.

## What it catches

`ALTER TABLE ... ADD [COLUMN] name` on a table this file did not create (also inside DO
blocks and in every action of a multi-action `ALTER TABLE`), where the column is:

- `smallserial`/`serial`/`bigserial` (`serial2`/`serial4`/`serial8`): a sequence default;
- `GENERATED ALWAYS|BY DEFAULT AS IDENTITY`;
- `GENERATED ALWAYS AS (expr) STORED`.

Not reported: a virtual generated column (`GENERATED ALWAYS AS (expr)` without `STORED`, or
with `VIRTUAL`, PostgreSQL 18): it is computed on read and rewrites nothing;
`ALTER COLUMN ... ADD GENERATED ... AS IDENTITY` on an existing column (catalog only); and
tables created earlier in the same file. A volatile `DEFAULT` is LOCK009.

## Why it hurts

Each of these columns needs a distinct value in every existing row: the next sequence value,
or the expression computed from the row. PostgreSQL cannot keep it in the catalog as it does
for a constant default, so it rewrites the table and rebuilds every index while holding an
ACCESS EXCLUSIVE lock: nothing can read or write the table until it is done, minutes or hours
on a large table, and the rewrite needs the table's size again in free disk space.

## Example

```sql
ALTER TABLE events ADD COLUMN seq bigserial;
ALTER TABLE orders ADD COLUMN total_cents bigint
    GENERATED ALWAYS AS (quantity * unit_cents) STORED;
```

## Use instead

Add a plain nullable column (instant), fill it for new rows with a trigger or a
`SET DEFAULT nextval(...)`, backfill existing rows in batches, then add the constraints
(`CHECK ... NOT VALID`, `VALIDATE`, `SET NOT NULL`):

```sql
CREATE SEQUENCE IF NOT EXISTS events_seq_seq;
ALTER TABLE events ADD COLUMN IF NOT EXISTS seq bigint;
ALTER TABLE events ALTER COLUMN seq SET DEFAULT nextval('events_seq_seq');
-- backfill: UPDATE events SET seq = nextval('events_seq_seq') WHERE id IN (... LIMIT 10000);
```

For a stored generated column, a trigger that computes the value plus a backfill; or create a
new table with the column and copy the data over (strong_migrations' advice); or, on
PostgreSQL 18, a virtual generated column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import existing_table
from sqlmig.lint.rules._table_adds import Column, added_columns

SERIAL_TYPES: Final = frozenset(
    {"SMALLSERIAL", "SERIAL", "BIGSERIAL", "SERIAL2", "SERIAL4", "SERIAL8"}
)


class AddColumnRewrite(Rule):
    id = "LOCK010"
    slug = "add-column-rewrite"
    hint = (
        "add a plain nullable column, fill new rows with a default or trigger, backfill in "
        "batches; or create a new table and copy"
    )
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        alter = existing_table(stmt, ctx)
        if alter is None:
            return
        for column in added_columns(alter):
            found = _rewriting(column)
            if found is None:
                continue
            at, what = found
            yield self.finding(
                ctx,
                stmt,
                f"ADD COLUMN {column.name} {what} gives every existing row its own value: "
                f"{alter.name} is rewritten under an ACCESS EXCLUSIVE lock",
                at=at,
            )


def _rewriting(column: Column) -> tuple[int, str] | None:
    """(word to report, what the column is) when adding ``column`` rewrites the table."""
    stmt = column.action.stmt
    type_name = stmt.kw(column.type_at)
    if type_name in SERIAL_TYPES:
        return column.type_at, type_name.lower()
    generated = column.find("GENERATED")
    if generated is None:
        return None
    identity = column.action.find("AS", "IDENTITY", start=generated)
    if identity is not None and identity <= generated + 4:  # ALWAYS|BY DEFAULT AS IDENTITY
        return generated, "AS IDENTITY"
    if column.find("STORED") is not None:
        return generated, "GENERATED ... STORED"
    return None
