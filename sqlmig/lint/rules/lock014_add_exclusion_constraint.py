"""`ADD CONSTRAINT ... EXCLUDE` on an existing table: an index build and check, fully locked.

## What it catches

`ALTER TABLE ... ADD [CONSTRAINT name] EXCLUDE [USING method] (...)` on a table this file did
not create, also inside DO blocks (guarded or not) and in a multi-action `ALTER TABLE`. An
`EXCLUDE` declared in `CREATE TABLE`, or added to a table created earlier in the same file, is
not reported.

## Why it hurts

Adding an exclusion constraint takes an ACCESS EXCLUSIVE lock, then builds its index (usually
GiST) over every row and checks every pair that conflicts: no reads, no writes until it is done,
and GiST builds are slow. Unlike CHECK and FOREIGN KEY there is no `NOT VALID` form, and unlike
UNIQUE and PRIMARY KEY no `USING INDEX` form, so the lock cannot be avoided for an existing,
populated table. A conflicting pair of rows makes it fail at the very end.

## Example

```sql
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
    EXCLUDE USING gist (room_id WITH =, during WITH &&);
```

## Use instead

- Declare the constraint when the table is created (`CREATE TABLE ... (..., EXCLUDE USING
  gist (...))`): on an empty table it costs nothing.
- For an existing table: create a new table with the constraint, copy the rows over in
  batches (dual-writing meanwhile), and swap; or enforce the rule in a trigger for new rows.
- Or run it in an announced maintenance window, with `SET lock_timeout` so that it gives up
  rather than queueing traffic behind it, and check for conflicting rows beforehand.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import existing_table
from sqlmig.lint.rules._table_adds import added_constraint


class AddExclusionConstraint(Rule):
    id = "LOCK014"
    slug = "add-exclusion-constraint"
    hint = (
        "declare EXCLUDE at CREATE TABLE time; for an existing table: a new table plus a copy, "
        "or an announced maintenance window"
    )
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        alter = existing_table(stmt, ctx)
        if alter is None:
            return
        for action in alter.actions:
            exclude = added_constraint(action, "EXCLUDE")
            if exclude is not None:
                yield self.finding(
                    ctx,
                    stmt,
                    f"ADD ... EXCLUDE builds and checks its index on {alter.name} under an "
                    "ACCESS EXCLUSIVE lock; an exclusion constraint has no NOT VALID form",
                    at=exclude,
                )
