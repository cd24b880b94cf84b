"""`DROP` without `IF EXISTS`: a re-run fails on the object the first run already dropped.

## What it catches

Every `DROP <object>` statement without `IF EXISTS` (tables, indexes, views, materialized
views, types, domains, functions, procedures, triggers, sequences, schemas, extensions,
policies, ...; `DROP OWNED`, which has no such clause and is idempotent, excepted), and the
`ALTER TABLE` actions `DROP [COLUMN] c`, `DROP CONSTRAINT c`, `ALTER COLUMN c DROP IDENTITY`
and `DROP EXPRESSION` without `IF EXISTS` (also `ALTER DOMAIN ... DROP CONSTRAINT` and
`ALTER TYPE ... DROP ATTRIBUTE`), including inside a DO block. `ALTER TABLE IF EXISTS t DROP
COLUMN c` is still reported: its `IF EXISTS` is about the table, not the column.

Not reported: a DO block that checks the catalog first or catches `undefined_object` /
`undefined_table` / `undefined_column` / `undefined_function`; an object this file created
earlier (`CREATE FUNCTION tmp_backfill() ...; SELECT tmp_backfill(); DROP FUNCTION
tmp_backfill();` re-creates it on every run, so the drop always finds it), a column or
constraint an earlier `ALTER TABLE` of the file added, and a table the file drops earlier.

## Why it hurts

A migration that stops after its `DROP` (a lock timeout on the next statement, a killed
deploy, a segmented file) is run again from the start, and the `DROP` then fails with
`table "orders_archive" does not exist` (SQLSTATE 42P01; 42704 for an index or constraint,
42703 for a column, 42883 for a function). Down files are re-run the most (`down`, `redo`,
a retried rollback during an incident), and a down that cannot be re-run turns a failed
rollback into manual surgery.

## Example

```sql
DROP INDEX CONCURRENTLY orders_status_idx;
ALTER TABLE orders DROP COLUMN legacy_status;
```

## Use instead

```sql
DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
ALTER TABLE orders DROP COLUMN IF EXISTS legacy_status;
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlmig.lint.context import FileContext, ObjectKind
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._idem import constraint_start, fresh_table, guarded, rewrite, sql

# DROP <kind> where the kind is more than one word; any other kind is one word.
_LONG_KINDS: Final = (
    "MATERIALIZED VIEW",
    "FOREIGN TABLE",
    "FOREIGN DATA WRAPPER",
    "EVENT TRIGGER",
    "ACCESS METHOD",
    "OPERATOR CLASS|FAMILY",
    "TEXT SEARCH CONFIGURATION|DICTIONARY|PARSER|TEMPLATE",
    "USER MAPPING",
)
# Kinds the file context tracks (created_before); others are tracked here.
_TRACKED: Final[dict[str, ObjectKind]] = {
    "TABLE": "table",
    "FOREIGN TABLE": "table",
    "MATERIALIZED VIEW": "table",
    "VIEW": "view",
    "INDEX": "index",
    "TYPE": "type",
    "DOMAIN": "type",
    "SEQUENCE": "sequence",
    "SCHEMA": "schema",
}
_ROUTINES: Final = frozenset({"FUNCTION", "PROCEDURE", "ROUTINE", "AGGREGATE"})
_ON_TABLE: Final = frozenset({"TRIGGER", "POLICY", "RULE"})
_OWN_KINDS: Final = frozenset(
    {"FUNCTION", "PROCEDURE", "AGGREGATE", "TRIGGER", "POLICY", "EXTENSION"}
)


class DropWithoutIfExists(Rule):
    id = "IDEM004"
    slug = "drop-without-if-exists"
    hint = "add IF EXISTS: DROP ... IF EXISTS name / ALTER TABLE t DROP COLUMN IF EXISTS c"
    starts = ("DROP", "ALTER", "CREATE")

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        made: dict[tuple[str, str], list[ObjectName | None]] = {}  # (kind, name) -> tables
        for stmt in ctx.starting_with(*self.starts):
            first = stmt.kw(0)
            if first == "CREATE":
                _record_creation(stmt, made)
            elif first == "DROP":
                yield from self._drop(stmt, ctx, made)
            elif stmt.starts_with("ALTER", "TABLE"):
                yield from self._alter_table(stmt, ctx, made)
            elif stmt.starts_with("ALTER", "DOMAIN|TYPE"):
                yield from self._alter_type(stmt, ctx)

    def _drop(
        self, stmt: Stmt, ctx: FileContext, made: dict[tuple[str, str], list[ObjectName | None]]
    ) -> Iterator[Finding]:
        if stmt.kw(1) == "OWNED" or stmt.has_words("IF", "EXISTS", depth=0) or guarded(ctx, stmt):
            return
        end = next((e for p in _LONG_KINDS if (e := stmt.match(f"DROP {p}")) is not None), 2)
        kind = " ".join(stmt.kws[1:end])
        at = end + 1 if stmt.kw(end) == "CONCURRENTLY" else end
        first = stmt.name_at(at)
        if first is None:
            return
        parts = Span(stmt, at, len(stmt)).split()
        names = [n for p in parts if (n := stmt.name_at(p.start)) is not None]
        if all(_created(ctx, stmt, kind, n, made) for n in names):
            return
        missing = next(n for n in names if not _created(ctx, stmt, kind, n, made))
        yield self.finding(
            ctx,
            stmt,
            f"DROP {kind} {sql(missing)} without IF EXISTS fails when the migration is "
            f"re-run after it ran ({kind.lower()} does not exist)",
            at=missing.start,
            hint=rewrite(stmt, first.start, "IF EXISTS"),
        )

    def _alter_table(
        self, stmt: Stmt, ctx: FileContext, made: dict[tuple[str, str], list[ObjectName | None]]
    ) -> Iterator[Finding]:
        alter = stmt.alter_table()
        if alter is None:
            return
        table = alter.name
        for action in alter.actions:
            added = _added(stmt, action)
            if added is not None:
                made.setdefault(added, []).append(table)
                continue
            dropped = _dropped(stmt, action)
            if dropped is None or guarded(ctx, stmt) or fresh_table(ctx, stmt, table):
                continue
            what, at = dropped
            name = stmt.name(at) or ""
            if any(t is not None and t.same(table) for t in made.get((what, name), ())):
                continue
            drop = f"DROP {what.upper()}"
            subject = f"{drop} {sql(name)}"
            rewrite = f"ALTER TABLE {sql(table)} {drop} IF EXISTS {sql(name)}"
            if what not in ("column", "constraint"):
                subject = f"ALTER COLUMN {sql(name)} {drop}"
                rewrite = f"ALTER TABLE {sql(table)} {subject} IF EXISTS"
            yield self.finding(
                ctx,
                stmt,
                f"{subject} on {sql(table)} without IF EXISTS fails when the migration is "
                "re-run after it ran",
                at=at,
                hint=rewrite,
            )

    def _alter_type(self, stmt: Stmt, ctx: FileContext) -> Iterator[Finding]:
        if guarded(ctx, stmt):
            return
        kind = stmt.kw(1)
        name = stmt.name_at(2)
        for i in range(3, len(stmt)):
            if stmt.kw(i) != "DROP" or stmt.depth(i) != 0:
                continue
            what = stmt.kw(i + 1)
            if what not in ("CONSTRAINT", "ATTRIBUTE") or stmt.starts_with(
                "IF", "EXISTS", at=i + 2
            ):
                continue
            item = stmt.name(i + 2)
            yield self.finding(
                ctx,
                stmt,
                f"DROP {what} {sql(item)} on {kind.lower()} {sql(name)} without IF EXISTS "
                "fails when the migration is re-run after it ran",
                at=i + 2,
                hint=f"ALTER {kind} {sql(name)} DROP {what} IF EXISTS {sql(item)}",
            )


def _created(
    ctx: FileContext,
    stmt: Stmt,
    kind: str,
    name: ObjectName,
    made: dict[tuple[str, str], list[ObjectName | None]],
) -> bool:
    """Whether this file created ``name`` (a ``kind``) before ``stmt``."""
    tracked = _TRACKED.get(kind)
    if tracked is not None:
        return ctx.created_before(stmt, tracked, name)
    group = "ROUTINE" if kind in _ROUTINES else kind
    tables = made.get((group, name.name), ())
    if kind in _ON_TABLE:
        on = stmt.find("ON", start=name.end, depth=0)
        table = stmt.name_at(on + 1) if on is not None else None
        return any(t is not None and table is not None and t.same(table) for t in tables)
    return bool(tables)


def _record_creation(stmt: Stmt, made: dict[tuple[str, str], list[ObjectName | None]]) -> None:
    """Note functions, procedures, triggers, policies and extensions created in the file
    (``CREATE [OR REPLACE] [CONSTRAINT] <kind> name``)."""
    at = next((i for i in range(1, 5) if stmt.kw(i) in _OWN_KINDS), None)
    name = stmt.name_from(at + 1) if at is not None else None
    if at is None or name is None:
        return
    kind = stmt.kw(at)
    table = None
    if kind in _ON_TABLE:
        on = stmt.find("ON", start=name.end, depth=0)
        table = stmt.name_at(on + 1) if on is not None else None
    made.setdefault(("ROUTINE" if kind in _ROUTINES else kind, name.name), []).append(table)


def _added(stmt: Stmt, action: Span) -> tuple[str, str] | None:
    """("column"|"constraint", name) of an ``ADD [COLUMN] c`` / ``ADD CONSTRAINT c`` action."""
    i = action.start
    if stmt.kw(i) != "ADD":
        return None
    if stmt.kw(i + 1) == "CONSTRAINT":
        name = stmt.name(i + 2)
        return ("constraint", name) if name else None
    if constraint_start(stmt.kw(i + 1), stmt.kw(i + 2)):
        return None
    i += 2 if stmt.kw(i + 1) == "COLUMN" else 1
    i += 3 if stmt.starts_with("IF", "NOT", "EXISTS", at=i) else 0
    name = stmt.name(i)
    return ("column", name) if name else None


def _dropped(stmt: Stmt, action: Span) -> tuple[str, int] | None:
    """(what, index of its name) of a drop action without IF EXISTS, else None."""
    i = action.start
    if stmt.kw(i) == "DROP":
        what = "constraint" if stmt.kw(i + 1) == "CONSTRAINT" else "column"
        i += 2 if stmt.kw(i + 1) in ("CONSTRAINT", "COLUMN") else 1
        if stmt.starts_with("IF", "EXISTS", at=i) or stmt.name(i) is None:
            return None
        return what, i
    if stmt.kw(i) != "ALTER":
        return None
    i += 2 if stmt.kw(i + 1) == "COLUMN" else 1
    drop = i + 1
    if stmt.kw(drop) != "DROP" or stmt.kw(drop + 1) not in ("IDENTITY", "EXPRESSION"):
        return None
    if stmt.starts_with("IF", "EXISTS", at=drop + 2):
        return None
    return stmt.kw(drop + 1).lower(), i
