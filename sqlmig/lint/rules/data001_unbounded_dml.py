"""`UPDATE` or `DELETE` without a `WHERE`: every row of the table, in one transaction.

## What it catches

`UPDATE` and `DELETE` with no `WHERE` of their own (a `WHERE` only inside a subquery, or a
constant `WHERE true` / `WHERE 1 = 1`, bounds nothing), as a statement of the file, after a
`WITH`, as a data-modifying CTE (`WITH d AS (DELETE FROM t RETURNING *) ...`) and inside DO
blocks. Not reported: function and procedure bodies (they run when called, not when
migrating), `ON CONFLICT DO UPDATE` (one row per conflict), and a table created earlier in the
same file: filling a table that no other session can see yet is part of creating it, and
its size is what the migration itself just put in.

## Why it hurts

The whole table is rewritten in a single transaction: every row is locked until it commits,
so concurrent updates and deletes of any row queue behind the migration (and, through them,
the application); PostgreSQL's MVCC writes a new version of every row, so the table (and its
indexes, unless the update is HOT) can double in size until vacuum catches up; the WAL burst
lags replicas; and if the statement fails or is cancelled after an hour, everything is rolled
back and nothing was done. It also runs on every environment, with data sizes nobody tried.

## Example

```sql
ALTER TABLE orders ADD COLUMN IF NOT EXISTS currency text;
UPDATE orders SET currency = 'EUR';
```

## Use instead

Backfill in batches over key ranges, each batch its own transaction (a no-transaction
migration, or a job outside the schema migration):

```sql
-- sqlmig:no-transaction
UPDATE orders SET currency = 'EUR' WHERE id >= 1 AND id < 10001 AND currency IS NULL;
UPDATE orders SET currency = 'EUR' WHERE id >= 10001 AND id < 20001 AND currency IS NULL;
-- ...
```

For a small lookup table where one statement is fine, say so:
`-- sqlmig:ignore DATA001 <n> rows, reference data`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule

_VERBS: Final = frozenset({"UPDATE", "DELETE"})
_MAIN: Final = _VERBS | {"SELECT", "INSERT", "MERGE", "VALUES", "TABLE"}


class UnboundedDml(Rule):
    id = "DATA001"
    slug = "unbounded-dml"
    severity = "warning"
    hint = (
        "batch it over key ranges (UPDATE ... WHERE id >= a AND id < b), each batch its own "
        "transaction, in a no-transaction migration or a job"
    )
    starts = ("UPDATE", "DELETE", "WITH")

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        for verb in _verbs(stmt):
            found = _unbounded(stmt, verb)
            if found is None or ctx.created_before(stmt, "table", found):
                continue
            what = "UPDATE" if stmt.kw(verb) == "UPDATE" else "DELETE"
            yield self.finding(
                ctx,
                stmt,
                f"{what} of every row of {found} (no WHERE bounds it) in one transaction: the "
                "rows stay locked until it commits, and the table and WAL grow by a full copy",
                at=verb,
                hint=f"batch it: {what} ... WHERE id >= a AND id < b, each batch its own "
                "transaction (a no-transaction migration, or a job)",
            )


def _verbs(stmt: Stmt) -> Iterator[int]:
    """Indexes of the UPDATE/DELETE words that start a statement or a CTE body."""
    if stmt.kw(0) in _VERBS:
        yield 0
        return
    for i in range(1, len(stmt)):
        kw = stmt.kw(i)
        if stmt.depth(i) == 0 and kw in _MAIN:
            if kw in _VERBS:
                yield i
            return
        if kw in _VERBS and stmt.kw(i - 1) == "(" and stmt.depth(i) == 1:
            yield i  # a data-modifying CTE: WITH d AS (DELETE ...)


def _unbounded(stmt: Stmt, verb: int) -> ObjectName | None:
    """The table of the UPDATE/DELETE at ``verb`` when it has no WHERE of its own."""
    in_cte = verb > 0 and stmt.kw(verb - 1) == "("
    body = Span(stmt, verb, stmt.group_end(verb - 1) if in_cte else len(stmt))
    table = body.name_from(verb + 2 if stmt.kw(verb) == "DELETE" else verb + 1)
    where = body.find("WHERE", depth=stmt.depth(verb))
    if table is None or (where is not None and not _constant_true(body, where)):
        return None
    return table


def _constant_true(body: Span, where: int) -> bool:
    """``WHERE true`` or ``WHERE 1 = 1`` (two equal literals), up to the end or RETURNING."""
    stmt = body.stmt
    end = body.find("RETURNING", start=where) or body.end
    if end - where == 2:
        return body.kw(where + 1) == "TRUE"
    a, b = where + 1, where + 3
    literal = stmt.kind(a) in ("number", "string")
    return (
        end - where == 4
        and literal
        and body.kw(a + 1) == "="
        and stmt.word(a).text == stmt.word(b).text
    )
