"""A CHECK added to an existing table without `NOT VALID`: a scan under ACCESS EXCLUSIVE.

## What it catches

`ALTER TABLE ... ADD [CONSTRAINT c] CHECK (...)` without `NOT VALID`, a `CHECK` written on
`ADD COLUMN` (it is added to the existing table, and checked, the same way), and
`ALTER DOMAIN ... ADD [CONSTRAINT c] CHECK (...)` without `NOT VALID` (it checks every column
of that domain in every table), on a table or domain this file did not create earlier,
including inside a DO block. Not reported: CHECKs in `CREATE TABLE` or on a table created
earlier in the same file.

## Why it hurts

`ADD CONSTRAINT ... CHECK` takes an ACCESS EXCLUSIVE lock on the table and keeps it while it
reads every row to prove the condition. Nothing can read or write the table meanwhile: on a
large table that is minutes of downtime, and the requests queued behind it pile up until
connection pools run dry.

## Example

```sql
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total_cents >= 0);
```

## Use instead

```sql
-- migration 1: brief lock, no scan; new and updated rows are checked from now on
ALTER TABLE orders
    ADD CONSTRAINT orders_total_positive CHECK (total_cents >= 0) NOT VALID;

-- migration 2 (or after a COMMIT): scans under SHARE UPDATE EXCLUSIVE, reads and writes go on
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
```

For a new column, add it plain first, then its CHECK as above.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import added, existing_table


class CheckWithoutNotValid(Rule):
    id = "LOCK005"
    slug = "check-without-not-valid"
    hint = (
        "ADD CONSTRAINT c CHECK (...) NOT VALID; then, in a later transaction, "
        "VALIDATE CONSTRAINT c"
    )
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        if stmt.starts_with("ALTER", "DOMAIN"):
            yield from self._domain(stmt, ctx)
            return
        alter = existing_table(stmt, ctx, "CHECK")
        if alter is None:
            return
        for action in alter.actions:
            for check in added(action):
                if check.kind == "CHECK" and not check.not_valid:
                    on = f"column {check.column} of " if check.column else ""
                    yield self._finding(ctx, stmt, "TABLE", alter.name, check.name, check.at, on)

    def _domain(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        domain = stmt.name_at(2)
        if domain is None or ctx.created_before(stmt, "type", domain):
            return
        checks = added(Span(stmt, domain.end, len(stmt)))
        if checks and checks[0].kind == "CHECK" and not checks[0].not_valid:
            yield self._finding(ctx, stmt, "DOMAIN", domain, checks[0].name, checks[0].at, "")

    def _finding(
        self,
        ctx: FileContext,
        stmt: Stmt,
        what: str,
        name: ObjectName,
        constraint: str | None,
        at: int,
        on: str,
    ) -> Finding:
        c = constraint or "c"
        scans = (
            "every row under an ACCESS EXCLUSIVE lock: no reads or writes meanwhile"
            if what == "TABLE"
            else "every column of this domain in every table, blocking writes to them"
        )
        hint = (
            f"ALTER {what} {name} ADD CONSTRAINT {c} CHECK (...) NOT VALID; then, in a later "
            f"transaction, ALTER {what} {name} VALIDATE CONSTRAINT {c}"
        )
        return self.finding(
            ctx,
            stmt,
            f"CHECK on {on}existing {what.lower()} {name} without NOT VALID scans {scans}",
            at=at,
            hint=f"add the column without its CHECK, then: {hint}" if on else hint,
        )
