"""A created name that is not lower snake_case: quoted mixed case, or unquoted camelCase.

## What it catches

The names a statement creates, and only those (references such as `REFERENCES "Users"` or
`ON "Orders"` are reported where the object is created):

- tables (also views, materialized views, foreign tables), their columns and their
  constraints (`CONSTRAINT name`), in `CREATE TABLE` and `ALTER TABLE ... ADD`;
- indexes, sequences, types and domains (and a composite type's attributes), schemas,
  functions, procedures and triggers;
- the new name of any `RENAME ... TO new_name`.

A quoted name must match `^[a-z_][a-z0-9_]*$` (`"user_id"` and `"order"` pass, `"userId"`,
`"Users"`, `"USERS"` and `"first-name"` do not). An unquoted name may be all lower case or all
upper case (`USERS` folds to `users`) but not mixed (`UserAccounts` folds to
`useraccounts`). Not checked: extension names (`CREATE EXTENSION "uuid-ossp"` is fixed by the
extension), row-level security policies (a label no query names: `CREATE POLICY "Owners can
read their orders"` is the documented idiom), temporary tables (their names vanish with the
session), a view's output aliases (`SELECT ... AS "orderId"`; an explicit column list is
checked), enum labels and other string literals, comments, function bodies.

## Why it hurts

PostgreSQL folds unquoted names to lower case. A table created as `"UserAccounts"` must be
quoted, with exactly that case, in every query, ORM mapping, psql session and dashboard
forever after; `SELECT * FROM UserAccounts` fails with `relation "useraccounts" does not
exist`. An unquoted `UserAccounts` works, but the catalog says `useraccounts`, so the name in
the migration is not the name anyone sees in `\\d`, in error messages or in `pg_stat_*`, and
the next engineer who quotes it gets a different object.

## Example

```sql
CREATE TABLE IF NOT EXISTS "UserAccounts" (
    "userId" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    createdAt timestamptz NOT NULL DEFAULT now()
);
```

## Use instead

```sql
CREATE TABLE IF NOT EXISTS user_accounts (
    user_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._conv import added_column, table_of

SNAKE_RE: Final = re.compile(r"[a-z_][a-z0-9_]*")
# CREATE [modifiers] <kind> [IF NOT EXISTS] name: the kinds whose name we choose.
_KINDS: Final = frozenset(
    {"TABLE", "VIEW", "INDEX", "SEQUENCE", "TYPE", "DOMAIN", "SCHEMA"}
    | {"FUNCTION", "PROCEDURE", "TRIGGER"}
)
_MODIFIERS: Final = frozenset(
    {"OR", "REPLACE", "GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED", "FOREIGN"}
    | {"MATERIALIZED", "RECURSIVE", "UNIQUE", "CONSTRAINT", "EVENT"}
)
_CAMEL_RE: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class IdentifierNotSnakeCase(Rule):
    id = "CONV002"
    slug = "identifier-not-snake-case"
    severity = "warning"
    hint = "name it in lower snake_case, unquoted"
    starts = ("CREATE", "ALTER")

    def check_statement(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        names = _created(ctx, stmt) if stmt.kw(0) == "CREATE" else _altered(stmt)
        for i in dict.fromkeys(names):
            problem = _problem(stmt, i)
            if problem is not None:
                word = stmt.word(i)
                name = word.text if word.kind == "ident" else word.name or ""
                yield self.finding(ctx, stmt, problem, at=i, hint=f"call it {snake(name)}")


def _problem(stmt: Stmt, i: int) -> str | None:
    word = stmt.word(i)
    if word.kind == "qident":
        name = word.name or ""
        if SNAKE_RE.fullmatch(name):
            return None
        return f'"{name}" is not snake_case: it must be quoted, with this case, in every query'
    if word.kind != "ident" or word.text in (word.text.lower(), word.text.upper()):
        return None
    return f"{word.text} is mixed case: PostgreSQL folds it to {word.name}"


def snake(name: str) -> str:
    """``userId`` -> ``user_id``; ``first-name`` -> ``first_name``."""
    out = re.sub(r"[^a-z0-9_]+", "_", _CAMEL_RE.sub("_", name).lower()).strip("_")
    return out if out and not out[0].isdigit() else f"_{out}"


def _created(ctx: FileContext, stmt: Stmt) -> list[int]:
    """Word indexes of the names a CREATE statement chooses."""
    i = 1
    while stmt.kw(i) in _MODIFIERS:
        i += 1
    if stmt.kw(i) not in _KINDS or stmt.starts_with("SCHEMA", "AUTHORIZATION", at=i):
        return []
    name = stmt.name_from(i + 1)
    out = [] if name is None else [name.end - 1]
    table = table_of(ctx, stmt)
    if table is not None and table.temporary:
        return []  # a scratch table's names vanish with the session
    if table is not None:
        out += [column.at for column in table.columns]
        out += _constraint_names(stmt)
    elif name is not None and stmt.kw(name.end) == "(" and stmt.kw(i) == "VIEW":
        out += _column_list(stmt, name.end)
    elif name is not None and stmt.starts_with("AS", "(", at=name.end):
        out += _column_list(stmt, name.end + 1)
    return out


def _column_list(stmt: Stmt, at: int) -> list[int]:
    """The first word of each element of the group at ``at``: `(a int, b text)`, `(a, b)`."""
    group = Span(stmt, at + 1, stmt.group_end(at))
    return [part.start for part in group.split() if stmt.kind(part.start) in ("ident", "qident")]


def _constraint_names(span: Span) -> list[int]:
    found = []
    at = span.find("CONSTRAINT")
    while at is not None:
        found.append(at + 1)
        at = span.find("CONSTRAINT", start=at + 1)
    return found


def _altered(stmt: Stmt) -> list[int]:
    """Word indexes of the names an ALTER statement chooses: columns and constraints it adds,
    the new name of a RENAME."""
    kind = stmt.kw(2) if stmt.kw(1) in ("MATERIALIZED", "FOREIGN") else stmt.kw(1)
    if kind not in _KINDS:
        return []
    alter = stmt.alter_table() if stmt.kw(1) == "TABLE" else None
    if alter is None:
        whole = Span(stmt, 1, len(stmt))
        added = whole.find("ADD", "ATTRIBUTE|CONSTRAINT", depth=0)
        return _renamed(whole) + ([] if added is None else [added + 2])
    out: list[int] = []
    for action in alter.actions:
        column = added_column(action)
        if column is not None:
            out.append(column.at)
        if action.kw(action.start) == "ADD":
            out += _constraint_names(action)
        out += _renamed(action)
    return out


def _renamed(action: Span) -> list[int]:
    rename = action.find("RENAME", depth=0)
    to = action.find("TO", start=rename, depth=0) if rename is not None else None
    return [] if to is None else [to + 1]
