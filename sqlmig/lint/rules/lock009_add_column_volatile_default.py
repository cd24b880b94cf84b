"""`ADD COLUMN ... DEFAULT <volatile>` rewrites the whole table under an ACCESS EXCLUSIVE lock.

## What it catches

`ALTER TABLE ... ADD [COLUMN] ... DEFAULT expr` on a table this file did not create, where the
default calls a volatile function: `gen_random_uuid()`, `uuid_generate_v4()` (and v1, v1mc),
`uuidv4()`/`uuidv7()` (PG 18), `random()`, `clock_timestamp()`, `timeofday()`, `nextval()`,
`gen_random_bytes()`, or a function defined in this file or an earlier migration without
`IMMUTABLE`/`STABLE` (PostgreSQL's default is `VOLATILE`). An unknown function is reported when
its name says it generates values (`uuid`, `ulid`, `random`, `nanoid`, `ksuid`, `snowflake`,
`nextval`, `gen_`, `generate`). Also inside DO blocks, every action of a multi-action
`ALTER TABLE`, `IF NOT EXISTS` or not (the column is usually missing when it runs).

Not reported: constant defaults and STABLE or IMMUTABLE ones (`now()`, `CURRENT_TIMESTAMP`,
`'pending'`, `'{}'::jsonb`, `uuid_generate_v5(...)`), `ALTER COLUMN ... SET DEFAULT` (it only
affects future rows), and tables created earlier in the same file.

## Why it hurts

Since PostgreSQL 11, adding a column with a constant or STABLE default is instant: the value is
evaluated once and stored in the catalog. A volatile default must give every existing row its
own value, so PostgreSQL rewrites the table and rebuilds all its indexes while holding an
ACCESS EXCLUSIVE lock: no reads, no writes for the duration, minutes to hours on a big table,
plus twice its disk space. (Before PostgreSQL 11, any non-NULL default rewrote the table.)

## Example

```sql
ALTER TABLE orders ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
```

## Use instead

```sql
ALTER TABLE orders ADD COLUMN IF NOT EXISTS public_id uuid;                -- instant
ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();   -- new rows only
-- then backfill existing rows in batches, outside this migration:
UPDATE orders SET public_id = gen_random_uuid()
WHERE id IN (SELECT id FROM orders WHERE public_id IS NULL LIMIT 10000);
-- and, once done: CHECK (public_id IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import existing_table
from sqlmig.lint.rules._table_adds import Column, added_columns

VOLATILE: Final = frozenset(
    {
        "random",
        "random_normal",
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "currval",
        "lastval",
        "setval",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuid_generate_v7",
        "gen_random_bytes",
        "gen_salt",
    }
)
# Built-in STABLE/IMMUTABLE functions whose names the heuristic below would catch.
NOT_VOLATILE: Final = frozenset(
    {"uuid_generate_v3", "uuid_generate_v5", "uuid_nil", "uuid_ns_dns", "uuid_ns_url"}
    | {"uuid_ns_oid", "uuid_ns_x500", "uuid_extract_timestamp", "uuid_extract_version"}
)
GENERATOR_RE: Final = re.compile(r"uuid|ulid|rand|nanoid|ksuid|snowflake|nextval|gen_|generate")
# Words that end a DEFAULT expression in a column definition.
_END: Final = frozenset(
    {"CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "REFERENCES", "GENERATED", "COLLATE", "NULL"}
    | {"NOT", "DEFERRABLE", "INITIALLY"}
)


class AddColumnVolatileDefault(Rule):
    id = "LOCK009"
    slug = "add-column-volatile-default"
    hint = (
        "add the column without the default, then ALTER COLUMN ... SET DEFAULT (new rows "
        "only), then backfill existing rows in batches"
    )
    starts = ("ALTER",)

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        alter = existing_table(stmt, ctx)
        if alter is None:
            return
        for column in added_columns(alter):
            default = column.find("DEFAULT")
            if default is None:
                continue
            call = _volatile_call(column, default, ctx)
            if call is None:
                continue
            yield self.finding(
                ctx,
                stmt,
                f"ADD COLUMN {column.name} with the volatile default {call}() rewrites "
                f"{alter.name} and its indexes under an ACCESS EXCLUSIVE lock",
                at=default,
                hint=(
                    f"ADD COLUMN IF NOT EXISTS {column.name} <type>; then ALTER COLUMN "
                    f"{column.name} SET DEFAULT {call}(); then backfill existing rows in batches"
                ),
            )


def _volatile_call(column: Column, default: int, ctx: FileContext) -> str | None:
    """The first volatile function the DEFAULT expression at ``default`` calls, or None."""
    stmt = column.action.stmt
    level = stmt.depth(default)
    for i in range(default + 1, column.action.end):
        kw = stmt.kw(i)
        if i > default + 1 and stmt.depth(i) == level and kw in _END:
            return None
        name = stmt.name(i)
        if name is not None and stmt.kw(i + 1) == "(" and _volatile(name, ctx):
            return name
    return None


def _volatile(name: str, ctx: FileContext) -> bool:
    if name in VOLATILE:
        return True
    if name in NOT_VOLATILE:
        return False
    declared = _declared_volatility(name, ctx)
    if declared is not None:
        return declared
    return GENERATOR_RE.search(name) is not None


def _declared_volatility(name: str, ctx: FileContext) -> bool | None:
    """Whether a function ``name`` created in this file or an earlier migration is volatile
    (None when neither defines it). Only asked for unknown functions: rare."""
    for file in (ctx, *reversed(ctx.earlier_files())):
        for create in reversed(file.starting_with("CREATE")):
            if not create.is_routine:
                continue
            at = create.match("CREATE [OR REPLACE] FUNCTION")
            defined = create.name_at(at) if at is not None else None
            if defined is not None and defined.name == name:
                return not create.has_words("IMMUTABLE|STABLE", depth=0)
    return None
