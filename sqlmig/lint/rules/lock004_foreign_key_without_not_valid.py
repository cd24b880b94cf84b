"""A foreign key added to an existing table without `NOT VALID`: a full scan under lock.

## What it catches

`ALTER TABLE ... ADD [CONSTRAINT fk] FOREIGN KEY (...) REFERENCES ...` without `NOT VALID`, and
`ALTER TABLE ... ADD [COLUMN] col type REFERENCES other (...)`, on a table this file did not
create earlier, including inside a DO block (its existence check makes it re-runnable, not
cheap). Not reported: foreign keys declared in `CREATE TABLE`, or added to a table created
earlier in the same file (empty: nothing to check).

## Why it hurts

Adding a valid foreign key checks every existing row against the referenced table before the
statement returns. Meanwhile the referencing table is locked SHARE ROW EXCLUSIVE (ACCESS
EXCLUSIVE when the same statement adds a column) and so is the referenced table: writes to
both, often the two busiest tables of the application, wait for the whole scan.
`ADD COLUMN ... REFERENCES` with a non-NULL `DEFAULT` scans the same way. Without a default
PostgreSQL skips the check (the new column is all NULL), but the statement still takes both
strong locks together, and `NOT VALID` cannot be written on a column constraint: the
two-step form below is the one that keeps every lock short.

## Example

```sql
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id);
```

## Use instead

```sql
-- migration 1: only brief locks, no scan; new rows are checked from now on
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

-- migration 2 (or after a COMMIT): scans under SHARE UPDATE EXCLUSIVE, writes go on
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
```

For a new column, add it plain first (`ADD COLUMN customer_id bigint`), then the constraint
as above. One foreign key per migration keeps the brief locks on the referenced tables short.
On PostgreSQL before 18 a partitioned table cannot take a `NOT VALID` foreign key: add it to
each partition that way, then to the parent.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import added, existing_table


class ForeignKeyWithoutNotValid(Rule):
    id = "LOCK004"
    slug = "foreign-key-without-not-valid"
    hint = (
        "ADD CONSTRAINT fk FOREIGN KEY (...) REFERENCES ... NOT VALID; then, in a later "
        "transaction, VALIDATE CONSTRAINT fk"
    )
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        alter = existing_table(stmt, ctx, "REFERENCES")
        if alter is None:
            return
        for action in alter.actions:
            for fk in added(action):
                if fk.kind not in ("FOREIGN", "REFERENCES") or fk.not_valid:
                    continue
                refs = stmt.find("REFERENCES", start=fk.at)
                target = stmt.name_at(refs + 1) if refs is not None else None
                name = fk.name or "fk"
                hint = (
                    f"ALTER TABLE {alter.name} ADD CONSTRAINT {name} FOREIGN KEY (...) "
                    f"REFERENCES {target or '...'} (...) NOT VALID; then, in a later "
                    f"transaction, ALTER TABLE {alter.name} VALIDATE CONSTRAINT {name}"
                )
                if fk.column is not None:
                    hint = f"add column {fk.column} without REFERENCES, then: {hint}"
                what = target or "the referenced table"
                message = (
                    f"foreign key on existing table {alter.name} without NOT VALID checks every "
                    f"row while writes to {alter.name} and {what} wait"
                )
                if fk.column is not None and not _filled(action):
                    message = (
                        f"column {fk.column} added to existing table {alter.name} with "
                        f"REFERENCES locks {alter.name} (ACCESS EXCLUSIVE) and {what} (SHARE ROW "
                        "EXCLUSIVE) together, and a column constraint cannot be NOT VALID"
                    )
                yield self.finding(ctx, stmt, message, at=fk.at, hint=hint)


def _filled(action: Span) -> bool:
    """An `ADD COLUMN` with a non-NULL DEFAULT: every row gets a value to check."""
    at = action.find("DEFAULT", depth=action.stmt.depth(action.start))
    return at is not None and action.kw(at + 1) != "NULL"
