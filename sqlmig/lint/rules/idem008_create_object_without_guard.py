"""A view, function, procedure, trigger, schema, sequence or extension created with no guard.

## What it catches

- `CREATE VIEW`, `CREATE FUNCTION`, `CREATE PROCEDURE` and `CREATE TRIGGER` without `OR
  REPLACE` (`OR REPLACE TRIGGER` needs PostgreSQL 14; a `CONSTRAINT TRIGGER` cannot take it);
- `CREATE SCHEMA`, `CREATE SEQUENCE`, `CREATE EXTENSION` and `CREATE MATERIALIZED VIEW`
  without `IF NOT EXISTS` (PostgreSQL 9.3+ for schemas, 9.5+ for sequences and materialized
  views);

including inside a DO block. Not reported: temporary views and sequences (a re-run is a new
session); a DO block that checks the catalog first or catches the duplicate error; an object
that an earlier statement of the file drops (`DROP TRIGGER IF EXISTS t ON tbl; CREATE TRIGGER
t ...`, the usual form before PostgreSQL 14; also views, functions, procedures, sequences,
schemas, extensions); a trigger on a table the file drops earlier (and so re-creates). The
bodies of the functions themselves are never linted.

## Why it hurts

Re-run after a partial failure, each of these fails: `relation "active_users" already
exists` (42P07), `function "set_updated_at" already exists with same argument types` (42723),
`trigger "orders_set_updated_at" for relation "orders" already exists` (42710), `schema
"billing" already exists` (42P06), `extension "pg_trgm" already exists` (42710). The deploy
stays stuck until someone drops the object by hand. `CREATE OR REPLACE` also makes the usual
follow-up migration (a changed view or function body) a one-line edit instead of a DROP and
CREATE pair. (`CREATE OR REPLACE VIEW` can only add columns at the end; a view whose columns
change needs `DROP VIEW IF EXISTS` first.)

## Example

```sql
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER orders_set_updated_at BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE EXTENSION pg_trgm;
```

## Use instead

```sql
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE OR REPLACE TRIGGER orders_set_updated_at BEFORE UPDATE ON orders   -- PostgreSQL 14+
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE EXTENSION IF NOT EXISTS pg_trgm;
```

Before PostgreSQL 14: `DROP TRIGGER IF EXISTS orders_set_updated_at ON orders;` then
`CREATE TRIGGER ...`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext, ObjectKind
from sqlmig.lint.model import ObjectName, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._idem import fresh_table, guarded, rewrite, sql

# CREATE [modifiers] <kind>: the kinds that take OR REPLACE (the others: IF NOT EXISTS).
_REPLACE: Final = frozenset({"VIEW", "FUNCTION", "PROCEDURE", "TRIGGER"})
_MODIFIERS: Final = frozenset(
    {"OR", "REPLACE", "TEMP", "TEMPORARY", "RECURSIVE", "CONSTRAINT", "UNLOGGED"}
)
# Kinds the file context tracks drops of (dropped_before); others are tracked here.
_TRACKED: Final[dict[str, ObjectKind]] = {
    "VIEW": "view",
    "MATERIALIZED": "table",
    "SEQUENCE": "sequence",
    "SCHEMA": "schema",
}
_DROP_OWN: Final = "DROP FUNCTION|PROCEDURE|ROUTINE|TRIGGER|EXTENSION [IF EXISTS]"


class CreateObjectWithoutGuard(Rule):
    id = "IDEM008"
    slug = "create-object-without-guard"
    hint = (
        "CREATE OR REPLACE VIEW|FUNCTION|PROCEDURE|TRIGGER ..., "
        "CREATE SCHEMA|SEQUENCE|EXTENSION IF NOT EXISTS ..."
    )
    starts = ("CREATE", "DROP")

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        dropped: dict[tuple[str, str], list[ObjectName | None]] = {}  # (kind, name) -> tables
        for stmt in ctx.starting_with(*self.starts):
            if stmt.kw(0) == "DROP":
                _record_drop(stmt, dropped)
            elif not guarded(ctx, stmt):
                yield from self._create(stmt, ctx, dropped)

    def _create(
        self, stmt: Stmt, ctx: FileContext, dropped: dict[tuple[str, str], list[ObjectName | None]]
    ) -> Iterator[Finding]:
        found = _unguarded(stmt)
        if found is None:
            return
        kind, label, at = found
        name = stmt.name_at(at + 1 if stmt.kw(at) == "AUTHORIZATION" else at)
        if name is None or _dropped(ctx, stmt, kind, name, dropped):
            return
        guard = "OR REPLACE" if kind in _REPLACE else "IF NOT EXISTS"
        message = (
            f"CREATE {label} {sql(name)} without {guard} fails when the migration is re-run "
            f"after a partial failure ({label.lower()} already exists)"
        )
        if kind in ("FUNCTION", "PROCEDURE"):
            fix = f"CREATE OR REPLACE {kind} {sql(name)}(...) ..."
        elif kind == "TRIGGER":
            drop = f"DROP TRIGGER IF EXISTS {sql(name)} ON {sql(_on_table(stmt, name.end))};"
            fix = f"{rewrite(stmt, 1, guard)} (PostgreSQL 14+), or {drop} before it"
            if stmt.kw(1) == "CONSTRAINT":
                fix = f"{drop} before it (a constraint trigger cannot take OR REPLACE)"
                message = (
                    f"CREATE CONSTRAINT TRIGGER {sql(name)} fails when the migration is re-run "
                    "after a partial failure (trigger already exists)"
                )
        else:
            fix = rewrite(stmt, at, guard) if guard == "IF NOT EXISTS" else rewrite(stmt, 1, guard)
        yield self.finding(ctx, stmt, message, at=at, hint=fix)


def _unguarded(stmt: Stmt) -> tuple[str, str, int] | None:
    """(kind, label, index of the name) of a CREATE this rule covers that has no guard."""
    i = 1
    while stmt.kw(i) in _MODIFIERS:
        i += 1
    kind, modifiers = stmt.kw(i), stmt.kws[1:i]
    if "TEMP" in modifiers or "TEMPORARY" in modifiers:
        return None
    if kind in _REPLACE:
        return None if "REPLACE" in modifiers else (kind, kind, i + 1)
    if kind == "MATERIALIZED" and stmt.kw(i + 1) == "VIEW":
        at, label = i + 2, "MATERIALIZED VIEW"
    elif kind in ("SCHEMA", "SEQUENCE", "EXTENSION"):
        at, label = i + 1, kind
    else:
        return None
    return None if stmt.starts_with("IF", "NOT", "EXISTS", at=at) else (kind, label, at)


def _on_table(stmt: Stmt, after: int) -> ObjectName | None:
    on = stmt.find("ON", start=after, depth=0)
    return stmt.name_at(on + 1) if on is not None else None


def _dropped(
    ctx: FileContext,
    stmt: Stmt,
    kind: str,
    name: ObjectName,
    dropped: dict[tuple[str, str], list[ObjectName | None]],
) -> bool:
    tracked = _TRACKED.get(kind)
    if tracked is not None:
        return ctx.dropped_before(stmt, tracked, name)
    group = "ROUTINE" if kind in ("FUNCTION", "PROCEDURE") else kind
    tables = dropped.get((group, name.name), ())
    if kind != "TRIGGER":
        return bool(tables)
    table = _on_table(stmt, name.end)
    if fresh_table(ctx, stmt, table):
        return True
    return any(t is not None and table is not None and t.same(table) for t in tables)


def _record_drop(stmt: Stmt, dropped: dict[tuple[str, str], list[ObjectName | None]]) -> None:
    """Note functions, procedures, triggers and extensions the file drops."""
    at = stmt.match(_DROP_OWN)
    if at is None:
        return
    kind = stmt.kw(1)
    group = "ROUTINE" if kind in ("FUNCTION", "PROCEDURE", "ROUTINE") else kind
    if kind == "TRIGGER":
        name = stmt.name_at(at)
        if name is not None:
            dropped.setdefault((group, name.name), []).append(_on_table(stmt, name.end))
        return
    end = len(stmt)
    i = at
    while i < end and (name := stmt.name_at(i)) is not None:
        dropped.setdefault((group, name.name), []).append(None)
        i = name.end
        if stmt.kw(i) == "(":
            i = stmt.group_end(i) + 1
        if stmt.kw(i) != ",":
            break
        i += 1
