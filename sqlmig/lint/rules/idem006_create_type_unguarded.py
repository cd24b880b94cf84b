"""`CREATE TYPE`/`DOMAIN` with no guard, `ALTER TYPE ... ADD VALUE` without `IF NOT EXISTS`.

## What it catches

`CREATE TYPE` (enum, composite, range, base or shell type) and `CREATE DOMAIN`, which have no
`IF NOT EXISTS` in PostgreSQL, outside a guard; and `ALTER TYPE ... ADD VALUE 'label'` without
`IF NOT EXISTS` (PostgreSQL 9.3+), including inside a DO block.

Not reported: a statement inside a DO block that catches `duplicate_object` (or checks
`pg_type` / `pg_enum` first); a type or domain that an earlier statement of the file drops
(`DROP TYPE IF EXISTS mood; CREATE TYPE mood ...`).

## Why it hurts

Re-run after a partial failure, `CREATE TYPE` fails with `type "order_status" already
exists` and `ADD VALUE` with `enum label "refunded" already exists` (both SQLSTATE 42710),
and the deploy stays stuck until someone edits the database by hand. Types are usually
created first in a file, so any later failure in the file hits this on the retry.

`ADD VALUE` has two more traps worth knowing: before PostgreSQL 12 it cannot run inside a
transaction block, and since 12 the new label cannot be used in the same transaction that
added it (`unsafe use of new value`): keep it in its own migration.

## Example

```sql
CREATE TYPE order_status AS ENUM ('pending', 'paid');
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'paid';
```

## Use instead

```sql
DO $$
BEGIN
    CREATE TYPE order_status AS ENUM ('pending', 'paid');
EXCEPTION
    WHEN duplicate_object THEN NULL;
END
$$;
ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded' AFTER 'paid';
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._idem import guarded, sql

CREATE_TYPE: Final = "CREATE TYPE|DOMAIN"
ADD_VALUE: Final = "ALTER TYPE"


class CreateTypeUnguarded(Rule):
    id = "IDEM006"
    slug = "create-type-unguarded"
    hint = (
        "DO $$ BEGIN CREATE TYPE ...; EXCEPTION WHEN duplicate_object THEN NULL; END $$; "
        "and ALTER TYPE ... ADD VALUE IF NOT EXISTS '...'"
    )
    starts = ("CREATE", "ALTER")

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        if guarded(ctx, stmt):
            return
        at = stmt.match(CREATE_TYPE)
        if at is not None:
            yield from self._create(stmt, ctx, at)
        elif stmt.match(ADD_VALUE) is not None:
            yield from self._add_value(stmt, ctx)

    def _create(self, stmt: Stmt, ctx: FileContext, at: int) -> Iterator[Finding]:
        name = stmt.name_at(at)
        if name is None or ctx.dropped_before(stmt, "type", name):
            return
        kind = stmt.kw(1)
        body = " ".join(stmt.sql.split())
        body = body if len(body) <= 80 else f"CREATE {kind} {sql(name)} ..."
        yield self.finding(
            ctx,
            stmt,
            f"CREATE {kind} {sql(name)} fails when the migration is re-run after a partial "
            f"failure (type already exists); PostgreSQL has no CREATE {kind} IF NOT EXISTS",
            at=at,
            hint=(f"DO $$ BEGIN {body}; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"),
        )

    def _add_value(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        name = stmt.name_at(2)
        if name is None or not stmt.starts_with("ADD", "VALUE", at=name.end):
            return
        at = name.end + 2
        if stmt.starts_with("IF", "NOT", "EXISTS", at=at):
            return
        label = stmt.word(at).text if at < len(stmt) else "'...'"
        yield self.finding(
            ctx,
            stmt,
            f"ALTER TYPE {sql(name)} ADD VALUE {label} without IF NOT EXISTS fails when the "
            "migration is re-run after a partial failure (enum label already exists)",
            at=at,
            hint=f"ALTER TYPE {sql(name)} ADD VALUE IF NOT EXISTS {label} ...",
        )
