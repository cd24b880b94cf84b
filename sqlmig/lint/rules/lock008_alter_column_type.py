"""`ALTER COLUMN ... TYPE` on an existing table: usually a full rewrite under ACCESS EXCLUSIVE.

## What it catches

`ALTER TABLE t ALTER [COLUMN] c [SET DATA] TYPE newtype [USING ...]` on a table this file did
not create earlier, including inside a DO block. Not reported: the changes PostgreSQL makes
without touching the rows, when the old type is visible earlier in the same file (an
`ADD COLUMN` or an earlier type change of that column): `varchar(n)` to `varchar(m)` with
m >= n, to unbounded `varchar` or to `text`; `text` to unbounded `varchar`; `numeric(p, s)` to
`numeric(q, s)` with q >= p, or to unbounded `numeric`; `varbit(n)` to a wider one;
`timestamp(p)`, `timestamptz(p)`, `time(p)` to a higher or unbounded precision; `cidr` to
`inet`. Without the old type in view the change is reported: the linter cannot tell a
`varchar(50)` from an `integer`. `timestamp` to `timestamptz` is reported too: it rewrites
unless the session's TimeZone is UTC (PostgreSQL 12+), which the migration does not control.

## Why it hurts

Most type changes rewrite the whole table and rebuild every index on it while holding an
ACCESS EXCLUSIVE lock: no reads, no writes, for as long as copying the table takes (minutes
to hours on a large one), plus twice the table's disk space. Even a change without a rewrite
(shrinking a `varchar`) scans the table under that lock. Old application code that writes the
old type may also start failing.

## Example

```sql
ALTER TABLE orders ALTER COLUMN total_cents TYPE bigint;
```

## Use instead

Expand and contract, in separate migrations:

```sql
ALTER TABLE orders ADD COLUMN IF NOT EXISTS total_cents_new bigint;
-- a trigger copies total_cents into total_cents_new on INSERT/UPDATE;
-- backfill existing rows in batches; switch the application to the new column;
-- then drop the old column and rename the new one.
```

For a wider `varchar`, use `text` (optionally with a `CHECK (char_length(c) <= n) NOT VALID`)
or widen it: these need no rewrite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import RESERVED, ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._constraint_actions import altered_column, existing_table

_ALIASES: Final = {
    "character varying": "varchar",
    "char varying": "varchar",
    "decimal": "numeric",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "bit varying": "varbit",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "character": "bpchar",
    "char": "bpchar",
}
_LENGTH_TYPES: Final = frozenset(
    {"varchar", "varbit", "timestamp", "timestamptz", "time", "timetz"}
)
# Words that end a column's type in ADD COLUMN.
_AFTER_TYPE: Final = frozenset(
    {"CONSTRAINT", "NOT", "NULL", "DEFAULT", "CHECK", "REFERENCES", "UNIQUE", "PRIMARY"}
    | {"GENERATED", "COLLATE", "USING", "COMPRESSION", "STORAGE"}
)


class ColumnType(NamedTuple):
    base: str  # lower case, aliases resolved: "varchar", "numeric", "bigint"
    mods: tuple[int, ...]  # (n) of varchar(n), (p, s) of numeric(p, s)
    array: bool

    def __str__(self) -> str:
        mods = f"({', '.join(map(str, self.mods))})" if self.mods else ""
        return f"{self.base}{mods}{'[]' if self.array else ''}"


def column_type(span: Span) -> ColumnType | None:
    """The type written in ``span`` (``character varying(20)``, ``numeric(10,2)``, ``int[]``)."""
    stmt = span.stmt
    words: list[str] = []
    mods: list[int] = []
    array = False
    i = span.start
    while i < span.end:
        kw = stmt.kw(i)
        if kw == "(":
            close = span.group_end(i)
            mods += [
                int(stmt.word(j).text) for j in range(i + 1, close) if stmt.kind(j) == "number"
            ]
            i = close
        elif kw in ("[", "ARRAY"):
            array = True
        elif stmt.name(i) is not None:
            words.append(stmt.name(i) or "")
        elif kw not in ("]", ".") and stmt.kind(i) != "number":
            return None
        i += 1
    if not words:
        return None
    name = " ".join(w for w in words if w != "pg_catalog")
    return ColumnType(_ALIASES.get(name, name), tuple(mods), array)


def rewrites(old: ColumnType, new: ColumnType) -> bool:
    """Whether changing ``old`` to ``new`` rewrites (or scans) the table."""
    if old == new:
        return False
    if old.array or new.array:
        return True
    pair = (old.base, new.base)
    if pair in (("varchar", "text"), ("cidr", "inet")) or (
        pair == ("text", "varchar") and not new.mods
    ):
        return False
    if old.base != new.base:
        return True
    if not new.mods:
        return old.base not in _LENGTH_TYPES | {"numeric"}
    if not old.mods:
        return True
    if old.base == "numeric":
        old_scale = old.mods[1] if len(old.mods) > 1 else 0
        new_scale = new.mods[1] if len(new.mods) > 1 else 0
        return new_scale != old_scale or new.mods[0] < old.mods[0]
    return old.base not in _LENGTH_TYPES or new.mods[0] < old.mods[0]


class _Change(NamedTuple):
    stmt: Stmt
    table: ObjectName
    column: str
    new: ColumnType
    at: int | None  # the TYPE word; None for ADD COLUMN (its type, to compare later)
    using: bool


class AlterColumnType(Rule):
    id = "LOCK008"
    slug = "alter-column-type"
    uses_partner = True  # the other file of the pair tells the type before the change
    hint = (
        "add a new column, dual-write with a trigger, backfill in batches, switch reads, "
        "drop the old column"
    )
    starts = ("ALTER",)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not any("TYPE" in stmt.kws for stmt in ctx.starting_with("ALTER")):
            return
        changes = _changes(ctx, new_tables=False)
        known: dict[tuple[str, str], list[tuple[ObjectName, ColumnType]]] = {}
        # A down file starts from the types its up file left; an up file from the types its
        # down file restores.
        partner = ctx.partner
        for c in _changes(partner, new_tables=True) if partner is not None else ():
            if ctx.kind == "down" or c.at is not None:
                known.setdefault((c.table.name, c.column), []).append((c.table, c.new))
        for c in changes:
            entries = known.setdefault((c.table.name, c.column), [])
            old = next((t for n, t in reversed(entries) if n.same(c.table)), None)
            entries.append((c.table, c.new))
            if c.at is not None and (old is None or rewrites(old, c.new) or c.using):
                yield self._finding(ctx, c, old)

    def _finding(self, ctx: FileContext, c: _Change, old: ColumnType | None) -> Finding:
        change = f"from {old} to {c.new}" if old is not None else f"to {c.new}"
        return self.finding(
            ctx,
            c.stmt,
            f"changing the type of {c.table}.{c.column} {change} rewrites the table and its "
            "indexes under an ACCESS EXCLUSIVE lock (no reads or writes meanwhile)",
            at=c.at or 0,
            hint=f"add {c.column}_new {c.new}, fill it by trigger and batched backfill, switch "
            f"to it, then drop {c.column}; or widen without a rewrite (varchar(n) -> text)",
        )


def _changes(ctx: FileContext, *, new_tables: bool) -> Iterator[_Change]:
    """Every column type an `ALTER TABLE` sets (TYPE) or declares (ADD COLUMN), in order."""
    for stmt in ctx.starting_with("ALTER"):
        alter = stmt.alter_table() if new_tables else existing_table(stmt, ctx, "TYPE", "ADD")
        for action in alter.actions if alter is not None else ():
            found = _change(action) or _added(action)
            if alter is not None and found is not None:
                column, new, at = found
                yield _Change(
                    stmt, alter.name, column, new, at, at is not None and _using(action, at)
                )


def _change(action: Span) -> tuple[str, ColumnType, int | None] | None:
    """`ALTER [COLUMN] c [SET DATA] TYPE t [COLLATE x] [USING e]`: (c, t, index of TYPE)."""
    altered = altered_column(action)
    if altered is None:
        return None
    column, i = altered
    after = action.match("[SET DATA] TYPE", at=i)
    if after is None:
        return None
    new = column_type(Span(action.stmt, after, _type_end(action, after)))
    return (column, new, after - 1) if new is not None else None


def _added(action: Span) -> tuple[str, ColumnType, int | None] | None:
    """`ADD [COLUMN] [IF NOT EXISTS] c type ...`: the column's type, to compare later."""
    if action.kw(action.start) != "ADD":
        return None
    i = action.start + 1 + (action.kw(action.start + 1) == "COLUMN")
    i += 3 if action.starts_with("IF", "NOT", "EXISTS", at=i) else 0
    if action.kw(i) in RESERVED or action.kw(i) == "EXCLUDE":  # a table constraint
        return None
    column = action.stmt.name(i) if i < action.end else None
    if column is None:
        return None
    new = column_type(Span(action.stmt, i + 1, _type_end(action, i + 1)))
    return (column, new, None) if new is not None else None


def _type_end(action: Span, i: int) -> int:
    level = action.stmt.depth(action.start)
    for j in range(i, action.end):
        if action.kw(j) in _AFTER_TYPE and action.stmt.depth(j) == level:
            return j
    return action.end


def _using(action: Span, at: int) -> bool:
    """A USING expression: PostgreSQL rewrites through it."""
    return action.find("USING", start=at, depth=action.stmt.depth(action.start)) is not None
