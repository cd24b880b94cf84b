"""`VALIDATE CONSTRAINT` in the transaction of its `ADD ... NOT VALID`: the ADD's lock stays.

## What it catches

`ALTER TABLE t VALIDATE CONSTRAINT c` when `ALTER TABLE t ADD CONSTRAINT c ... NOT VALID` ran
earlier in the same transaction, on a table this file did not create earlier (DO bodies
included). What shares a transaction follows how sqlmig runs the file: the whole file when it
runs in one transaction; one segment (the statements between two `CONCURRENTLY` statements)
when it runs in segments; an explicit `BEGIN ... COMMIT` block in a
`-- sqlmig:no-transaction` file. An explicit `COMMIT` between the two statements separates
them. Not reported: a `VALIDATE` whose `ADD` is in another migration or another transaction.

## Why it hurts

`NOT VALID` exists to split the work: the `ADD` takes its strong lock (ACCESS EXCLUSIVE for
a CHECK, SHARE ROW EXCLUSIVE on both tables for a foreign key) only for a moment, and the
`VALIDATE` scans under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on. In one
transaction the ADD's lock is held until COMMIT, so the scan runs while writes (and for a
CHECK, reads) are blocked: exactly what the plain `ADD CONSTRAINT` would have done.

## Example

```sql
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total_cents >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
```

## Use instead

Two migrations (or, in a `-- sqlmig:no-transaction` file, two transactions):

```sql
-- 041_add_orders_total_check.up.sql
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total_cents >= 0) NOT VALID;

-- 042_validate_orders_total_check.up.sql
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext, transaction_control
from sqlmig.lint.model import ObjectName, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import added, existing_table, validated

_CONTROL = ("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "PREPARE")


class ValidateInSameTransaction(Rule):
    id = "LOCK006"
    slug = "validate-in-same-transaction"
    hint = "VALIDATE CONSTRAINT in a later migration, or after a COMMIT"
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        # Constraint name -> (transaction, table) of each ADD ... NOT VALID so far.
        added_at: dict[str, list[tuple[tuple[int, int], ObjectName]]] = {}
        epoch = 0  # explicit BEGIN/COMMIT/ROLLBACK seen so far
        for stmt in ctx.starting_with("ALTER", *_CONTROL):
            if transaction_control(stmt) in ("begin", "commit", "rollback"):
                epoch += 1
                continue
            alter = existing_table(stmt, ctx, "VALID", "VALIDATE")
            if alter is None:
                continue
            tx, table = (stmt.tx, epoch), alter.name
            for action in alter.actions:
                name = validated(action)
                same = added_at.get(name or "", ())
                if name is not None and any(t == tx and n.same(table) for t, n in same):
                    yield self._finding(ctx, stmt, action.start, table, name)
                for constraint in added(action):
                    if constraint.not_valid and constraint.name is not None:
                        added_at.setdefault(constraint.name, []).append((tx, table))

    def _finding(
        self, ctx: FileContext, stmt: Stmt, at: int, table: ObjectName, name: str
    ) -> Finding:
        return self.finding(
            ctx,
            stmt,
            f"VALIDATE CONSTRAINT {name} runs in the transaction that added it NOT VALID: the "
            f"lock the ADD took on {table} is held for the whole scan",
            at=at,
            hint=f"move ALTER TABLE {table} VALIDATE CONSTRAINT {name} to a later migration "
            "(or after a COMMIT)",
        )
