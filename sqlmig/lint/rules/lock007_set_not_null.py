"""`ALTER COLUMN ... SET NOT NULL` on an existing table: a full scan under ACCESS EXCLUSIVE.

## What it catches

`ALTER TABLE t ALTER [COLUMN] c SET NOT NULL` (and PostgreSQL 18's `ADD [CONSTRAINT n] NOT NULL
c` without `NOT VALID`) on a table this file did not create earlier, including inside a DO
block, unless the file proves the column has no NULLs first with a validated CHECK: an
earlier `ADD CONSTRAINT n CHECK (c IS NOT NULL) NOT VALID` followed by `VALIDATE CONSTRAINT
n` (or a plain, valid one; `c IS NOT NULL AND ...` counts too), on the same table. A `DROP
CONSTRAINT` of such a helper right after the `SET NOT NULL`, or a `VALIDATE CONSTRAINT` of
one before it, is taken as that proof made by an earlier migration when the constraint is
named after the column (`orders_customer_id_not_null`, `..._nn`, `..._check`).

## Why it hurts

`SET NOT NULL` takes an ACCESS EXCLUSIVE lock and then reads the whole table to make sure no
row holds a NULL: no query can read or write the table until the scan ends. Since PostgreSQL
12 the scan is skipped when a valid CHECK constraint already proves `c IS NOT NULL`, and such
a CHECK can be added `NOT VALID` and validated under a lock that lets traffic through.

## Example

```sql
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
```

## Use instead

```sql
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null
    CHECK (customer_id IS NOT NULL) NOT VALID;
-- in a later transaction (next migration, or after a COMMIT):
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;  -- PG >= 12: no scan
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_id_not_null;
```

On PostgreSQL before 12 there is no cheap way: keep the CHECK constraint instead of the
NOT NULL, or schedule the scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import (
    added,
    altered_column,
    dropped,
    existing_table,
    not_null_columns,
    validated,
)

_NN_RE: Final = re.compile(r"(^|_)nn(_|$)")


@dataclass
class _Check:
    """A CHECK (col IS NOT NULL) added in this file."""

    table: ObjectName
    name: str | None
    columns: set[str]
    valid: bool


@dataclass
class _SetNotNull:
    stmt: Stmt
    table: ObjectName
    column: str
    at: int
    excused: bool = False  # its helper CHECK is dropped after it


@dataclass
class _File:
    """What one pass over the file's ALTER TABLEs learns, by table name."""

    checks: dict[str, list[_Check]] = field(default_factory=dict)
    suspects: dict[str, list[_SetNotNull]] = field(default_factory=dict)
    # Constraints made by earlier migrations, validated here: (table, name).
    validated: dict[str, list[tuple[ObjectName, str]]] = field(default_factory=dict)

    def read(self, stmt: Stmt, table: ObjectName, action: Span) -> None:
        checks = self.checks.setdefault(table.name, [])
        suspects = self.suspects.setdefault(table.name, [])
        for c in added(action):
            columns = not_null_columns(c.expr) if c.expr is not None else set()
            if c.kind == "CHECK" and columns:
                checks.append(_Check(table, c.name, columns, not c.not_valid))
            elif c.kind == "NOT NULL" and not c.not_valid:
                suspects.append(_SetNotNull(stmt, table, stmt.name(c.at + 2) or "?", c.at))
        name = validated(action)
        if name is not None and not self._validate(checks, table, name):
            self.validated.setdefault(table.name, []).append((table, name))
        name = dropped(action)
        if name is not None and not any(c.name == name for c in checks):  # made earlier
            for suspect in suspects:
                if suspect.table.same(table) and _helper(name, suspect.column):
                    suspect.excused = True
        altered = altered_column(action)
        if altered is not None and stmt.starts_with("SET", "NOT", "NULL", at=altered[1]):
            column, at = altered
            if not self._proven(table, column):
                suspects.append(_SetNotNull(stmt, table, column, at))

    def _validate(self, checks: list[_Check], table: ObjectName, name: str) -> bool:
        """Mark this file's CHECK ``name`` valid; False when the file did not make it."""
        found = [c for c in checks if c.name == name and c.table.same(table)]
        for check in found:
            check.valid = True
        return bool(found)

    def _proven(self, table: ObjectName, column: str) -> bool:
        """A valid CHECK (column IS NOT NULL) of this file, or a helper-looking constraint
        of an earlier migration validated here."""
        checks = self.checks.get(table.name, ())
        if any(c.valid and column in c.columns and c.table.same(table) for c in checks):
            return True
        earlier = self.validated.get(table.name, ())
        return any(t.same(table) and _helper(name, column) for t, name in earlier)


class SetNotNull(Rule):
    id = "LOCK007"
    slug = "set-not-null"
    hint = (
        "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c (later "
        "transaction); ALTER COLUMN col SET NOT NULL; DROP CONSTRAINT IF EXISTS c (PG >= 12)"
    )
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        state = _File()
        for stmt in ctx.starting_with("ALTER"):
            alter = existing_table(stmt, ctx, "NULL", "VALIDATE", "CONSTRAINT")
            if alter is not None:
                for action in alter.actions:
                    state.read(stmt, alter.name, action)
        for suspects in state.suspects.values():
            yield from (self._finding(ctx, s) for s in suspects if not s.excused)

    def _finding(self, ctx: FileContext, s: _SetNotNull) -> Finding:
        c = f"{s.table.name}_{s.column}_not_null"
        return self.finding(
            ctx,
            s.stmt,
            f"SET NOT NULL on {s.table}.{s.column} scans the whole table under an ACCESS "
            "EXCLUSIVE lock (no reads or writes meanwhile); no validated "
            f"CHECK ({s.column} IS NOT NULL) precedes it",
            at=s.at,
            hint=f"ALTER TABLE {s.table} ADD CONSTRAINT {c} CHECK ({s.column} IS NOT NULL) NOT "
            f"VALID; then in a later transaction VALIDATE CONSTRAINT {c}; SET NOT NULL; "
            f"DROP CONSTRAINT IF EXISTS {c} (PostgreSQL >= 12)",
        )


def _helper(constraint: str, column: str) -> bool:
    """A constraint named like the helper CHECK of SET NOT NULL on ``column``:
    ``<table>_<column>_not_null``, ``..._<column>_nn``, ``<column>_check``."""
    name = constraint.lower()
    helper = "null" in name or "check" in name or _NN_RE.search(name) is not None
    return helper and column.lower() in name
