"""A down file that leaves in place a table, column, index, type, constraint or rename.

## What it catches

Reported on the `.down.sql` file, once per object its `.up.sql` partner creates and the down
file does not undo:

| the up file                                   | the down file must                        |
|-----------------------------------------------|-------------------------------------------|
| `CREATE TABLE t` (not temporary)              | `DROP TABLE t`                            |
| `CREATE TYPE` / `CREATE DOMAIN d`             | `DROP TYPE` / `DROP DOMAIN d`             |
| `CREATE INDEX i ON t` (existing t)            | `DROP INDEX i`                            |
| `ALTER TABLE t ADD COLUMN c`                  | `ALTER TABLE t DROP COLUMN c`             |
| `ALTER TABLE t ADD CONSTRAINT k ...`          | `ALTER TABLE t DROP CONSTRAINT k`         |
| `ALTER TABLE t ALTER COLUMN c SET NOT NULL`   | `ALTER TABLE t ALTER COLUMN c DROP NOT NULL` |
| `RENAME [COLUMN] a TO b`, `RENAME CONSTRAINT` | rename `b` back to `a`                    |
| `ALTER TABLE/INDEX/TYPE/VIEW a RENAME TO b`   | rename `b` back to `a`                    |
| `ALTER TYPE t RENAME VALUE 'a' TO 'b'`        | rename the value back                     |

What else undoes it: `DROP TABLE t` undoes everything on `t` (its columns, indexes and
constraints; a partition goes with its parent); `DROP COLUMN c` undoes the indexes and
constraints that use `c`; `DROP ... CASCADE` of a referenced table or of a column's type
undoes the foreign keys and columns that depend on it; `DROP SCHEMA s CASCADE` undoes
everything created as `s.name`. Objects the up file creates and drops again, and sub-objects
of a table it creates, need nothing. Unnamed constraints and indexes are matched by the
names PostgreSQL gives them (`t_pkey`, `t_col_key`, `t_col_fkey`, `t_col_idx`).

Not reported: a down file marked `-- sqlmig:irreversible <reason>`, an up file with no
down file (that is CONV005), and what the rule does not track (functions, triggers, views,
sequences, extensions, data).

## Why it hurts

`sqlmig down` (and `redo`, and the round-trip check of `sqlmig test`) trusts the down file to
restore the previous schema. A forgotten `DROP COLUMN` leaves a column the old code does not
write, often `NOT NULL`, so after a rollback every INSERT of the old release fails; a
forgotten `DROP TABLE` or `DROP TYPE` makes the next `up` fail (or, with `IF NOT EXISTS`,
silently keep the old shape); a rename that is not reversed breaks every query of the old
release. These are found during the incident that needed the rollback.

## Example

```sql
-- 014_add_invoices.up.sql
CREATE TABLE IF NOT EXISTS invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
ALTER TABLE orders ADD COLUMN IF NOT EXISTS invoice_id bigint;

-- 014_add_invoices.down.sql
DROP TABLE IF EXISTS invoices;
```

## Use instead

```sql
-- 014_add_invoices.down.sql: undo in reverse order, idempotently
ALTER TABLE orders DROP COLUMN IF EXISTS invoice_id;
DROP TABLE IF EXISTS invoices;
```

When the change cannot be undone, say so on the down file's first line:
`-- sqlmig:irreversible <reason>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from sqlmig.errors import MigrationFileError
from sqlmig.lint.context import FileContext
from sqlmig.lint.model import RESERVED, ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._conv import (
    Constraint,
    added_column,
    added_constraint,
    alter_column,
    create_index,
    create_table,
    named_columns,
    type_words,
)

# ALTER <kind> a RENAME TO b: what a rename renames (an ALTER TABLE can rename an index).
_RELATIONS: Final = frozenset({"TABLE", "INDEX", "VIEW", "SEQUENCE", "MATERIALIZED", "FOREIGN"})
# The suffix of the name PostgreSQL gives an unnamed constraint of each kind.
_SUFFIX: Final = {
    "PRIMARY": "pkey",
    "UNIQUE": "key",
    "FOREIGN": "fkey",
    "CHECK": "check",
    "EXCLUDE": "excl",
    "NOT": "not_null",
}
_OPERATOR_WORDS: Final = RESERVED | {
    "IS",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "SIMILAR",
    "ISNULL",
    "NOTNULL",
}
_DROPPED: Final = {"TABLE": "table", "INDEX": "index", "TYPE": "type", "DOMAIN": "type"}


@dataclass
class _Made:
    """One thing the up file creates. ``kind``: table, type, index, column, constraint,
    not-null, or a rename (``rename:relation|column|constraint|type``, ``old`` -> ``name``).
    ``columns``: the columns an index or constraint uses; ``target``: a foreign key's
    referenced table, a partition's parent, a column's type."""

    kind: str
    name: str
    table: ObjectName | None = None
    obj: ObjectName | None = None  # a table's or type's own name
    old: str = ""
    columns: frozenset[str] = frozenset()
    target: ObjectName | None = None
    defaults: tuple[str, ...] = ()  # other names PostgreSQL may give it (`%`: any text)
    keyword: str = "TABLE"  # ALTER <keyword> of a renamed relation


@dataclass
class _Undone:
    """What the down file drops, and renames."""

    tables: list[tuple[ObjectName, bool]] = field(default_factory=list)  # (name, cascade)
    types: list[tuple[ObjectName, bool]] = field(default_factory=list)
    indexes: set[str] = field(default_factory=set)
    schemas: set[str] = field(default_factory=set)  # dropped with CASCADE
    columns: list[tuple[ObjectName, str]] = field(default_factory=list)
    constraints: list[tuple[ObjectName, str]] = field(default_factory=list)
    not_null: list[tuple[ObjectName, str]] = field(default_factory=list)
    renames: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, from, to)
    created: set[str] = field(default_factory=set)  # relations the down file (re)creates
    aliases: dict[str, str] = field(default_factory=dict)  # renamed relation: original name

    def rename(self, kind: str, old: str, new: str) -> None:
        self.renames.add((kind, old, new))
        if kind == "relation":
            self.aliases[new] = self.aliases.get(old, old)

    def originals(self, dropped: list[tuple[ObjectName, bool]]) -> list[tuple[ObjectName, bool]]:
        """The dropped names, plus what each was called before the down file renamed it
        (`RENAME TO backup` then `DROP TABLE backup` drops the original)."""
        out = list(dropped)
        for name, cascade in dropped:
            if name.name in self.aliases:
                original = ObjectName((self.aliases[name.name],), 0, 0, False)
                out.append((original, cascade))
        return out

    def table(self, name: ObjectName | None, cascade: bool = False) -> bool:
        if name is None:
            return False
        if name.schema is not None and name.schema in self.schemas:
            return True
        return any(n.same(name) and (c or not cascade) for n, c in self.tables)

    def on(self, pairs: list[tuple[ObjectName, str]], table: ObjectName, names: set[str]) -> bool:
        return any(t.same(table) and n in names for t, n in pairs)


class DownDoesNotReverseUp(Rule):
    id = "CONV006"
    slug = "down-does-not-reverse-up"
    severity = "warning"
    uses_partner = True
    hint = "undo each change of the up file in reverse order, with IF EXISTS"

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if ctx.kind != "down" or ctx.directives.irreversible is not None:
            return
        try:
            up = ctx.partner
        except MigrationFileError:  # the up file cannot be split: it is reported itself
            return
        if up is None:
            return
        undone = _undone(ctx)
        for made in _made(up):
            if not _covered(made, undone):
                what, undo = _describe(made)
                yield self.finding(
                    ctx,
                    None,
                    f"{up.path.name} {what}; this down file does not undo it",
                    hint=undo,
                )


# -- the up file ------------------------------------------------------------------------------


class _Up:
    """The up file read in order. An object it drops before creating one of the same name
    was replaced, not created: the down file cannot simply drop it (it would have to rebuild
    the old one), so it is not required."""

    def __init__(self) -> None:
        self.made: list[_Made] = []
        self.new_tables: list[ObjectName] = []
        self.replaced: set[tuple[str, str]] = set()

    def new(self, table: ObjectName) -> bool:
        return any(t.same(table) for t in self.new_tables)

    def add(self, made: _Made) -> None:
        if (made.kind, made.name) not in self.replaced:
            self.made.append(made)

    def forget(self, kind: str, name: str, table: ObjectName | None = None) -> bool:
        """Drop what the up file made and then removed itself; True when found (else the
        name was there before: remember it as replaced)."""
        before = len(self.made)
        self.made = [
            m
            for m in self.made
            if not (
                m.kind == kind
                and m.name == name
                and (table is None or m.table is None or m.table.same(table))
            )
        ]
        if len(self.made) == before:
            self.replaced.add((kind, name))
        return len(self.made) < before


def _made(up: FileContext) -> list[_Made]:
    state = _Up()
    for stmt in up.starting_with("CREATE", "ALTER", "DROP"):
        first = stmt.kw(0)
        if first == "CREATE":
            _up_create(stmt, state)
        elif first == "ALTER" and stmt.kw(1) == "TABLE":
            _up_alter_table(stmt, state)
        elif first == "ALTER":
            _up_rename(stmt, state)
        else:
            _up_drop(stmt, state)
    return state.made


def _up_create(stmt: Stmt, state: _Up) -> None:
    table = create_table(stmt)
    if table is not None:
        if not table.temporary:
            state.new_tables.append(table.name)
            state.add(_Made("table", table.name.name, obj=table.name, target=table.partition_of))
        return
    index = create_index(stmt)
    if index is not None:
        if not state.new(index.table):
            name = index.name.name if index.name else index.default_name
            columns = frozenset(named_columns(index.words))
            state.add(_Made("index", name, index.table, columns=columns))
        return
    created = stmt.name_at(2) if stmt.starts_with("CREATE", "TYPE|DOMAIN") else None
    if created is not None:
        state.add(_Made("type", created.name, obj=created))


def _up_alter_table(stmt: Stmt, state: _Up) -> None:
    alter = stmt.alter_table()
    if alter is None:
        return
    table = alter.name
    for action in alter.actions:
        if action.starts_with("RENAME", "TO"):
            _up_rename_table(stmt, action, table, state)
        elif not state.new(table):
            _up_action(action, table, state)


def _up_rename_table(stmt: Stmt, action: Span, table: ObjectName, state: _Up) -> None:
    new = stmt.name_at(action.start + 2)
    if new is None:
        return
    renamed = ObjectName((*table.parts[:-1], new.name), new.start, new.end, new.quoted)
    if state.new(table):
        state.new_tables.append(renamed)
        for made in state.made:
            if made.kind == "table" and made.obj is not None and made.obj.same(table):
                made.name, made.obj = new.name, renamed
    else:  # what the up file creates under the old name next replaces the table
        state.made.append(_Made("rename:relation", new.name, old=table.name, obj=renamed))
        state.replaced.add(("table", table.name))


def _up_action(action: Span, table: ObjectName, state: _Up) -> None:
    column = added_column(action)
    if column is not None:
        kind = type_words(column.type)
        target = ObjectName((kind[-1],), 0, 0, False) if kind else None
        state.add(_Made("column", column.name, table, target=target))
        return
    constraint = added_constraint(action)
    if constraint is not None:
        _up_constraint(constraint, table, state)
        return
    if action.starts_with("RENAME"):
        _up_rename_in_table(action, table, state)
    elif action.starts_with("DROP"):
        _up_drop_in_table(action, table, state)
    altered = alter_column(action)
    if altered is not None and action.find("SET", "NOT", "NULL") is not None:
        added = _Made("column", altered[1], table)
        if not any(_same(m, added) for m in state.made):
            state.made.append(_Made("not-null", altered[1], table))


def _same(made: _Made, other: _Made) -> bool:
    tables = made.table is not None and other.table is not None and made.table.same(other.table)
    return made.kind == other.kind and made.name == other.name and tables


def _up_constraint(constraint: Constraint, table: ObjectName, state: _Up) -> None:
    columns = {c for c in constraint.columns if c is not None}
    if constraint.kind in ("CHECK", "EXCLUDE"):
        columns |= named_columns(constraint.span)
    if constraint.using_index is not None:  # the index becomes the constraint's
        state.forget("index", constraint.using_index, table)
    suffix = _SUFFIX[constraint.kind]
    keys = "_".join(c for c in constraint.columns if c is not None)
    if constraint.kind == "CHECK":
        keys = _first_column(constraint.span)
    default = f"{table.name}_{keys}_{suffix}" if keys else f"{table.name}_{suffix}"
    if constraint.kind == "PRIMARY":
        default = f"{table.name}_pkey"
    made = _Made("constraint", constraint.name or default, table, columns=frozenset(columns))
    made.target = constraint.target
    if constraint.name is None:  # a CHECK is named after the first column it reads
        made.defaults = (f"{table.name}_%_{suffix}",) if constraint.kind == "CHECK" else ()
    state.add(made)


def _first_column(span: Span) -> str:
    """The first column a CHECK expression reads (what PostgreSQL names it after)."""
    stmt = span.stmt
    for i in range(span.start, span.end):
        name = stmt.name(i)
        keyword = stmt.kind(i) == "ident" and stmt.kw(i) in _OPERATOR_WORDS
        if name is not None and not keyword and stmt.kw(i + 1) not in ("(", "."):
            return name
    return ""


def _up_rename_in_table(action: Span, table: ObjectName, state: _Up) -> None:
    """RENAME [COLUMN] a TO b, RENAME CONSTRAINT a TO b."""
    stmt = action.stmt
    i = action.start + 1
    kind = "constraint" if action.kw(i) == "CONSTRAINT" else "column"
    i += 1 if action.kw(i) in ("COLUMN", "CONSTRAINT") else 0
    old, new = stmt.name(i), stmt.name(i + 2)
    if old is None or new is None or action.kw(i + 1) != "TO":
        return
    for made in state.made:
        if made.kind == kind and made.name == old and made.table and made.table.same(table):
            made.name = new
            return
    state.made.append(_Made(f"rename:{kind}", new, table, old=old))


def _up_drop_in_table(action: Span, table: ObjectName, state: _Up) -> None:
    constraint = action.kw(action.start + 1) == "CONSTRAINT"
    at = action.start + (2 if constraint or action.kw(action.start + 1) == "COLUMN" else 1)
    at += 2 if action.starts_with("IF", "EXISTS", at=at) else 0
    name = action.stmt.name(at)
    if name is not None:
        state.forget("constraint" if constraint else "column", name, table)


def _renaming(stmt: Stmt) -> tuple[str, ObjectName, str, str] | None:
    """``ALTER INDEX|VIEW|SEQUENCE|TYPE|DOMAIN a RENAME TO b`` -> (kind, a, a's name, b);
    ``ALTER TYPE t RENAME VALUE 'x' TO 'y'`` -> ("value", t, x, y)."""
    i = 2 if stmt.kw(1) in ("MATERIALIZED", "FOREIGN") else 1
    kind = "type" if stmt.kw(i) in ("TYPE", "DOMAIN") else "relation"
    old = stmt.name_from(i + 1)
    if old is None or (kind == "relation" and stmt.kw(i) not in _RELATIONS):
        return None
    if stmt.starts_with("RENAME", "TO", at=old.end):
        new = stmt.name(old.end + 2)
        return None if new is None else (kind, old, old.name, new)
    if kind == "type" and stmt.starts_with("RENAME", "VALUE", at=old.end):
        label, new = stmt.word(old.end + 2).value, stmt.word(old.end + 4).value
        if label is not None and new is not None and stmt.kw(old.end + 3) == "TO":
            return "value", old, label, new
    return None


def _up_rename(stmt: Stmt, state: _Up) -> None:
    renaming = _renaming(stmt)
    if renaming is None:
        return
    kind, obj, old, new = renaming
    for made in state.made:
        if kind != "value" and made.kind in ("index", "type", "table") and made.name == old:
            made.name = new
            return
    keyword = " ".join(stmt.kws[1 : 3 if stmt.kw(1) in ("MATERIALIZED", "FOREIGN") else 2])
    state.made.append(_Made(f"rename:{kind}", new, old=old, obj=obj, keyword=keyword))


def _up_drop(stmt: Stmt, state: _Up) -> None:
    kind = _DROPPED.get(stmt.kw(2) if stmt.kw(1) == "FOREIGN" else stmt.kw(1))
    if kind is None:
        return
    for name, _ in _drop_names(stmt, "TABLE|INDEX|TYPE|DOMAIN"):
        if state.forget(kind, name.name) and kind == "table":
            state.made = [m for m in state.made if m.table is None or not m.table.same(name)]


# -- the down file ----------------------------------------------------------------------------


def _drop_names(stmt: Stmt, kinds: str) -> list[tuple[ObjectName, bool]]:
    """``DROP <kind> [CONCURRENTLY] [IF EXISTS] a, b [CASCADE]``: (name, cascade) each."""
    at = stmt.match(f"DROP [FOREIGN] {kinds}")
    first = stmt.name_from(at) if at is not None else None
    if first is None:
        return []
    cascade = stmt.kw(len(stmt) - 1) == "CASCADE"
    parts = Span(stmt, first.start, len(stmt)).split()
    return [(n, cascade) for p in parts if (n := stmt.name_at(p.start)) is not None]


def _undone(down: FileContext) -> _Undone:
    out = _Undone()
    for stmt in down.starting_with("DROP", "ALTER", "CREATE"):
        if stmt.kw(0) == "ALTER":
            _down_alter(stmt, out)
            continue
        if stmt.kw(0) == "CREATE":
            created = create_table(stmt) or create_index(stmt)
            name = created.name if created is not None else None
            out.created |= {name.name} if name is not None else set()
            continue
        word = stmt.kw(2) if stmt.kw(1) == "FOREIGN" else stmt.kw(1)
        dropped = out.originals(_drop_names(stmt, "TABLE|INDEX|TYPE|DOMAIN|SCHEMA"))
        if word == "TABLE":
            out.tables += dropped
        elif word in ("TYPE", "DOMAIN"):
            out.types += dropped
        elif word == "INDEX":
            out.indexes |= {name.name for name, _ in dropped}
        elif word == "SCHEMA":
            out.schemas |= {name.name for name, cascade in dropped if cascade}
    return out


def _down_alter(stmt: Stmt, out: _Undone) -> None:
    alter = stmt.alter_table() if stmt.kw(1) == "TABLE" else None
    if alter is None:
        renaming = _renaming(stmt)
        if renaming is not None:
            out.rename(renaming[0], renaming[2], renaming[3])
        return
    for action in alter.actions:
        _down_action(action, alter.name, out)


def _down_action(action: Span, table: ObjectName, out: _Undone) -> None:
    stmt = action.stmt
    first, second = action.kw(action.start), action.kw(action.start + 1)
    if first == "DROP":
        at = action.start + (2 if second in ("CONSTRAINT", "COLUMN") else 1)
        at += 2 if action.starts_with("IF", "EXISTS", at=at) else 0
        name = stmt.name(at)
        if name is not None:
            pairs = out.constraints if second == "CONSTRAINT" else out.columns
            pairs.append((table, name))
    elif first == "RENAME":
        if second == "TO":
            out.rename("relation", table.name, stmt.name(action.start + 2) or "")
            return
        i = action.start + (2 if second in ("COLUMN", "CONSTRAINT") else 1)
        kind = "constraint" if second == "CONSTRAINT" else "column"
        out.rename(kind, stmt.name(i) or "", stmt.name(i + 2) or "")
    elif first == "ALTER" and action.find("DROP", "NOT", "NULL") is not None:
        target = alter_column(action)
        if target is not None:
            out.not_null.append((table, target[1]))


# -- matching ---------------------------------------------------------------------------------


def _covered(made: _Made, undone: _Undone) -> bool:
    kind = made.kind
    if kind.startswith("rename:"):
        what = kind.removeprefix("rename:")
        recreated = what == "relation" and made.old in undone.created
        return recreated or (what, made.name, made.old) in undone.renames
    if kind == "table":
        return undone.table(made.obj) or undone.table(made.target)
    if kind == "type":
        obj = made.obj
        schema_gone = obj is not None and obj.schema is not None and obj.schema in undone.schemas
        return schema_gone or any(obj is not None and n.same(obj) for n, _ in undone.types)
    table = made.table
    if table is None:
        return False
    if undone.table(table) or undone.on(undone.columns, table, set(made.columns)):
        return True
    if kind == "index":
        return made.name in undone.indexes
    if kind == "column":
        return undone.on(undone.columns, table, {made.name}) or _type_gone(made, undone)
    if kind == "constraint":
        dropped = undone.on(undone.constraints, table, {made.name}) or any(
            t.same(table) and _like(n, pattern)
            for t, n in undone.constraints
            for pattern in made.defaults
        )
        return dropped or undone.table(made.target, True)
    return undone.on(undone.not_null, table, {made.name}) or undone.on(
        undone.columns, table, {made.name}
    )


def _like(name: str, pattern: str) -> bool:
    """``pattern`` with one ``%`` standing for any text."""
    head, _, tail = pattern.partition("%")
    return name.startswith(head) and name.endswith(tail) and len(name) > len(head) + len(tail)


def _type_gone(made: _Made, undone: _Undone) -> bool:
    """A column whose type the down file drops with CASCADE goes with it."""
    target = made.target
    return target is not None and any(n.name == target.name and c for n, c in undone.types)


def _describe(made: _Made) -> tuple[str, str]:
    """(what the up file does, how to undo it)."""
    kind, name, table = made.kind, made.name, made.table
    if kind == "table":
        return f"creates table {made.obj}", f"DROP TABLE IF EXISTS {made.obj};"
    if kind == "type":
        return f"creates type {made.obj}", f"DROP TYPE IF EXISTS {made.obj};"
    if kind == "index":
        return f"creates index {name} on {table}", f"DROP INDEX CONCURRENTLY IF EXISTS {name};"
    if kind == "column":
        return f"adds column {table}.{name}", f"ALTER TABLE {table} DROP COLUMN IF EXISTS {name};"
    if kind == "constraint":
        undo = f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name};"
        return f"adds constraint {name} to {table}", undo
    if kind == "not-null":
        undo = f"ALTER TABLE {table} ALTER COLUMN {name} DROP NOT NULL;"
        return f"sets {table}.{name} NOT NULL", undo
    what = kind.removeprefix("rename:")
    if what == "relation":
        undo = f"ALTER {made.keyword} IF EXISTS {name} RENAME TO {made.old};"
        return f"renames {made.old} to {name}", undo
    if what == "type":
        return f"renames type {made.old} to {name}", f"ALTER TYPE {name} RENAME TO {made.old};"
    if what == "value":
        undo = f"ALTER TYPE {made.obj} RENAME VALUE '{name}' TO '{made.old}';"
        return f"renames value '{made.old}' of type {made.obj} to '{name}'", undo
    undo = f"ALTER TABLE {table} RENAME {what.upper()} {name} TO {made.old};"
    return f"renames {what} {table}.{made.old} to {name}", undo
