"""A foreign key with no index on its columns: deleting a referenced row scans the table.

## What it catches

A foreign key (`REFERENCES` on a column, `FOREIGN KEY (cols) REFERENCES` in `CREATE TABLE`,
`ALTER TABLE ... ADD [CONSTRAINT c] FOREIGN KEY`, `ADD COLUMN ... REFERENCES`, inside DO
blocks too) when no index of the referencing table has exactly the foreign-key columns as
its leading columns (in any order: an index on `(b, a, c)` serves a key on `(a, b)`). A
primary key or unique constraint counts as the index it builds. Indexes are looked for in
the whole file (before or after the key) and in the earlier migrations of the same folder,
minus those dropped since (`DROP INDEX`, `DROP CONSTRAINT`, `DROP TABLE`). Expression
indexes (`lower(col)`) do not count; a partial index on the columns does (only its key
columns are read). Temporary tables are not reported: they are gone when the session ends.

## Why it hurts

PostgreSQL indexes the referenced side (it must be a primary key or unique) but never the
referencing side. When a row of the parent is deleted, or its key updated, the foreign-key
trigger looks for the child rows (`SELECT 1 FROM ONLY child WHERE fk_col = $1 FOR KEY
SHARE`, or the `DELETE`/`UPDATE` of `ON DELETE CASCADE` / `SET NULL`): without an index that
is a sequential scan of the child, once per parent row, while the parent's transaction holds
its row locks. A `DELETE FROM users WHERE ...` of a thousand users then reads the whole
`orders` table a thousand times. Joins from the parent to its children need the same
index.

## Example

```sql
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
```

## Use instead

```sql
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
```

(The `CONCURRENTLY` build runs outside a transaction, so it belongs in its own migration or
before the constraint in a segmented file; on a table created in the same file, a plain
`CREATE INDEX IF NOT EXISTS` is fine.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlmig.lint.context import FileContext
from sqlmig.lint.model import ObjectName, Span, Stmt
from sqlmig.lint.rule import Finding, Rule
from sqlmig.lint.rules._conv import (
    Column,
    Constraint,
    added_column,
    added_constraint,
    create_index,
    table_of,
)

Columns = tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class _Fk:
    stmt: Stmt
    at: int
    table: ObjectName
    columns: tuple[str, ...]
    new_table: bool


@dataclass
class _Keys:
    """What one file does to the indexes of its tables."""

    by_table: dict[str, list[tuple[str, Columns]]] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)  # index and constraint names
    dropped_tables: set[str] = field(default_factory=set)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # table (old, new)
    fks: list[_Fk] = field(default_factory=list)

    def add(self, table: str, name: str, columns: Columns) -> None:
        self.by_table.setdefault(table, []).append((name, columns))

    def drop(self, names: set[str]) -> None:
        """Indexes or constraints dropped: gone from this file, and from earlier ones."""
        self.dropped |= names
        for table, keys in self.by_table.items():
            self.by_table[table] = [(n, key) for n, key in keys if n not in names]

    def drop_tables(self, names: set[str]) -> None:
        self.dropped_tables |= names
        for name in names:
            self.by_table.pop(name, None)

    def covers(self, tables: set[str], columns: tuple[str, ...], dropped: set[str]) -> bool:
        return any(
            name not in dropped and leads(key, columns)
            for table in tables
            for name, key in self.by_table.get(table, ())
        )


class _History:
    """The indexes the up files of a folder create and drop, by position (oldest first),
    scanned once per run however many files ask: a question is then about one table."""

    def __init__(self) -> None:
        self.files = 0
        self.keys: dict[str, list[tuple[int, str, Columns]]] = {}  # table: (file, name, cols)
        self.drops: dict[str, list[int]] = {}  # index or constraint name: files
        self.table_drops: dict[str, list[int]] = {}
        self.renames: list[tuple[int, str, str]] = []  # (file, old, new)

    def extend(self, earlier: list[FileContext]) -> None:
        for at in range(self.files, len(earlier)):
            keys = _scan(earlier[at])
            for table, entries in keys.by_table.items():
                self.keys.setdefault(table, []).extend((at, n, cols) for n, cols in entries)
            for name in keys.dropped:
                self.drops.setdefault(name, []).append(at)
            for name in keys.dropped_tables:
                self.table_drops.setdefault(name, []).append(at)
            self.renames += [(at, old, new) for old, new in keys.renamed]
        self.files = max(self.files, len(earlier))

    def covers(self, fk: _Fk, before: int, dropped_since: set[str]) -> bool:
        """Whether an index made by files ``0..before-1`` still covers the key: not dropped
        by a later one of them, nor by the file itself (``dropped_since``)."""
        tables = {fk.table.name}
        for at, old, new in reversed(self.renames):
            if at < before and new in tables:
                tables.add(old)
        for table in tables:
            gone = self.table_drops.get(table, ())
            for at, name, key in self.keys.get(table, ()):
                if at >= before or name in dropped_since or not leads(key, fk.columns):
                    continue
                later = (*self.drops.get(name, ()), *gone)
                if not any(at < d < before for d in later):
                    return True
        return False


_HISTORIES: WeakKeyDictionary[FileContext, _History] = WeakKeyDictionary()  # by first file


class ForeignKeyWithoutIndex(Rule):
    id = "CONV001"
    slug = "foreign-key-without-index"
    severity = "warning"
    hint = "CREATE INDEX CONCURRENTLY IF NOT EXISTS table_col_idx ON table (fk_col)"
    starts = ("CREATE", "ALTER", "DROP")

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        keys = _scan(ctx)
        history: tuple[_History, int] | None = None
        for fk in keys.fks:
            if keys.covers({fk.table.name}, fk.columns, set()):
                continue
            history = history or _history(ctx)
            if history[0].covers(fk, history[1], keys.dropped):
                continue
            cols = ", ".join(fk.columns)
            index = f"{fk.table.name}_{'_'.join(fk.columns)}_idx"
            how = "" if fk.new_table else "CONCURRENTLY "
            yield self.finding(
                ctx,
                fk.stmt,
                f"foreign key {fk.table}({cols}) has no index leading with ({cols}): deleting "
                f"or updating a referenced row scans {fk.table}",
                at=fk.at,
                hint=f"CREATE INDEX {how}IF NOT EXISTS {index} ON {fk.table} ({cols})",
            )


def leads(key: Columns, columns: tuple[str, ...]) -> bool:
    """Whether the index ``key`` has exactly ``columns`` as its leading columns."""
    head = key[: len(columns)]
    return len(head) == len(columns) and None not in head and set(head) == set(columns)


def _history(ctx: FileContext) -> tuple[_History, int]:
    """The folder's history (shared by its files) and how many files precede this one."""
    earlier = ctx.earlier_files()
    if not earlier:
        return _History(), 0
    history = _HISTORIES.get(earlier[0])
    if history is None:
        history = _HISTORIES[earlier[0]] = _History()
    history.extend(earlier)
    return history, len(earlier)


