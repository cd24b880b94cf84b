"""A `timestamp` column without time zone: what its values mean depends on the session.

## What it catches

A column type `timestamp`, `timestamp(n)`, `timestamp [(n)] without time zone` (also as an
array, or `pg_catalog.timestamp`) in `CREATE TABLE`, `ALTER TABLE ... ADD COLUMN`,
`ALTER COLUMN ... TYPE`, a composite type's attributes and a domain's base type, inside DO
blocks too. Not reported: `timestamptz` / `timestamp with time zone`, casts and `USING`
expressions (`USING created_at AT TIME ZONE 'UTC'` is the fix, not the problem), function
signatures, a column merely *named* `timestamp`, and temporary tables (scratch data).

## Why it hurts

`timestamp` stores a wall-clock reading with no zone. Every conversion to or from an instant
uses the session's `TimeZone` setting: `now()` (a `timestamptz`) written into a `timestamp`
column by an application server in UTC and by a cron job in Europe/Paris gives values an hour
or two apart for the same moment, and an hour repeats every autumn when clocks go back, so
ordering and `created_at > now() - interval '1 hour'` comparisons silently break.
`timestamptz` takes the same 8 bytes, stores UTC and converts on display.

Fixing it later is expensive: `ALTER COLUMN ... TYPE timestamptz` takes an ACCESS EXCLUSIVE
lock and rewrites the table and its indexes (PostgreSQL 12 and later skip the rewrite only
when the session's `TimeZone` is UTC), and every reader must agree on what the old values
meant.

## Example

```sql
CREATE TABLE IF NOT EXISTS events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    happened_at timestamp NOT NULL DEFAULT now()
);
```

## Use instead

```sql
CREATE TABLE IF NOT EXISTS events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    happened_at timestamptz NOT NULL DEFAULT now()
);
```

A genuinely zone-less value (a store's opening hour, a birthday) is better as `time` or
`date`; if a local wall-clock time really is meant, keep `timestamp` with
`-- sqlmig:ignore CONV007 <reason>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._conv import column_types, described, modifier, type_words

_WITHOUT_ZONE: Final = frozenset({("timestamp",), ("timestamp", "without", "time", "zone")})


class TimestampWithoutTimeZone(Rule):
    id = "CONV007"
    slug = "timestamp-without-time-zone"
    severity = "warning"
    hint = "use timestamptz (timestamp with time zone): same 8 bytes, stores an instant"
    starts = ("CREATE", "ALTER")

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        for owner, column in column_types(ctx, stmt):
            if type_words(column.type) not in _WITHOUT_ZONE:
                continue
            yield self.finding(
                ctx,
                stmt,
                f"{described(owner, column)} is timestamp without time zone: its values are "
                "read in each session's TimeZone",
                at=column.type.start,
                hint=f"declare it timestamptz{modifier(column.type)} (timestamp with time zone)",
            )
