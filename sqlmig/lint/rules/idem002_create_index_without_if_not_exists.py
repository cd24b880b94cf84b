"""`CREATE INDEX` without `IF NOT EXISTS`: the migration cannot be re-run after a failure.

## What it catches

`CREATE [UNIQUE] INDEX [CONCURRENTLY]` with no `IF NOT EXISTS` (PostgreSQL 9.5+), including
inside a DO block and on `ONLY` a partitioned parent. An unnamed index (`CREATE INDEX ON t
(c)`) is reported too: it cannot take `IF NOT EXISTS`, and a re-run silently builds a second
copy (`t_c_idx1`).

Not reported: a DO block that checks the catalog first (`IF NOT EXISTS (SELECT FROM
pg_indexes ...)`, `to_regclass(...) IS NULL`) or catches `duplicate_table`; an index that an
earlier statement of the file drops (`DROP INDEX [CONCURRENTLY] IF EXISTS name`, the retry
form for concurrent builds); an index on a table the file drops earlier (and so re-creates)
or on a temporary table it created.

## Why it hurts

A migration that stops halfway (a lock timeout, a killed deploy, a segmented file whose
`CONCURRENTLY` segment failed after earlier segments committed) is run again from the start.
A bare `CREATE INDEX` then fails with `relation "orders_customer_id_idx" already exists`, and
the deploy stays stuck until someone drops the index by hand; an unnamed one instead doubles
the write cost of the table for good.

`IF NOT EXISTS` has one trap: a failed `CREATE INDEX CONCURRENTLY` leaves an INVALID index
behind (`pg_index.indisvalid = false`), and `IF NOT EXISTS` then keeps it, unused by the
planner but still maintained on every write. sqlmig drops such an INVALID index before it
retries a concurrent build; other runners need `DROP INDEX CONCURRENTLY IF EXISTS` first.

## Example

```sql
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
```

## Use instead

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
```

or, where the runner does not clean up INVALID indexes:

```sql
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._idem import fresh_table, guarded, sql

CREATE_INDEX: Final = "CREATE [UNIQUE] INDEX"


class CreateIndexWithoutIfNotExists(Rule):
    id = "IDEM002"
    slug = "create-index-without-if-not-exists"
    hint = "CREATE INDEX [CONCURRENTLY] IF NOT EXISTS <name> ON ..."
    starts = ("CREATE",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        at = stmt.match(CREATE_INDEX)
        if at is None or guarded(ctx, stmt):
            return
        concurrently = stmt.kw(at) == "CONCURRENTLY"
        i = at + 1 if concurrently else at
        if stmt.starts_with("IF", "NOT", "EXISTS", at=i):
            return
        on = stmt.find("ON", start=i, depth=0)
        if on is None:
            return
        name = stmt.name_at(i) if i < on else None
        table = stmt.name_from(on + 1)
        if ctx.dropped_before(stmt, "index", name) or fresh_table(ctx, stmt, table):
            return
        only = "ONLY " if stmt.kw(on + 1) == "ONLY" else ""
        words = ["CREATE", "UNIQUE" if stmt.kw(1) == "UNIQUE" else "", "INDEX"]
        words += ["CONCURRENTLY" if concurrently else "", "IF NOT EXISTS"]
        words += [sql(name, f"{table.name if table else 'table'}_..._idx")]
        rewrite = " ".join(w for w in words if w) + f" ON {only}{sql(table)} (...)"
        if name is None:
            message = (
                f"unnamed CREATE INDEX on {sql(table)}: every re-run of the migration builds "
                "another copy of the index; name it and add IF NOT EXISTS"
            )
        else:
            message = (
                f"CREATE INDEX {sql(name)} without IF NOT EXISTS fails when the migration is "
                f're-run after a partial failure (relation "{name.name}" already exists)'
            )
        if concurrently:
            rewrite += (
                "; a failed concurrent build leaves an INVALID index that IF NOT EXISTS "
                "keeps: sqlmig drops it before retrying, elsewhere DROP INDEX CONCURRENTLY "
                "IF EXISTS first"
            )
        yield self.finding(ctx, stmt, message, at=i if name else at - 1, hint=rewrite)