def _scan(ctx: FileContext) -> _Keys:
    keys = _Keys()
    for stmt in ctx.starting_with("CREATE", "ALTER", "DROP"):
        first = stmt.kw(0)
        if first == "CREATE":
            _create(ctx, stmt, keys)
        elif first == "ALTER":
            _alter(ctx, stmt, keys)
        elif stmt.starts_with("DROP", "INDEX|TABLE"):
            _drop(stmt, keys)
    return keys


def _create(ctx: FileContext, stmt: Stmt, keys: _Keys) -> None:
    index = create_index(stmt)
    if index is not None:
        name = index.name.name if index.name is not None else ""
        keys.add(index.table.name, name, index.columns)
        return
    table = table_of(ctx, stmt)
    if table is None or table.temporary:  # a scratch table: gone at session end
        return
    for column in table.columns:
        _column(stmt, table.name, column, keys, new_table=True)
    for constraint in table.constraints:
        _constraint(stmt, table.name, constraint, keys, new_table=True)


def _alter(ctx: FileContext, stmt: Stmt, keys: _Keys) -> None:
    alter = stmt.alter_table()
    if alter is None:
        return
    new = ctx.created_before(stmt, "table", alter.name)
    for action in alter.actions:
        column = added_column(action)
        constraint = added_constraint(action) if column is None else None
        if column is not None:
            _column(stmt, alter.name, column, keys, new_table=new)
        elif constraint is not None:
            _constraint(stmt, alter.name, constraint, keys, new_table=new)
        elif action.starts_with("DROP", "CONSTRAINT"):
            dropped = action.name_from(action.start + 2)
            keys.drop({dropped.name} if dropped is not None else set())
        elif action.starts_with("RENAME", "TO"):
            renamed = action.stmt.name(action.start + 2)
            keys.renamed += [(alter.name.name, renamed)] if renamed is not None else []


def _column(stmt: Stmt, table: ObjectName, column: Column, keys: _Keys, new_table: bool) -> None:
    for kind, suffix in (("PRIMARY", "pkey"), ("UNIQUE", f"{column.name}_key")):
        if column.find(kind) is not None:
            keys.add(table.name, f"{table.name}_{suffix}", (column.name,))
    at = column.references()
    if at is not None:
        keys.fks.append(_Fk(stmt, at, table, (column.name,), new_table))


def _constraint(
    stmt: Stmt, table: ObjectName, constraint: Constraint, keys: _Keys, new_table: bool
) -> None:
    columns = constraint.columns
    if constraint.kind == "FOREIGN" and columns and None not in columns:
        names = tuple(c for c in columns if c is not None)
        keys.fks.append(_Fk(stmt, constraint.at, table, names, new_table))
    elif constraint.kind in ("PRIMARY", "UNIQUE", "EXCLUDE") and columns:
        suffix = "pkey" if constraint.kind == "PRIMARY" else "key"
        keys.add(table.name, constraint.name or f"{table.name}_{suffix}", columns)


def _drop(stmt: Stmt, keys: _Keys) -> None:
    first = stmt.name_from(2)
    if first is None:
        return
    names = {
        n.name for p in Span(stmt, first.start, len(stmt)).split() if (n := p.name_at(p.start))
    }
    if stmt.kw(1) == "INDEX":
        keys.drop(names)
    else:
        keys.drop_tables(names)
