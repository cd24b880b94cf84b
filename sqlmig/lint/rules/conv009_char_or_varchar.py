"""A `char(n)` or `varchar(n)` column: blank padding, or a limit that is costly to change.

## What it catches

A column type `char`, `char(n)`, `character(n)`, `bpchar`, `nchar(n)` (blank-padded), or
`varchar(n)` / `character varying(n)` with a length (also as arrays), in `CREATE TABLE`,
`ALTER TABLE ... ADD COLUMN`, `ALTER COLUMN ... TYPE`, a composite type's attributes and a
domain's base type, inside DO blocks too. Not reported: `varchar` without a length (it is
`text`), the internal one-byte type `"char"` (quoted), casts, function signatures, and
temporary tables (scratch data).

## Why it hurts

`char(n)` pads every value with spaces to `n` characters, stores and compares the padding in
surprising ways (`'a'::char(3) = 'a  '` but `length()` says 1 and `LIKE 'a %'` fails), and is
no faster than `text` in PostgreSQL: the storage is the same varlena.

`varchar(n)` is `text` plus a limit baked into the type. Raising the limit is metadata-only
since 9.2, but still an `ALTER COLUMN ... TYPE` that takes an ACCESS EXCLUSIVE lock (and
queues every query behind it while it waits); lowering it, or any change of a column that a
view depends on, means a scan or rewrite, or dropping and recreating the views. A limit on
`text` expressed as a CHECK constraint can be replaced online: add the new one `NOT VALID`,
`VALIDATE` it (SHARE UPDATE EXCLUSIVE: reads and writes go on), drop the old one.

## Example

```sql
CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    country char(2) NOT NULL,
    email varchar(320) NOT NULL
);
```

## Use instead

```sql
CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    country text NOT NULL CONSTRAINT users_country_len CHECK (char_length(country) = 2),
    email text NOT NULL CONSTRAINT users_email_len CHECK (char_length(email) <= 320)
);
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._conv import Column, column_types, described, modifier, type_words

_PADDED: Final = frozenset(
    {("char",), ("character",), ("bpchar",), ("nchar",)}
    | {("national", "character"), ("national", "char")}
)
_VARYING: Final = frozenset(
    {("varchar",), ("character", "varying"), ("char", "varying"), ("nchar", "varying")}
    | {("national", "character", "varying"), ("national", "char", "varying")}
)


class CharOrVarchar(Rule):
    id = "CONV009"
    slug = "char-or-varchar"
    severity = "info"
    hint = "use text, with CHECK (char_length(col) <= n) if the limit is a business rule"
    starts = ("CREATE", "ALTER")

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        for owner, column in column_types(ctx, stmt):
            problem = _problem(column)
            if problem is None:
                continue
            size = _limit(column)
            check = f" CHECK (char_length({column.name}) <= {size})" if size else ""
            yield self.finding(
                ctx,
                stmt,
                f"{described(owner, column)} is {column.type.text}: {problem}",
                at=column.type.start,
                hint=f"declare {column.name} text{check}",
            )


def _problem(column: Column) -> str | None:
    words = type_words(column.type)
    if words in _PADDED:
        return "blank-padded to its length, and no faster than text"
    if words in _VARYING and modifier(column.type):
        return (
            "changing the limit later is an ALTER COLUMN TYPE under an ACCESS EXCLUSIVE lock; "
            "a CHECK constraint on text can be replaced online"
        )
    return None


def _limit(column: Column) -> str:
    """The length limit: n of `(n)`; a bare `char` is char(1), a bare `bpchar` unlimited."""
    size = modifier(column.type).strip("() ")
    return size or ("1" if type_words(column.type) != ("bpchar",) else "")
