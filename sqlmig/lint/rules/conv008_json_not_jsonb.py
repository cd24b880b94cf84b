"""A `json` column rather than `jsonb`: no equality, no GIN index, re-parsed on every read.

## What it catches

A column type `json` (also `json[]` and `pg_catalog.json`) in `CREATE TABLE`,
`ALTER TABLE ... ADD COLUMN`, `ALTER COLUMN ... TYPE`, a composite type's attributes and a
domain's base type, inside DO blocks too. Not reported: `jsonb`, casts such as
`payload::json`, function signatures (`RETURNS json`), PL/pgSQL variables, a column merely
*named* `json`, and temporary tables (scratch data).

## Why it hurts

`json` stores the input text verbatim and re-parses it for every `->`, `->>` or
`json_*` call. It has no equality operator, so a table with a `json` column cannot be used
with `SELECT DISTINCT`, `UNION`, `GROUP BY` or `IN (...)` on that column (`could not identify
an equality operator for type json`), cannot carry a unique or btree index on it, and has no
GIN operator class, so containment queries (`@>`, `?`) scan the whole table.

Switching later with `ALTER COLUMN ... TYPE jsonb USING payload::jsonb` rewrites the table
and its indexes under an ACCESS EXCLUSIVE lock, silently keeps only the last of duplicate
keys, and fails (after all that work) on any stored `\\u0000`, which `jsonb` rejects.

## Example

```sql
ALTER TABLE webhooks ADD COLUMN IF NOT EXISTS payload json;
```

## Use instead

```sql
ALTER TABLE webhooks ADD COLUMN IF NOT EXISTS payload jsonb;
```

Keep `json` only when the exact text must survive (key order, duplicate keys, whitespace:
a signed webhook body that is verified later), and say so:
`-- sqlmig:ignore CONV008 stores the signed body verbatim`.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._conv import column_types, described, type_words


class JsonNotJsonb(Rule):
    id = "CONV008"
    slug = "json-not-jsonb"
    severity = "warning"
    hint = "use jsonb (binary, indexable with GIN, has equality)"
    starts = ("CREATE", "ALTER")

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        for owner, column in column_types(ctx, stmt):
            if type_words(column.type) == ("json",):
                yield self.finding(
                    ctx,
                    stmt,
                    f"{described(owner, column)} is json: no equality operator, no GIN "
                    "index, re-parsed on every read",
                    at=column.type.start,
                    hint=f"declare {column.name} jsonb",
                )
