"""Seed `INSERT` with neither `ON CONFLICT` nor `WHERE NOT EXISTS`: a re-run duplicates or fails.

## What it catches

Which INSERTs are seeds (the decision this rule makes):

- literal rows, `INSERT ... VALUES (...)`, `INSERT ... SELECT <constants>` without FROM, or
  `DEFAULT VALUES`, into any table, one created earlier in the same file included: with
  `CREATE TABLE IF NOT EXISTS` the table, and its rows, survive a run that failed later;
- rows copied from other tables, `INSERT ... SELECT ... FROM` (or, in a DO block, `VALUES`
  built from loop variables such as `VALUES (rec.id, rec.total)`), into a table that existed
  before the file: a re-run copies them a second time.

Copying rows into a table created earlier in this file is the backfill of the new table, not a
seed, and is not reported. Also not reported: an INSERT with `ON CONFLICT`; one whose query
leaves out the rows already there (`WHERE NOT EXISTS (...)`, `NOT IN (SELECT ...)`, `EXCEPT`,
a `LEFT JOIN ... IS NULL` anti-join); one inside a DO block that checks first (`IF NOT EXISTS
(SELECT 1 FROM roles WHERE ...) THEN INSERT ...`) or catches `unique_violation`; an INSERT
into a table that an earlier statement of the file empties (`DELETE FROM t ...`, `TRUNCATE
t`) or drops; an INSERT into a temporary table. WITH queries that end in an INSERT are read
the same way; INSERTs in function bodies are never linted.

## Why it hurts

Re-run after a partial failure (a lock timeout on a later statement, a killed deploy), a seed
INSERT either fails on the primary key (`duplicate key value violates unique constraint
"roles_pkey"`, 23505) and leaves the deploy stuck, or, on a table without a unique key,
silently inserts the reference rows a second time: two "admin" roles, two copies of every
setting, each later lookup by name returning two rows.

## Example

```sql
INSERT INTO roles (name, description) VALUES
    ('admin', 'Full access'),
    ('viewer', 'Read only');
```

## Use instead

```sql
INSERT INTO roles (name, description) VALUES
    ('admin', 'Full access'),
    ('viewer', 'Read only')
ON CONFLICT (name) DO NOTHING;   -- or DO UPDATE SET description = EXCLUDED.description
```

or, for a table without a unique key on the natural key:

```sql
INSERT INTO roles (name, description)
SELECT 'admin', 'Full access'
WHERE NOT EXISTS (SELECT 1 FROM roles WHERE name = 'admin');
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._idem import fresh_table, guarded, sql

# Words in VALUES rows that are not references to a variable or a column.
_CONSTANTS: Final = frozenset(
    {
        "TRUE",
        "FALSE",
        "NULL",
        "DEFAULT",
        "ARRAY",
        "ROW",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "CURRENT_TIMESTAMP",
        "LOCALTIME",
        "LOCALTIMESTAMP",
        "CURRENT_USER",
        "SESSION_USER",
        "CURRENT_ROLE",
        "USER",
        "CAST",
        "AS",
        "AND",
        "OR",
        "NOT",
        "IS",
        "IN",
        "LIKE",
        "ILIKE",
        "BETWEEN",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "DISTINCT",
        "FROM",
        "WITH",
        "WITHOUT",
        "TIME",
        "ZONE",
        "VARYING",
        "PRECISION",
        "INTERVAL",
    }
)


class InsertWithoutConflictGuard(Rule):
    id = "IDEM007"
    slug = "insert-without-conflict-guard"
    hint = (
        "INSERT ... ON CONFLICT (key) DO NOTHING (or DO UPDATE), or INSERT ... SELECT ... "
        "WHERE NOT EXISTS (SELECT 1 FROM t WHERE key = ...)"
    )
    starts = ("INSERT", "WITH", "DELETE", "TRUNCATE")

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        emptied: dict[str, list[ObjectName]] = {}  # tables an earlier DELETE/TRUNCATE emptied
        for stmt in ctx.starting_with(*self.starts):
            first = stmt.kw(0)
            if first in ("DELETE", "TRUNCATE"):
                for gone in _emptied(stmt):
                    emptied.setdefault(gone.name, []).append(gone)
                continue
            into = _target(stmt)
            table = stmt.name_at(into) if into is not None else None
            if into is None or table is None or guarded(ctx, stmt) or _filtered(stmt):
                continue
            if fresh_table(ctx, stmt, table):
                continue
            if any(t.same(table) for t in emptied.get(table.name, ())):
                continue
            copies = _copies_rows(stmt, table.end)
            if copies and ctx.created_before(stmt, "table", table):
                continue  # the backfill of a table this file created
            what = f"INSERT ... SELECT into existing table {sql(table)}"
            if not copies:
                what = f"seed INSERT into {sql(table)}"
            yield self.finding(
                ctx,
                stmt,
                f"{what} has neither ON CONFLICT nor WHERE NOT EXISTS: a re-run of the "
                "migration inserts the rows again (duplicates, or a unique violation that "
                "stops the deploy)",
                at=into,
                hint=(
                    f"INSERT INTO {sql(table)} ... ON CONFLICT (<key>) DO NOTHING, or "
                    f"INSERT INTO {sql(table)} (...) SELECT ... WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {sql(table)} WHERE <key> = ...)"
                ),
            )


def _target(stmt: Stmt) -> int | None:
    """Index of the table name of ``[WITH ...] INSERT INTO name``."""
    if stmt.kw(0) == "INSERT":
        return 2 if stmt.kw(1) == "INTO" else None
    at = stmt.find("INSERT", "INTO", depth=0)
    return None if at is None else at + 2


def _filtered(stmt: Stmt) -> bool:
    """ON CONFLICT, or a query that leaves out the rows already there (or moves them with
    ``WITH moved AS (DELETE ... RETURNING ...)``)."""
    if stmt.has_words("ON", "CONFLICT") or stmt.has_words("NOT", "EXISTS"):
        return True
    if stmt.has_words("NOT", "IN", "(", "SELECT") or stmt.has_words("EXCEPT"):
        return True
    if stmt.kw(0) == "WITH" and stmt.has_words("DELETE", "FROM"):
        return True
    return stmt.has_words("LEFT", "JOIN|OUTER") and stmt.has_words("IS", "NULL")


def _copies_rows(stmt: Stmt, i: int) -> bool:
    """Whether the rows (from word ``i``, after the table name) come from other rows: a query
    reading tables (``SELECT ... FROM``, ``TABLE t``), or VALUES built from variables or
    columns (``VALUES (rec.id, rec.name)`` in a DO loop) rather than literals."""
    if stmt.kw(i) == "AS":
        i += 2
    if stmt.kw(i) == "(" and stmt.kw(i + 1) not in ("SELECT", "WITH", "VALUES", "("):
        i = stmt.group_end(i) + 1  # the column list
    if stmt.kw(i) == "OVERRIDING":
        i += 3
    while stmt.kw(i) == "(":
        i += 1
    first = stmt.kw(i)
    if first == "VALUES":  # only PL/pgSQL variables can feed VALUES rows from other rows
        return stmt.in_do and _references(stmt, i + 1)
    if first not in ("SELECT", "WITH"):
        return first == "TABLE"  # DEFAULT VALUES: literal
    depth = stmt.depth(i)
    return any(stmt.kw(k) == "FROM" and stmt.depth(k) == depth for k in range(i, len(stmt)))


def _references(stmt: Stmt, i: int) -> bool:
    """Whether the VALUES rows from word ``i`` name a variable or column (subqueries, function
    names, typed literals, casts and constants aside)."""
    end = len(stmt)
    while i < end:
        kw = stmt.kw(i)
        if kw == "(" and stmt.kw(i + 1) in ("SELECT", "WITH"):
            i = stmt.group_end(i) + 1
            continue
        if stmt.depth(i) == 0 and kw in ("ON", "RETURNING"):
            return False
        if stmt.kind(i) in ("ident", "qident") and _variable(stmt, i):
            return True
        i += 1
    return False


def _variable(stmt: Stmt, i: int) -> bool:
    if stmt.kw(i) in _CONSTANTS or stmt.kw(i - 1) in ("::", "AS"):
        return False
    following = stmt.kind(i + 1)
    return stmt.kw(i + 1) not in ("(", "[") and following not in ("string", "dollar")


def _emptied(stmt: Stmt) -> list[ObjectName]:
    """The tables of ``DELETE FROM t ...`` / ``TRUNCATE [TABLE] [ONLY] a, b``."""
    if stmt.starts_with("DELETE", "FROM"):
        name = stmt.name_from(2)
        return [name] if name is not None else []
    i = 2 if stmt.kw(1) == "TABLE" else 1
    names = []
    while (name := stmt.name_from(i)) is not None:
        names.append(name)
        i = name.end + (1 if stmt.kw(name.end) == "*" else 0)
        if stmt.kw(i) != ",":
            break
        i += 1
    return names
