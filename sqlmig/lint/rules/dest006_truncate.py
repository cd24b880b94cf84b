"""`TRUNCATE` in a migration: every row is gone, and `CASCADE` empties other tables too.

## What it catches

`TRUNCATE [TABLE] [ONLY] a [*] [, b ...] [RESTART IDENTITY] [CASCADE]`, also inside DO blocks,
when at least one of the tables was not created earlier in the same file. Not reported: a
table (temporary ones included) that the migration itself created and filled, and down files.

## Why it hurts

`TRUNCATE` empties the table at once and, unlike `DELETE`, takes an ACCESS EXCLUSIVE lock:
every reader of the table queues behind it (and it queues behind any long query already
running on it). It is not MVCC-safe: a transaction whose snapshot predates it sees the table
empty. Committed, the rows are gone; only a backup brings them back. `CASCADE` also truncates
every table with a foreign key to it, recursively, without naming them, so one statement can
empty half the schema; `RESTART IDENTITY` resets the sequences, so ids that other systems
still hold are handed out again.

## Example

```sql
TRUNCATE TABLE sessions CASCADE;
```

## Use instead

Delete what has to go, in batches, with a WHERE that says what it is, outside the schema
migration (a job), and never with `CASCADE`:

```sql
DELETE FROM sessions
WHERE id IN (SELECT id FROM sessions WHERE expires_at < now() LIMIT 10000);
```
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._dest import name_list


class Truncate(Rule):
    id = "DEST006"
    slug = "truncate"
    applies_to_down = False
    hint = "delete in batches with a WHERE (in a job, not a migration); never TRUNCATE ... CASCADE"
    starts = ("TRUNCATE",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        first = stmt.name_from(2 if stmt.kw(1) == "TABLE" else 1)
        if first is None:
            return
        existing = [n for n in name_list(stmt, first) if not ctx.created_before(stmt, "table", n)]
        if not existing:
            return
        cascade = stmt.find("CASCADE", start=first.end) is not None
        also = ", and CASCADE also every table that references it" if cascade else ""
        yield self.finding(
            ctx,
            stmt,
            f"TRUNCATE empties {', '.join(map(str, existing))} at once under an ACCESS "
            f"EXCLUSIVE lock{also}; the rows are gone for good",
            at=existing[0].start,
        )
