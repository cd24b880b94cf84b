"""A one-column primary key that is neither `uuid` nor an auto-generated integer.

## What it catches

A one-column `PRIMARY KEY` (on the column, as a table constraint, or added later with
`ALTER TABLE ... ADD [CONSTRAINT c] PRIMARY KEY (col)`) whose column is declared in this file
or in an earlier migration of the folder with a built-in type other than `uuid`, or with an
integer type that has no generator. An integer counts as generated when it is
`serial`/`bigserial`/`smallserial`, `GENERATED ... AS IDENTITY`, or has a function default
(`DEFAULT nextval('...')`), set on the column or later in the file with
`ALTER COLUMN ... SET DEFAULT` / `ADD GENERATED ... AS IDENTITY` (the pg_dump layout).

Not reported: composite primary keys (join tables), a key column that is also a foreign key
(a one-to-one table borrows its parent's key), columns of a user-defined type (an enum or
domain the linter cannot see through, e.g. a lookup table keyed by an enum), keys whose
column the linter cannot find, and temporary tables.

## Why it hurts

A natural key (an email, a SKU, a country code as `text`) changes: every foreign key that
points at it must change with it, in one transaction that locks every referencing table, and
text keys make every referencing index and join larger and slower than an 8-byte integer or a
16-byte uuid. An `integer` key with no generator pushes id allocation into the application,
where concurrent inserts race for `max(id) + 1` and fail with unique violations.

## Example

```sql
CREATE TABLE IF NOT EXISTS products (
    sku text PRIMARY KEY,
    name text NOT NULL
);
```

## Use instead

```sql
CREATE TABLE IF NOT EXISTS products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL
);
```

or `id uuid PRIMARY KEY DEFAULT gen_random_uuid()` (PostgreSQL 13+; `uuidv7()` on 18).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final
from weakref import WeakKeyDictionary

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._conv import (
    Column,
    Table,
    added_column,
    added_constraint,
    alter_column,
    altered_type,
    table_of,
    type_words,
)

_SERIAL: Final = frozenset(
    {("serial",), ("serial4",), ("bigserial",), ("serial8",), ("smallserial",), ("serial2",)}
)
_INTEGER: Final = frozenset(
    {("smallint",), ("int2",), ("integer",), ("int",), ("int4",), ("bigint",), ("int8",)}
)
# Built-in types that are neither uuid nor integers: a natural key.
_NATURAL: Final = frozenset(
    {("text",), ("varchar",), ("character", "varying"), ("char", "varying"), ("char",)}
    | {("character",), ("bpchar",), ("citext",), ("name",), ("bytea",), ("numeric",)}
    | {("decimal",), ("real",), ("float4",), ("float8",), ("float",), ("double", "precision")}
    | {("date",), ("timestamp",), ("timestamptz",), ("timestamp", "with", "time", "zone")}
    | {("timestamp", "without", "time", "zone"), ("time",), ("timetz",), ("interval",)}
    | {("boolean",), ("bool",), ("inet",), ("cidr",), ("macaddr",), ("macaddr8",), ("money",)}
    | {("json",), ("jsonb",), ("xml",), ("oid",)}
)


@dataclass
class _Col:
    type: Span
    generated: bool
    foreign: bool


@dataclass
class _Key:
    stmt: Stmt
    at: int
    table: ObjectName
    column: str


@dataclass
class _File:
    """The columns a file declares (by table and column name) and its one-column keys."""

    columns: dict[tuple[str, str], _Col] = field(default_factory=dict)
    keys: list[_Key] = field(default_factory=list)


_SCANNED: WeakKeyDictionary[FileContext, _File] = WeakKeyDictionary()


class PrimaryKeyType(Rule):
    id = "CONV003"
    slug = "primary-key-type"
    severity = "warning"
    hint = (
        "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, or id uuid PRIMARY KEY DEFAULT "
        "gen_random_uuid(); keep the natural key as a UNIQUE column"
    )
    starts = ("CREATE", "ALTER")

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        scanned = _scan(ctx)
        earlier: list[FileContext] | None = None
        for key in scanned.keys:
            where = (key.table.name, key.column)
            column = scanned.columns.get(where)
            if column is None:
                earlier = ctx.earlier_files() if earlier is None else earlier
                column = next((c for f in reversed(earlier) if (c := _columns(f, where))), None)
            problem = _problem(column) if column is not None else None
            if problem is None or column is None:
                continue
            hint = self.hint
            if type_words(column.type) in _INTEGER:
                hint = f"{key.column} {column.type.text} GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            yield self.finding(
                ctx,
                key.stmt,
                f"primary key {key.table}({key.column}) is {problem}",
                at=key.at,
                hint=hint,
            )


def _columns(ctx: FileContext, where: tuple[str, str]) -> _Col | None:
    scanned = _SCANNED.get(ctx)
    if scanned is None:
        scanned = _SCANNED[ctx] = _scan(ctx)
    return scanned.columns.get(where)


def _problem(column: _Col) -> str | None:
    words = type_words(column.type)
    if column.foreign or words == ("uuid",) or words in _SERIAL:
        return None
    if words in _INTEGER:
        return None if column.generated else f"{column.type.text} with no generator"
    return f"{column.type.text}: a natural key" if words in _NATURAL else None


def _scan(ctx: FileContext) -> _File:
    out = _File()
    for stmt in ctx.starting_with("CREATE", "ALTER"):
        table = table_of(ctx, stmt)
        if table is not None:
            if not table.temporary:
                _table(stmt, table, out)
            continue
        alter = stmt.alter_table()
        if alter is not None:
            for action in alter.actions:
                _action(stmt, alter.name, action, out)
    return out


def _table(stmt: Stmt, table: Table, out: _File) -> None:
    for column in table.columns:
        _column(stmt, table.name, column, out)
    for constraint in table.constraints:
        _constraint(stmt, table.name, constraint.kind, constraint.at, constraint.columns, out)


def _column(stmt: Stmt, table: ObjectName, column: Column, out: _File) -> None:
    generated = _generated(column) or type_words(column.type) in _SERIAL
    foreign = column.references() is not None
    out.columns[table.name, column.name] = _Col(column.type, generated, foreign)
    key = column.find("PRIMARY", "KEY")
    if key is not None:
        out.keys.append(_Key(stmt, key, table, column.name))


def _constraint(
    stmt: Stmt, table: ObjectName, kind: str, at: int, columns: tuple[str | None, ...], out: _File
) -> None:
    if len(columns) != 1 or columns[0] is None:
        return
    if kind == "PRIMARY":
        out.keys.append(_Key(stmt, at, table, columns[0]))
    elif kind == "FOREIGN":
        known = out.columns.get((table.name, columns[0]))
        if known is not None:
            known.foreign = True


def _action(stmt: Stmt, table: ObjectName, action: Span, out: _File) -> None:
    column = added_column(action)
    if column is not None:
        _column(stmt, table, column, out)
        return
    constraint = added_constraint(action)
    if constraint is not None:
        _constraint(stmt, table, constraint.kind, constraint.at, constraint.columns, out)
        return
    changed = altered_type(action)
    known = out.columns.get((table.name, changed.name)) if changed is not None else None
    if changed is not None and known is not None:
        known.type = changed.type
        return
    target = alter_column(action)
    known = out.columns.get((table.name, target[1])) if target is not None else None
    if known is not None and (
        action.find("ADD", "GENERATED") is not None or _function_default(action, "SET")
    ):
        known.generated = True


def _generated(column: Column) -> bool:
    """GENERATED ... AS IDENTITY, or a DEFAULT that calls a function (nextval)."""
    if column.find("AS", "IDENTITY") is not None:
        return True
    return _function_default(column.rest, "")


def _function_default(span: Span, before: str) -> bool:
    at = span.find(before, "DEFAULT") if before else span.find("DEFAULT")
    if at is None:
        return False
    i = at + (2 if before else 1)
    stmt = span.stmt
    while stmt.kw(i) == "(":  # DEFAULT (nextval('s'))
        i += 1
    return stmt.kind(i) == "ident" and (
        stmt.kw(i + 1) == "(" or (stmt.kw(i + 1) == "." and stmt.kw(i + 3) == "(")
    )
