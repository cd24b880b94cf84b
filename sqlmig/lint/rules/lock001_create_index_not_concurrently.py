"""`CREATE INDEX` without `CONCURRENTLY` on an existing table blocks its writes for the build.

## What it catches

`CREATE [UNIQUE] INDEX` without `CONCURRENTLY`, including inside a DO block, on a table that
this file did not create earlier (a table created earlier in the same file is new and empty to
everyone else, so a plain build there is fine). `CREATE INDEX ... ON ONLY parent` is not
reported: it builds nothing (it is the first step of indexing a partitioned table).

## Why it hurts

A plain `CREATE INDEX` holds a SHARE lock on the table for the whole build: reads go on, but
every INSERT, UPDATE and DELETE waits, for minutes on a large table. Everything queued behind
those writers waits too, so an index build in a deploy looks like an outage.

## Example

```sql
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
```

## Use instead

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
```

sqlmig runs a `CONCURRENTLY` statement alone, outside any transaction, without being told
(and drops an INVALID index left by a failed build before retrying it). `CONCURRENTLY`
cannot run inside a DO block or a function: move the statement out of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule

CREATE_INDEX: Final = "CREATE [UNIQUE] INDEX"


class CreateIndexNotConcurrently(Rule):
    id = "LOCK001"
    slug = "create-index-not-concurrently"
    hint = "CREATE INDEX CONCURRENTLY IF NOT EXISTS ... (sqlmig runs it outside a transaction)"
    starts = ("CREATE",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        at = stmt.match(CREATE_INDEX)
        if at is None or stmt.kw(at) == "CONCURRENTLY":
            return
        on = stmt.find("ON", start=at, depth=0)
        if on is None or stmt.kw(on + 1) == "ONLY":
            return
        table = stmt.name_at(on + 1)
        if table is None or ctx.created_before(stmt, "table", table):
            return
        unique = "UNIQUE " if stmt.kw(1) == "UNIQUE" else ""
        index = stmt.name_from(at) or "<name>"
        rewrite = f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {index} ON {table} (...)"
        hint = f"{rewrite} (sqlmig runs it alone, outside a transaction)"
        if stmt.in_do:
            hint = f"move it out of the DO block: {rewrite}"
        yield self.finding(
            ctx,
            stmt,
            f"CREATE INDEX on existing table {table} without CONCURRENTLY blocks writes to it "
            "(SHARE lock) for the whole build",
            at=at - 1,
            hint=hint,
        )
