"""Unbalanced transaction control: a `BEGIN` never committed, a nested `BEGIN`, a stray `COMMIT`.

## What it catches

The file's own transaction statements, in order, as PostgreSQL runs them:

- a `BEGIN` / `START TRANSACTION` with no `COMMIT`, `END`, `ROLLBACK`, `ABORT` or `PREPARE
  TRANSACTION` after it in the file (reported on the BEGIN);
- a `BEGIN` while a transaction the file opened is still open (PostgreSQL ignores it with
  `WARNING: there is already a transaction in progress`);
- a `COMMIT` / `END` / `ROLLBACK` / `ABORT` with no transaction the file opened (a stray one,
  or the second COMMIT after a nested BEGIN).

`COMMIT AND CHAIN` keeps the transaction open; `ROLLBACK TO SAVEPOINT`, `SAVEPOINT` and
`RELEASE` do not open or close anything. The `BEGIN` / `END` of DO blocks and function bodies
(PL/pgSQL blocks, `BEGIN ATOMIC`), and `COMMIT` inside procedures and DO blocks, are not
transaction statements of the file and are not counted.

## Why it hurts

An unterminated `BEGIN` leaves the transaction open when the file ends: psql and most runners
roll it back when the session closes (the migration silently did nothing, yet may be recorded
as applied), and a pooled connection hands the open transaction, with its locks, to the next
user. A nested `BEGIN` is ignored, so the first `COMMIT` ends the only transaction and every
statement after it runs in autocommit, one by one, with no way to roll them back together. A
stray `COMMIT` inside a runner's transaction (Flyway, golang-migrate, Rails) commits the
runner's work early and breaks the all-or-nothing guarantee the runner promised.

sqlmig owns the transaction of an ordinary file and refuses transaction statements in it when
it runs; they are allowed in a `-- sqlmig:no-transaction` file, where this rule keeps them
balanced.

## Example

```sql
BEGIN;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
BEGIN;
UPDATE orders SET note = '' WHERE note IS NULL;
COMMIT;
```

## Use instead

```sql
BEGIN;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
UPDATE orders SET note = '' WHERE note IS NULL;
COMMIT;
```

or no transaction statements at all: sqlmig runs each file in one transaction itself (in
segments when it holds a `CONCURRENTLY` statement).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext, transaction_control
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule


class UnbalancedTransaction(Rule):
    id = "TX001"
    slug = "unbalanced-transaction"
    hint = "balance every BEGIN with one COMMIT, or drop both and let the runner own transactions"
    starts = ("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "PREPARE")

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        opened: Stmt | None = None  # the BEGIN of the transaction open now
        for stmt in ctx.starting_with(*self.starts):
            control = transaction_control(stmt)
            word = "START TRANSACTION" if stmt.kw(0) == "START" else stmt.kw(0)
            if control == "begin":
                if opened is None:
                    opened = stmt
                    continue
                yield self.finding(
                    ctx,
                    stmt,
                    f"nested {word}: the transaction opened at line {opened.line} is still open; "
                    "PostgreSQL ignores this BEGIN, and the next COMMIT ends the outer "
                    "transaction too",
                    hint="remove the inner BEGIN (and its COMMIT), or use SAVEPOINT name",
                )
            elif control in ("commit", "rollback"):
                if opened is None:
                    yield self.finding(
                        ctx,
                        stmt,
                        f"stray {word}: no transaction of the file is open here (no BEGIN "
                        "before it, or an earlier COMMIT already ended it); inside a runner's "
                        "transaction it ends that transaction early",
                        hint="remove it, or add the BEGIN it closes",
                    )
                elif not (stmt.has_words("AND", "CHAIN") and not stmt.has_words("NO", "CHAIN")):
                    opened = None
        if opened is not None:
            yield self.finding(
                ctx,
                opened,
                f"{'START TRANSACTION' if opened.kw(0) == 'START' else 'BEGIN'} at line "
                f"{opened.line} is never committed: the "
                "transaction is still open when the file ends (rolled back when the session "
                "closes, or left open with its locks on a pooled connection)",
                hint="add COMMIT; at the end of the transaction, or remove the BEGIN",
            )
